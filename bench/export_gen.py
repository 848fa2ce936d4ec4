"""A realistic FHIR Bulk Data export of N patients (NDJSON per resource type, gzipped, split in parts like a
server's `$export`): BTK angioplasty order sets, PAD (claudication) order sets and unrelated ones, over the
months of 2025, with Medications referenced through medicationReference, patients without a weight, orders
in every status and a few unreadable lines. Used by bench/spark_bench.py, bench/export_memory.py and the
Spark tests.

    python bench/export_gen.py OUT_DIR [--patients 10000]

Codes are the verified ones the terminology ships (RxNorm ingredients, CPT 37228, SNOMED 63491006).
"""

from __future__ import annotations

import argparse
import gzip
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
ORAL = {"coding": [{"system": SNOMED, "code": "26643006", "display": "Oral route"}]}
IV = {"coding": [{"system": SNOMED, "code": "47625008", "display": "Intravenous route"}]}
# (rxnorm ingredient, name, dose mg, times a day); doses in and out of range on purpose
ANTIPLATELETS = [("1191", "aspirin", 81, 1), ("1191", "aspirin", 325, 1), ("32968", "clopidogrel", 75, 1),
                 ("32968", "clopidogrel", 150, 1), ("114979", "rivaroxaban", 2.5, 2)]  # fmt: skip
PAD_DRUGS = [("21107", "cilostazol", 100, 2), ("21107", "cilostazol", 200, 2), ("83367", "atorvastatin", 80, 1)]
OTHER_DRUGS = [("83367", "atorvastatin", 40, 1), ("1191", "aspirin", 81, 1), ("32968", "clopidogrel", 75, 1)]
MEDICATIONS = {  # formulary Medications the orders reference (medicationReference)
    "32968": {"resourceType": "Medication", "id": "med-clopidogrel",
              "code": {"coding": [{"system": RXNORM, "code": "32968", "display": "clopidogrel"}]}},
    "1191": {"resourceType": "Medication", "id": "med-aspirin",
             "code": {"coding": [{"system": RXNORM, "code": "1191", "display": "aspirin"}]}},
}  # fmt: skip
STATUSES = ["completed", "completed", "completed", "stopped", "active", "active", "draft", "entered-in-error"]
BAD_LINES = [b"{not json", b'["an", "array"]', b'{"id": "no-type"}']


def _dose(value: float, per_day: int, route: dict[str, Any], unit: str = "mg") -> dict[str, Any]:
    code = "[iU]" if unit == "units" else unit
    return {
        "timing": {"repeat": {"frequency": per_day, "period": 1, "periodUnit": "d"}},
        "route": route,
        "doseAndRate": [{"doseQuantity": {"value": value, "unit": unit, "system": UCUM, "code": code}}],
    }


