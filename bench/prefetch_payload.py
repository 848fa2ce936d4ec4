"""Condition prefetch: payload size and lint cost of asking for all Conditions vs active + history codes.

    python bench/prefetch_payload.py [--history 50,100,200] [--rounds 30]

A strict loopback FHIR server (tests/api/fhir_server.py: it filters exactly as the query says) holds a
realistic patient (tests/api/patient_history.py): the distinct Conditions in fixtures/ (those of a stroke, TIA
or HIT left out), the history the rules read (a resolved TIA G45.9, a resolved stroke I63.9, a resolved HIT
D75.822, an inactive TIA named in text only, and a refuted TIA) and a Synthea-shaped history of N Conditions.
Each query is run as an EHR filling the template would run it (all pages read, merged into one searchset
Bundle), and the Bundle's compact JSON is measured, raw and gzipped:

- today:    Condition?patient=X&clinical-status=active (misses every resolved stroke, TIA and HIT)
- all:      the discovery template (every Condition of the patient)
- option B: the active search plus Condition?patient=X&code=<the exact ICD-10-CM codes the KB verified>

"seen" counts the four history facts the linted order set holds. The lint of a prasugrel order-sign request
is timed with each payload (median of --rounds interleaved rounds, same run).
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

# the strict server and the synthetic patient live with the tests that use them
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from linter.api.services import PREFETCH_TEMPLATES
from linter.engine import run as run_engine
from linter.fhir_io import order_set_from_hook
from linter.profiles import load_profile
from tests.api.fhir_server import StrictFhirServer, running
from tests.api.patient_history import (
    ICD10CM,
    fixture_conditions,
    history_records,
    synthea_like_history,
)

PATIENT = "bench-history"
HISTORY_FACTS = {"Condition/hx-tia", "Condition/hx-stroke", "Condition/hx-hit", "Condition/hx-tia-text"}
READ_AS_HISTORY = {"stroke_tia", "hit"}
# clinical-kb.md §6: the exact codes (G45.9, Z86.73, D75.821/822/828/829); I63.- is a category whose members the
# KB does not list, so an equality token search cannot ask for it
HISTORY_CODES = ",".join(f"{ICD10CM}|{c}" for c in ("G45.9", "Z86.73", "D75.821", "D75.822", "D75.828", "D75.829"))
QUERIES = {
    "today (active only)": ["Condition?patient={p}&clinical-status=active"],
    "all Conditions (chosen)": [PREFETCH_TEMPLATES["conditions"].replace("{{context.patientId}}", "{p}")],
    "active + history codes": [
        "Condition?patient={p}&clinical-status=active",
        "Condition?patient={p}&code=" + HISTORY_CODES,
    ],
}


def fetch_all(client: httpx.Client, base: str, relative: str) -> dict[str, Any]:
    response = client.get(f"{base}/{relative}")
    response.raise_for_status()
    bundle: dict[str, Any] = response.json()
    entries = list(bundle.get("entry") or [])
    links = bundle.get("link") or []
    while nxt := next((x["url"] for x in links if x.get("relation") == "next"), None):
        page = client.get(nxt).json()
        entries.extend(page.get("entry") or [])
        links = page.get("link") or []
    merged = {k: v for k, v in bundle.items() if k != "link"}
    merged["entry"] = entries
    return merged


def prasugrel_request(conditions: list[dict[str, Any]]) -> dict[str, Any]:
    order = {
        "resourceType": "MedicationRequest",
        "id": "prasugrel",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{PATIENT}"},
        "medicationCodeableConcept": {
            "coding": [
                {
                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                    "code": "855812",
                    "display": "prasugrel 10 MG Oral Tablet",
                }
            ]
        },
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [
                    {"doseQuantity": {"value": 10, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"}}
                ],
            }
        ],
    }
    prefetch = {f"conditions{n}": bundle for n, bundle in enumerate(conditions)}
    return {
        "hook": "order-sign",
        "hookInstance": "bench",
        "context": {
            "patientId": PATIENT,
            "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": order}]},
        },
        "prefetch": prefetch,
    }


def categories(request: dict[str, Any]) -> dict[str, frozenset[str]]:
    patient = order_set_from_hook(request).order_set.patient
    return {c.ref: c.categories for c in (*patient.conditions, *patient.condition_history)}


def realistic_patient(history_size: int) -> list[dict[str, Any]]:
    """Fixture Conditions minus stroke/TIA/HIT ones, so the history facts below are the only ones."""
    fixtures = fixture_conditions(PATIENT)
    seen = categories(
        prasugrel_request(
            [{"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": c} for c in fixtures]}]
        )
    )
    kept = [c for c in fixtures if not seen.get(f"Condition/{c['id']}", frozenset()) & READ_AS_HISTORY]
    return [*kept, *history_records(PATIENT), *synthea_like_history(history_size, PATIENT)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--history", default="50,100,200", help="sizes of the Synthea-like history")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    profile = load_profile("btk-angioplasty")
    print(f"{'history':>7} {'query':<24} {'Conditions':>10} {'bytes':>9} {'gzip':>7} {'lint ms':>8} {'seen':>5} AT115")
    for size in (int(s) for s in args.history.split(",")):
        server = StrictFhirServer()
        server.add(*realistic_patient(size))
        requests = {}
        rows = {}
        with running(server), httpx.Client(timeout=10) as client:
            for label, queries in QUERIES.items():
                bundles = [fetch_all(client, server.base_url, q.format(p=PATIENT)) for q in queries]
                raw = sum(len(orjson.dumps(b)) for b in bundles)
                zipped = sum(len(gzip.compress(orjson.dumps(b))) for b in bundles)
                count = sum(len(b["entry"]) for b in bundles)
                requests[label] = prasugrel_request(bundles)
                cats = categories(requests[label])
                seen = sum(1 for ref in HISTORY_FACTS if cats.get(ref, frozenset()) & READ_AS_HISTORY)
                rows[label] = (count, raw, zipped, seen)
        times: dict[str, list[float]] = {label: [] for label in requests}
        fired: dict[str, bool] = {}
        for _ in range(args.rounds):  # interleaved, so machine load hits every option alike
            for label, request in requests.items():
                start = time.perf_counter()
                findings = run_engine(order_set_from_hook(request).order_set, profile)
                times[label].append((time.perf_counter() - start) * 1000)
                fired[label] = any(f.code == "AT115" for f in findings)
        for label, (count, raw, zipped, seen) in rows.items():
            ms = statistics.median(times[label])
            print(
                f"{size:>7} {label:<24} {count:>10} {raw:>9,} {zipped:>7,} {ms:>8.2f} {seen:>3}/4 "
                f"{'fires' if fired[label] else 'SILENT'}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
