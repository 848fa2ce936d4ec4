"""Engine benchmark (issue 2 §10): per-bundle cost of linting realistic 20-entry order-set bundles.

Measured in the same run, on the same bytes:
  (a) orjson.loads                          the floor
  (b) fhir.resources R4B Bundle validation  (parse + validate, no linting)
  (b2) fhir.resources R4B, resource by resource: each resource of a type orderlint reads and the envelope
       without its entries, the validation strict mode runs (fhir.resources charges about 1.4x more for the
       same resources inside a Bundle: a BundleEntry model per entry, each resource's class imported by name)
  (c) orderlint lint, strict mode           (every resource validated + normalize + all rules)
  (d) orderlint lint, fast mode             (only the fields the rules read + all rules)
Targets (issue 11): (c) <= 1.1 x (b); (d) <= 8 x (a). c/b2 is printed beside c/b: what orderlint adds on top of
the validation it runs.

The four are timed interleaved, bundle by bundle (a, b, c, d on bundle 1, then on bundle 2, ...), over several
rounds, and the per-bundle medians are compared: every measure sees the same machine state, which matters on
a shared, noisy machine more than any absolute figure. Each call is timed twice: wall (perf_counter) and CPU
of this process (process_time). The ratios are taken from the CPU medians: at a load average of 20 on 2
cores a call's wall time is mostly waiting for a core (a 3 ms validation measured 17-32 ms wall), its CPU
time is not; the wall ratios are printed beside them.

Run: python bench/lint_bench.py [--bundles 200] [--rounds 7] [--stages]  (--stages: (d) split into read and engine)
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

RX = "http://www.nlm.nih.gov/research/umls/rxnorm"
SCT = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _med(
    rid: str, code: str, display: str, dose: float, unit: str, route: str, freq: int | None, text: str
) -> dict[str, Any]:
    dosage: dict[str, Any] = {
        "text": text,
        "route": {"coding": [{"system": SCT, "code": route}]},
        "doseAndRate": [{"doseQuantity": {"value": dose, "unit": unit, "system": UCUM, "code": unit}}],
    }
    if freq:
        dosage["timing"] = {"repeat": {"frequency": freq, "period": 1, "periodUnit": "d"}}
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": RX, "code": code, "display": display}], "text": display},
        "subject": {"reference": "Patient/p"},
        "authoredOn": "2026-11-20T09:00:00Z",
        "dosageInstruction": [dosage],
    }


def make_bundle(rng: random.Random, n: int) -> bytes:
    weight = rng.choice([55, 62, 70, 78, 85, 96, 110])
    heparin_dose = rng.choice([weight * 80, weight * 100, weight * 150, 15000])
    entries: list[dict[str, Any]] = [
        {"resourceType": "Patient", "id": "p", "gender": "female", "birthDate": "1950-01-01"},
        {
            "resourceType": "Observation",
            "id": "w",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}]},
            "subject": {"reference": "Patient/p"},
            "effectiveDateTime": "2026-11-19T08:00:00Z",
            "valueQuantity": {"value": weight, "unit": "kg", "system": UCUM, "code": "kg"},
        },
        {
            "resourceType": "Condition",
            "id": "c1",
            "clinicalStatus": {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
            },
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I70.221"}]},
            "subject": {"reference": "Patient/p"},
        },
        {
            "resourceType": "Condition",
            "id": "c2",
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "E11.51"}]},
            "subject": {"reference": "Patient/p"},
        },
        {
            "resourceType": "ServiceRequest",
            "id": "sr",
            "status": "draft",
            "intent": "order",
            "code": {
                "coding": [
                    {"system": "http://www.ama-assn.org/go/cpt", "code": "37228"},
                    {"system": SCT, "code": "68457009"},
                ],
                "text": "Anterior tibial angioplasty",
            },
            "bodySite": [{"coding": [{"system": SCT, "code": "68053000"}]}],
            "reasonReference": [{"reference": "Condition/c1"}],
            "subject": {"reference": "Patient/p"},
        },
        _med(
            "hep",
            "1361226",
            "heparin 1000 UNT/ML",
            heparin_dose,
            "[iU]",
            "47625008",
            None,
            "heparin bolus, target ACT 250-300 s",
        ),
        _med(
            "ntg",
            "245276",
            "nitroglycerin 1 MG/ML",
            rng.choice([100, 200, 0.1]),
            rng.choice(["ug", "mg"]),
            "58100008",
            None,
            "IA for vasospasm",
        ),
        _med(
            "asa", "243670", "aspirin 81 MG Oral Tablet", rng.choice([81, 100, 325, 650]), "mg", "26643006", 1, "daily"
        ),
        _med("clop", "309362", "clopidogrel 75 MG Oral Tablet", 75, "mg", "26643006", rng.choice([1, 2]), "daily"),
        _med("riva", "2059015", "rivaroxaban 2.5 MG Oral Tablet", 2.5, "mg", "26643006", rng.choice([1, 2]), "bid"),
        _med(
            "ator", "259255", "atorvastatin 80 MG Oral Tablet", rng.choice([10, 40, 80]), "mg", "26643006", 1, "nightly"
        ),
    ]
    i = 0
    while len(entries) < n:
        i += 1
        entries.append(
            {
                "resourceType": "Observation",
                "id": f"o{i}",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "777-3"}]},
                "subject": {"reference": "Patient/p"},
                "effectiveDateTime": "2026-11-18",
                "valueQuantity": {"value": rng.randint(150, 400), "unit": "10*3/uL", "system": UCUM, "code": "10*3/uL"},
            }
        )
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"{e['resourceType']}/{e['id']}", "resource": e} for e in entries],
    }
    return orjson.dumps(bundle)


def interleaved_medians_us(
    fns: dict[str, Callable[[bytes], object]], bundles: list[bytes], rounds: int
) -> tuple[dict[str, float], dict[str, float]]:
    """(wall, CPU) per-call medians in us, each call timed on both clocks."""
    wall: dict[str, list[float]] = {name: [] for name in fns}
    cpu: dict[str, list[float]] = {name: [] for name in fns}
    clock, cpu_clock = time.perf_counter, time.process_time
    for _ in range(rounds):
        for b in bundles:
            for name, fn in fns.items():
                t0, c0 = clock(), cpu_clock()
                fn(b)
                c1, t1 = cpu_clock(), clock()
                wall[name].append(t1 - t0)
                cpu[name].append(c1 - c0)
    return (
        {name: statistics.median(v) * 1e6 for name, v in wall.items()},
        {name: statistics.median(v) * 1e6 for name, v in cpu.items()},
    )


def fast_stages_us(
    bundles: list[bytes], rounds: int, read: Callable[[bytes], Any], lint: Callable[[Any], object]
) -> tuple[float, float]:
    """Per-bundle CPU medians of fast mode's two stages: reading (`read`, load_bytes) and the engine (`lint`
    on each order set read, its findings' texts included)."""
    reads: list[float] = []
    engines: list[float] = []
    cpu_clock = time.process_time
    for _ in range(rounds):
        for b in bundles:
            c0 = cpu_clock()
            result = read(b)
            c1 = cpu_clock()
            for s in result.order_sets:
                lint(s)
            c2 = cpu_clock()
            reads.append(c1 - c0)
            engines.append(c2 - c1)
    return statistics.median(reads) * 1e6, statistics.median(engines) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundles", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--entries", type=int, default=20)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--stages", action="store_true", help="also split (d) into reading and the engine (CPU)")
    args = ap.parse_args()

    from fhir.resources.R4B import get_fhir_model_class
    from fhir.resources.R4B.bundle import Bundle

    from linter.engine import run
    from linter.fhir_io import READ_TYPES, load_bytes
    from linter.profiles import load_profile

    rng = random.Random(20261121)
    bundles = [make_bundle(rng, args.entries) for _ in range(args.bundles)]
    profile = load_profile("btk-angioplasty")

    def worded(order_set: Any) -> list[Any]:
        # A finding's summary and detail are built when first read (linter.model_fast.lazy_text); every report
        # and card reads them, so a lint here includes them.
        findings = run(order_set, profile)
        for f in findings:
            f.summary  # noqa: B018 - builds both texts
        return findings

    def lint(mode: str) -> Callable[[bytes], object]:
        def go(data: bytes) -> object:
            result = load_bytes(data, "bench", mode=mode, now=NOW)  # type: ignore[arg-type]
            return [worded(s) for s in result.order_sets]

        return go

    for fn in (lint("strict"), lint("fast")):  # warm caches (UCUM registry, terminology, pydantic)
        fn(bundles[0])

    def by_resource(data: bytes) -> None:
        doc = orjson.loads(data)
        for e in doc["entry"]:
            r = e["resource"]
            if r["resourceType"] in READ_TYPES:
                get_fhir_model_class(r["resourceType"]).model_validate(r)
        Bundle.model_validate({k: v for k, v in doc.items() if k != "entry"})

    size = statistics.median(len(b) for b in bundles)
    m, cpu = interleaved_medians_us(
        {
            "a": orjson.loads,
            "b": lambda d: Bundle.model_validate(orjson.loads(d)),
            "b2": by_resource,
            "c": lint("strict"),
            "d": lint("fast"),
        },
        bundles,
        args.rounds,
    )
    a, b, b2, c, d = cpu["a"], cpu["b"], cpu["b2"], cpu["c"], cpu["d"]
    print(
        f"bundles: {args.bundles} x {args.entries} entries, median {size / 1024:.1f} KB; "
        f"per-bundle medians of {args.rounds} interleaved rounds, CPU us (wall us)"
    )
    print(f"(a) orjson.loads                  {a:10.1f} ({m['a']:.1f})")
    print(f"(b) fhir.resources R4B validation {b:10.1f} ({m['b']:.1f})")
    print(f"(b2) the same, resource by resource {b2:8.1f} ({m['b2']:.1f})   b2/b = {b2 / b:5.2f}")
    print(
        f"(c) orderlint strict lint         {c:10.1f} ({m['c']:.1f})   c/b = {c / b:5.2f} "
        f"(wall {m['c'] / m['b']:.2f}; target <= 1.1); c/b2 = {c / b2:.2f}"
    )
    print(
        f"(d) orderlint fast lint           {d:10.1f} ({m['d']:.1f})   d/a = {d / a:5.1f} "
        f"(wall {m['d'] / m['a']:.1f}; target <= 8)"
    )
    if args.stages:
        read_us, engine_us = fast_stages_us(
            bundles, args.rounds, lambda d: load_bytes(d, "bench", mode="fast", now=NOW), worded
        )
        print(f"    (d) split: read (orjson.loads included) {read_us:.1f}, engine {engine_us:.1f} (CPU us, medians)")
    if args.json:
        args.json.write_text(
            orjson.dumps(
                {
                    "median_us": m,
                    "cpu_us": cpu,
                    "fast_over_orjson": d / a,
                    "strict_over_fhir_resources": c / b,
                    "strict_over_by_resource_validation": c / b2,
                    "wall_fast_over_orjson": m["d"] / m["a"],
                    "wall_strict_over_fhir_resources": m["c"] / m["b"],
                }
            ).decode()
        )


if __name__ == "__main__":
    main()