def patient_resources(n: int, rng: random.Random) -> list[dict[str, Any]]:
    pid = f"p{n}"
    subject = {"reference": f"Patient/{pid}"}
    kind = rng.choices(["btk", "pad", "other"], weights=[4, 3, 3])[0]
    day = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    authored = f"{day}T{rng.randint(7, 18):02d}:00:00Z" if rng.random() > 0.02 else None
    out: list[dict[str, Any]] = [
        {"resourceType": "Patient", "id": pid, "gender": rng.choice(["female", "male"]), "birthDate": "1950-01-01"}
    ]
    kg = rng.choice([55, 62, 70, 78, 85, 96, 110])
    if rng.random() > 0.1:
        out.append({
            "resourceType": "Observation", "id": f"wt-{n}", "status": "final", "subject": subject,
            "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}]},
            "effectiveDateTime": f"{day}T07:00:00Z",
            "valueQuantity": {"value": kg, "unit": "kg", "system": UCUM, "code": "kg"},
        })  # fmt: skip
    status = rng.choice(STATUSES)

    def order(rtype: str, oid: str, **fields: Any) -> dict[str, Any]:
        r: dict[str, Any] = {"resourceType": rtype, "id": oid, "status": status, "intent": "order", "subject": subject}
        if authored:
            r["authoredOn"] = authored
        r.update(fields)
        return r

    drugs: list[tuple[str, str, float, int]] = []
    if kind == "btk":
        out.append(order("ServiceRequest", f"sr-{n}", code={"coding": [{
            "system": "http://www.ama-assn.org/go/cpt", "code": "37228",
            "display": "Revascularization, tibial/peroneal artery, transluminal angioplasty"}]}))  # fmt: skip
        heparin = rng.choice([5000, 6000, 7000, 8000, 15000, 70 * kg])
        bolus = _dose(heparin, 1, IV, "units")
        del bolus["timing"]
        bolus["text"] = "Bolus at the start of the procedure" + (", target ACT 250-300 s" if rng.random() < 0.7 else "")
        hep = {"coding": [{"system": RXNORM, "code": "5224", "display": "heparin"}]}
        out.append(order("MedicationRequest", f"hep-{n}", medicationCodeableConcept=hep,
                         dosageInstruction=[bolus]))  # fmt: skip
        drugs = rng.sample(ANTIPLATELETS, rng.randint(0, 3))
    elif kind == "pad":
        out.append({"resourceType": "Condition", "id": f"cond-{n}", "subject": subject,
                    "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                                   "code": "active"}]},
                    "code": {"coding": [{"system": SNOMED, "code": "63491006",
                                         "display": "Intermittent claudication"}]}})  # fmt: skip
        drugs = rng.sample(PAD_DRUGS, rng.randint(1, 2)) + rng.sample(ANTIPLATELETS, rng.randint(0, 1))
    else:
        drugs = rng.sample(OTHER_DRUGS, rng.randint(1, 2))
    for i, (rx, name, mg, per_day) in enumerate(drugs):
        med: dict[str, Any]
        if rx in MEDICATIONS and rng.random() < 0.5:
            med = {"medicationReference": {"reference": f"Medication/{MEDICATIONS[rx]['id']}"}}
        else:
            med = {"medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rx, "display": name}]}}
        out.append(order("MedicationRequest", f"mr-{n}-{i}", **med, dosageInstruction=[_dose(mg, per_day, ORAL)]))
    return out


def lines_by_type(patients: int, seed: int) -> Iterator[tuple[str, bytes]]:
    rng = random.Random(seed)
    for med in MEDICATIONS.values():
        yield "Medication", orjson.dumps(med)
    for n in range(patients):
        for r in patient_resources(n, rng):
            yield r["resourceType"], orjson.dumps(r)
        if n % 997 == 500:
            yield "MedicationRequest", BAD_LINES[(n // 997) % len(BAD_LINES)]


def write_export(out: Path, patients: int, seed: int = 20251231, part_lines: int = 50_000, gz: bool = True) -> Path:
    """Files `<Type>.<part>.ndjson.gz` (or `.ndjson`), at most `part_lines` lines each."""
    out.mkdir(parents=True, exist_ok=True)
    open_files: dict[str, tuple[Any, int, int]] = {}  # type -> (handle, part, lines)
    suffix = ".ndjson.gz" if gz else ".ndjson"
    try:
        for rtype, line in lines_by_type(patients, seed):
            fh, part, count = open_files.get(rtype, (None, -1, part_lines))
            if count >= part_lines:
                if fh is not None:
                    fh.close()
                part += 1
                path = out / f"{rtype}.{part:03d}{suffix}"
                fh = gzip.open(path, "wb", compresslevel=6) if gz else path.open("wb")  # noqa: SIM115 - closed below
                count = 0
            fh.write(line + b"\n")
            open_files[rtype] = (fh, part, count + 1)
    finally:
        for fh, _, _ in open_files.values():
            fh.close()
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", type=Path)
    p.add_argument("--patients", type=int, default=10_000)
    p.add_argument("--plain", action="store_true", help="uncompressed .ndjson")
    args = p.parse_args()
    write_export(args.out, args.patients, gz=not args.plain)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
