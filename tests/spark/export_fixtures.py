"""The rule fixtures as one Bulk Data export: each fixture Bundle becomes one patient (ids prefixed so they are
unique across the export, references rewritten, a subject added where a fixture leaves it implicit), resources
written as NDJSON per type (MedicationRequests gzipped), plus unreadable lines."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from linter.orderset_definition import is_definition
from tests.fixture_cases import fixture_files

SUBJECT_TYPES = {"MedicationRequest", "ServiceRequest", "Procedure", "Observation", "Condition", "Goal",
                 "MedicationStatement"}  # fmt: skip
BAD_LINES = ["{not json", '"a string"', '{"resourceType": 7}']


def _rewrite(value: Any, refs: dict[str, str]) -> Any:
    if isinstance(value, dict):
        out = {k: _rewrite(v, refs) for k, v in value.items()}
        ref = out.get("reference")
        if isinstance(ref, str) and ref in refs:
            out["reference"] = refs[ref]
        return out
    if isinstance(value, list):
        return [_rewrite(v, refs) for v in value]
    return value


def bundle_patient(k: int, bundle: dict[str, Any]) -> list[dict[str, Any]]:
    prefix = f"f{k}-"
    entries = [e for e in bundle.get("entry") or [] if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
    refs: dict[str, str] = {}
    resources = []
    for n, e in enumerate(entries):
        r = dict(e["resource"])
        rtype = r.get("resourceType")
        if not isinstance(rtype, str) or rtype == "Bundle":
            continue
        old = r.get("id") if isinstance(r.get("id"), str) else f"n{n}"
        r["id"] = prefix + old
        refs[f"{rtype}/{old}"] = f"{rtype}/{r['id']}"
        if isinstance(e.get("fullUrl"), str):
            refs[e["fullUrl"]] = f"{rtype}/{r['id']}"
        resources.append(r)
    patient = next((r for r in resources if r["resourceType"] == "Patient"), None)
    subject = f"Patient/{patient['id']}" if patient else f"Patient/{prefix}anon"
    out = []
    for r in resources:
        r = _rewrite(r, refs)
        if r["resourceType"] in SUBJECT_TYPES and "subject" not in r and "patient" not in r:
            r["subject"] = {"reference": subject}
        out.append(r)
    return out


def write_fixture_export(out: Path) -> Path:
    by_type: dict[str, list[str]] = {}
    k = 0
    for path in fixture_files():
        doc = json.loads(path.read_text())
        if not isinstance(doc, dict) or doc.get("resourceType") != "Bundle" or is_definition(doc):
            continue  # CDS Hooks requests, single resources and order-set definitions are not export material
        k += 1
        for r in bundle_patient(k, doc):
            by_type.setdefault(r["resourceType"], []).append(json.dumps(r))
    by_type.setdefault("MedicationRequest", []).extend(BAD_LINES)
    out.mkdir(parents=True, exist_ok=True)
    for rtype, lines in by_type.items():
        text = "\n".join(lines) + "\n"
        if rtype == "MedicationRequest":
            with gzip.open(out / f"{rtype}.000.ndjson.gz", "wt", encoding="utf-8") as fh:
                fh.write(text)
        else:
            (out / f"{rtype}.000.ndjson").write_text(text, encoding="utf-8")
    return out
