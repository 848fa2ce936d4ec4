"""Conditions of a realistic patient: the fixtures' Conditions plus a Synthea-like history.

The history has Synthea's shape (US Core encounter diagnoses with clinical and verification status, onset,
abatement, recorded date, encounter reference), with most records resolved, as in a long record. Its codes are
from a synthetic test code system, on purpose: they never match a rule's category (they neither fire nor
silence a rule) and no code the rules do not cite enters the project.
"""

from __future__ import annotations

import copy
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
SYNTHETIC_SYSTEM = "https://orderlint.dev/test/CodeSystem/synthetic-condition"
US_CORE_DIAGNOSIS = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-condition-encounter-diagnosis"
_WORDS = ("acute", "chronic", "recurrent", "mild", "viral", "seasonal", "minor", "benign", "postoperative")
_SITES = ("sinus", "throat", "knee", "shoulder", "skin", "ankle", "ear", "wrist", "back", "eye")


def condition(
    cid: str,
    patient_id: str,
    code: str,
    display: str,
    *,
    clinical: str | None = "active",
    verification: str | None = "confirmed",
    system: str = ICD10CM,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": cid,
        "code": {"coding": [{"system": system, "code": code, "display": display}], "text": display},
        "subject": {"reference": f"Patient/{patient_id}"},
    }
    if clinical is not None:
        resource["clinicalStatus"] = {"coding": [{"system": CLINICAL, "code": clinical}]}
    if verification is not None:
        resource["verificationStatus"] = {"coding": [{"system": VERIFICATION, "code": verification}]}
    return resource


def history_records(patient_id: str) -> list[dict[str, Any]]:
    """The history AT115 and HEP206 read, recorded as EHRs record it: resolved, coded (ICD-10-CM codes from
    clinical-kb.md §6) or named in text only. Plus a refuted TIA, which is not a fact and must stay silent."""
    text_only = condition("hx-tia-text", patient_id, "x", "x", clinical="inactive")
    text_only["code"] = {"text": "Transient ischemic attack"}
    return [
        condition(
            "hx-tia", patient_id, "G45.9", "Transient cerebral ischemic attack, unspecified", clinical="resolved"
        ),
        condition("hx-stroke", patient_id, "I63.9", "Cerebral infarction, unspecified", clinical="resolved"),
        condition(
            "hx-hit", patient_id, "D75.822", "Immune-mediated heparin-induced thrombocytopenia", clinical="resolved"
        ),
        text_only,
        condition(
            "hx-tia-refuted",
            patient_id,
            "G45.9",
            "Transient cerebral ischemic attack, unspecified",
            clinical="resolved",
            verification="refuted",
        ),
    ]


def fixture_conditions(patient_id: str) -> list[dict[str, Any]]:
    """Every distinct Condition in fixtures/ (26 today), re-homed to `patient_id` with fresh ids."""
    seen: dict[str, dict[str, Any]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("resourceType") == "Condition":
                body = {k: v for k, v in node.items() if k not in ("id", "subject")}
                seen.setdefault(json.dumps(body, sort_keys=True), body)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in sorted(FIXTURES.rglob("*.json")):
        if not path.name.endswith(".expected.json"):
            walk(json.loads(path.read_text()))
    out = []
    for n, body in enumerate(seen.values()):
        resource = copy.deepcopy(body)
        resource["id"] = f"{patient_id}-fx-{n:03d}"
        resource["subject"] = {"reference": f"Patient/{patient_id}"}
        out.append(resource)
    return out


def synthea_like_history(count: int, patient_id: str, seed: int = 7, prefix: str = "syn") -> list[dict[str, Any]]:
    """`count` Conditions in Synthea's shape: about 3 in 4 resolved (with abatement), the rest active."""
    rng = random.Random(seed)
    start = datetime(1975, 1, 1, tzinfo=UTC)
    out = []
    for n in range(count):
        onset = start + timedelta(days=rng.randrange(0, 50 * 365), seconds=rng.randrange(0, 86400))
        resolved = rng.random() < 0.75
        display = f"{rng.choice(_WORDS).capitalize()} synthetic finding of {rng.choice(_SITES)} {n:03d} (disorder)"
        resource = condition(
            f"{patient_id}-{prefix}-{n:04d}",
            patient_id,
            f"{990000000 + n}",
            display,
            clinical="resolved" if resolved else "active",
            system=SYNTHETIC_SYSTEM,
        )
        resource["meta"] = {"profile": [US_CORE_DIAGNOSIS]}
        resource["category"] = [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": "encounter-diagnosis",
                        "display": "Encounter Diagnosis",
                    }
                ]
            }
        ]
        resource["encounter"] = {"reference": f"Encounter/enc-{rng.getrandbits(64):016x}"}
        resource["onsetDateTime"] = onset.isoformat(timespec="seconds")
        resource["recordedDate"] = onset.isoformat(timespec="seconds")
        if resolved:
            abated = onset + timedelta(days=rng.randrange(7, 60))
            resource["abatementDateTime"] = abated.isoformat(timespec="seconds")
        out.append(resource)
    return out
