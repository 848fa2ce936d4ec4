"""Strict mode validates a Bundle resource by resource, never as one model (`documents.order_set_from_document`:
fhir.resources costs about 1.4x as much for the Bundle as for its resources). Its findings are those of the
earlier reading, which validated the Bundle as a whole first and, only when that failed, each resource and the
envelope: the two agree because a Bundle that fhir.resources accepts as a whole has every resource and its
envelope accepted alone. These tests hold that premise on every fixture Bundle and on Bundles broken in the ways
a real export is (a field of the wrong type, an unknown key, a bad id, a bad Bundle.type, an invalid resource
of a type orderlint does not read, a bad fullUrl), and check what strict mode reports for each."""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from linter.fhir_io import READ_TYPES
from linter.fhir_io.documents import order_set_from_document
from linter.orderset_definition import DEFINITION_TYPES
from tests.fixture_cases import fixture_bundles

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _valid(cls: Any, doc: dict[str, Any]) -> bool:
    try:
        cls.model_validate(doc)
    except (ValidationError, ValueError, TypeError, KeyError):
        return False
    return True


def _leaves(x: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(x, dict):
        for k, v in x.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from _leaves(v, (*path, i))
    yield path


def _broken(bundle: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    b = copy.deepcopy(bundle)
    resources = [e["resource"] for e in b["entry"] if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
    kind = rng.randrange(7)
    if kind == 0 and resources:  # any field of any resource: a value of another JSON type
        r = rng.choice(resources)
        paths = [p for p in _leaves(r) if p and p != ("resourceType",)]
        if paths:
            *parents, last = rng.choice(paths)
            target = r
            for key in parents:
                target = target[key]
            target[last] = rng.choice(["x", 123, [], {}, True, None, -1.5, "2026-13-45"])
    elif kind == 1 and resources:
        rng.choice(resources)["bogusKey"] = 1
    elif kind == 2:
        b["type"] = rng.choice(["bogus", 5])
    elif kind == 3:
        b["entry"].append({"resource": {"resourceType": "Encounter", "id": "e", "status": "bogus", "class": 5}})
    elif kind == 4 and b["entry"]:
        rng.choice(b["entry"])["fullUrl"] = 12
    elif kind == 5:
        b["bogusTop"] = {"a": 1}
    elif resources:
        rng.choice(resources)["id"] = rng.choice(["bad id!", 7, ""])
    return b


def _cases() -> list[dict[str, Any]]:
    rng = random.Random(29)
    bundles = fixture_bundles(10, seed=3)
    return bundles + [_broken(b, rng) for b in bundles for _ in range(3)]


def _type_of(entry: dict[str, Any]) -> Any:
    r = entry.get("resource")
    return r.get("resourceType") if isinstance(r, dict) else None


def _parts_valid(bundle: dict[str, Any]) -> tuple[bool, list[int]]:
    """(envelope valid, places of the read-type resources fhir.resources rejects alone)."""
    envelope = _valid(Bundle, {k: v for k, v in bundle.items() if k != "entry"})
    bad = []
    for n, e in enumerate(bundle["entry"]):
        r = e.get("resource") if isinstance(e, dict) else None
        rtype = r.get("resourceType") if isinstance(r, dict) else None
        if rtype in READ_TYPES and not _valid(get_fhir_model_class(rtype), r):
            bad.append(n)
    return envelope, bad


def test_a_bundle_valid_as_a_whole_has_every_resource_and_its_envelope_valid_alone() -> None:
    """The premise that lets strict mode skip the Bundle-wide validation without changing a finding."""
    cases = _cases()
    whole_valid = 0
    for bundle in cases:
        if _valid(Bundle, bundle):
            whole_valid += 1
            assert _parts_valid(bundle) == (True, []), orjson.dumps(bundle)[:300]
    assert 10 < whole_valid < len(cases), (whole_valid, len(cases))  # both kinds were seen


def test_strict_mode_reports_each_rejected_resource_and_the_envelope_and_nothing_when_all_are_valid() -> None:
    """An order-set definition (a RequestGroup, a PlanDefinition) is read and validated by its own reader."""
    reported_some = 0
    for bundle in _cases():
        if any(isinstance(e, dict) and _type_of(e) in DEFINITION_TYPES for e in bundle["entry"]):
            continue
        strict = order_set_from_document(copy.deepcopy(bundle), "s", mode="strict", now=NOW).order_set
        fast = order_set_from_document(copy.deepcopy(bundle), "s", mode="fast", now=NOW).order_set
        envelope, bad = _parts_valid(bundle)
        strict_paths = {i.path for i in strict.invalid}
        extra = strict_paths - {i.path for i in fast.invalid}
        if envelope and not bad:
            assert not extra, extra  # nothing beyond what the reader itself reports
            continue
        reported_some += 1
        for n in bad:
            assert any(p.startswith(f"Bundle.entry[{n}].resource") for p in strict_paths), (n, strict_paths)
        if not envelope:
            assert any(i.ref == "Bundle" for i in strict.invalid), strict.invalid
    assert reported_some > 20, reported_some
