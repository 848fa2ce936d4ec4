"""Load everything a lint needs before the service reports ready, so the first hook call is as fast as the
hundredth (issue 8 §5): profiles and terminology (read once, cached), the pint unit registry (the fallback
for units outside the precomputed table), the fhir.resources models of the strict path and of suggestion
validation, the request schema, and the templates of the pages.

It does so by linting one synthetic order-sign request (no real patient, nothing recorded, nothing logged)
through the same functions a hook call uses, in fast and strict mode, and rendering its cards. Python caches
imports, compiled models and regexes per process, so one pass warms every later request.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterable
from functools import partial
from typing import Any

from linter import heap
from linter.api.routes.rules import rule_url
from linter.api.schemas import HookRequest
from linter.docs import rule_markdown
from linter.engine import run as run_engine
from linter.fhir_io import Mode, order_set_from_hook
from linter.profiles import Profile
from linter.render.cards import cards_response
from linter.render.html import TEMPLATES_DIR, environment, markdown
from linter.terminology import terminology
from linter.units import warm_registry

log = logging.getLogger("orderlint.api.warmup")

_RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
_UCUM = "http://unitsofmeasure.org"
_SCT = "http://snomed.info/sct"
_PATIENT = "warmup"


def _med(order_id: str, code: str, dose: float, unit: str, route: str, per_day: int | None) -> dict[str, Any]:
    dosage: dict[str, Any] = {
        "route": {"coding": [{"system": _SCT, "code": route}]},
        "doseAndRate": [{"doseQuantity": {"value": dose, "system": _UCUM, "code": unit}}],
    }
    if per_day:
        dosage["timing"] = {"repeat": {"frequency": per_day, "period": 1, "periodUnit": "d"}}
    return {
        "resourceType": "MedicationRequest",
        "id": order_id,
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": _RXNORM, "code": code}]},
        "subject": {"reference": f"Patient/{_PATIENT}"},
        "dosageInstruction": [dosage],
    }


def sample_request() -> dict[str, Any]:
    """An order-sign request that exercises dose conversion (units, mg, a tablet count), per-kg arithmetic,
    regimen rules, procedure context and suggestions (update and create)."""
    drafts = [
        _med("hep", "5224", 15000, "[iU]", "47625008", None),  # heparin bolus at 70 kg: HEP201 + suggestion
        _med("riva", "2059015", 2.5, "mg", "26643006", 1),  # rivaroxaban 2.5 mg once daily: AT106
        _med("asa", "243670", 1, "{tbl}", "26643006", 1),  # aspirin 81 mg tablet x 1
        {
            "resourceType": "ServiceRequest",
            "id": "pta",
            "status": "draft",
            "intent": "order",
            "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "37228"}]},
            "subject": {"reference": f"Patient/{_PATIENT}"},
        },
    ]
    weight = {
        "resourceType": "Observation",
        "id": "wt",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
        "subject": {"reference": f"Patient/{_PATIENT}"},
        "effectiveDateTime": "2026-01-01T08:00:00Z",
        "valueQuantity": {"value": 70, "system": _UCUM, "code": "kg"},
    }
    pad = {
        "resourceType": "Condition",
        "id": "pad",
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I70.229"}]},
        "subject": {"reference": f"Patient/{_PATIENT}"},
    }

    def searchset(*resources: dict[str, Any]) -> dict[str, Any]:
        return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}

    return {
        "hook": "order-sign",
        "hookInstance": "00000000-0000-4000-8000-000000000000",
        "context": {
            "userId": "Practitioner/warmup",
            "patientId": _PATIENT,
            "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in drafts]},
        },
        "prefetch": {
            "patient": {"resourceType": "Patient", "id": _PATIENT, "birthDate": "1950-01-01"},
            "weight": searchset(weight),
            "conditions": searchset(pad),
            "medications": searchset(),
            "procedures": searchset(),
            "goals": searchset(),
        },
    }


def warm(profiles: Iterable[Profile]) -> dict[str, Any]:
    """Lint the sample with every profile in both modes and render its cards and a rule page; returns what
    was warmed and how long it took (logged once at start-up, for the operator)."""
    began = time.perf_counter()
    terminology().compile_patterns()  # every phrase pattern, not only those the sample's words reach
    warm_registry()
    body = sample_request()
    HookRequest.model_validate(body)
    cards = 0
    modes: tuple[Mode, ...] = ("fast", "strict")
    for profile in profiles:
        link = partial(rule_url, "http://localhost", profile_id=profile.id)
        for mode in modes:
            read = order_set_from_hook(body, prefetch=body["prefetch"], mode=mode)
            findings = run_engine(read.order_set, profile)
            response = cards_response(findings, read.order_set, profile, rule_url=link, originals=read.originals)
            cards += len(response["cards"])
        markdown(rule_markdown("HEP201", profile))
    env = environment()
    for template in sorted(TEMPLATES_DIR.glob("*.html")):
        env.get_template(template.name)
    # Start-up allocated hundreds of thousands of long-lived objects (modules, FHIR models, the unit registry):
    # collect once now and move them out of the collector's view, or the first full collection, triggered by
    # some early request, scans them all on that request's time. A request then allocates thousands of
    # containers: the young generation is collected every 50,000 allocations, not 700 (linter.heap; ~0.1 ms
    # a request measured in process).
    gc.collect()
    heap.settle()
    seconds = time.perf_counter() - began
    log.info("warmed up in %.2f s (%d sample cards)", seconds, cards)
    return {"seconds": seconds, "cards": cards}
