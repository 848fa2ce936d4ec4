"""`read_plain_bundle` (the common Bundle in one pass) builds the OrderSet the general readers build
(`build_order_set` of `bundle_entries`), compared by repr, on every fixture, on bench bundles and on Bundles made
to take its rarer branches; for a Bundle it does not read (an entry with no resource, a nested Bundle, a
definition, an entry that is not an object) it answers None."""

from __future__ import annotations

import copy
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from linter.fhir_io import documents
from linter.fhir_io.assemble import build_order_set
from linter.fhir_io.documents import _ENTRY_PATHS, _entry_paths, order_set_from_document
from linter.fhir_io.entries import bundle_entries
from linter.fhir_io.plain_bundle import read_plain_bundle
from tests.fixture_cases import fixture_bundles

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
NOT_PLAIN = frozenset({"PlanDefinition", "RequestGroup", "Bundle"})


def _general(bundle: dict[str, Any]) -> str:
    read = build_order_set(bundle_entries(bundle, "Bundle"), source="s", mode="fast", now=NOW)
    return repr(read)


def _plain(bundle: dict[str, Any]) -> str | None:
    paths = _entry_paths(max(len(bundle["entry"]), len(_ENTRY_PATHS)))  # at least one per entry, as documents'
    read = read_plain_bundle(bundle["entry"], paths, NOT_PLAIN, source="s", now=NOW, forced_context=None)
    return None if read is None else repr(read)


def _bundles() -> list[dict[str, Any]]:
    return fixture_bundles(20, seed=5)


def _resource_bundles() -> list[dict[str, Any]]:
    """Bundles made of the fixtures' resources, to take the rarer branches: id-less resources (named by fullUrl or
    by place), repeated refs, every status of every order type, and fields of the wrong type."""
    resources = [e["resource"] for b in _bundles() for e in b["entry"] if isinstance(e.get("resource"), dict)]
    rng = random.Random(11)
    out = []
    for _ in range(60):
        picked = copy.deepcopy(rng.sample(resources, min(len(resources), 12)))
        entries = []
        for r in picked:
            roll = rng.random()
            if roll < 0.15:
                r.pop("id", None)
            elif roll < 0.2:
                r["id"] = ""
            elif roll < 0.25:
                r["id"] = "dup"
            if rng.random() < 0.2:
                r["status"] = rng.choice(["draft", "active", "completed", "on-hold", "in-progress", 5, None])
            if rng.random() < 0.1:
                r["code"] = rng.choice([[], "x", {"coding": "x"}, {"coding": [{"code": 7}]}])
            entry: dict[str, Any] = {"resource": r}
            if rng.random() < 0.5:
                entry["fullUrl"] = rng.choice([f"urn:uuid:{rng.randrange(9)}", "", 3])
            entries.append(entry)
        out.append({"resourceType": "Bundle", "type": "collection", "entry": entries})
    return out


def _plain_entry(e: Any) -> bool:
    r = e.get("resource") if isinstance(e, dict) else None
    return isinstance(r, dict) and isinstance(r.get("resourceType"), str) and r["resourceType"] not in NOT_PLAIN


@pytest.mark.parametrize("bundle", _bundles() + _resource_bundles())
def test_same_order_set_as_the_general_reader(bundle: dict[str, Any]) -> None:
    plain = _plain(bundle)
    if plain is None:  # an entry the plain reader leaves to the general one: a definition, a Bundle, no resource
        assert any(not _plain_entry(e) for e in bundle["entry"])
    else:
        assert plain == _general(bundle)


@pytest.mark.parametrize(
    "entry",
    [
        {"request": {"method": "DELETE", "url": "MedicationRequest/x"}},
        {"resource": {"resourceType": "Bundle", "type": "collection"}},
        {"resource": {"resourceType": "PlanDefinition", "id": "pd"}},
        {"resource": "MedicationRequest/x"},
        {"resource": {"id": "no-type"}},
        ["not", "an", "object"],
    ],
)
def test_leaves_unusual_entries_to_the_general_readers(entry: Any) -> None:
    bundle = _bundles()[-1]
    bundle["entry"].append(entry)
    assert _plain(bundle) is None  # and `order_set_from_document` reads it as it always did


def test_the_document_reader_takes_the_plain_path_in_fast_mode_only(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = documents.read_plain_bundle

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(documents, "read_plain_bundle", counted)
    bundle = _bundles()[-1]
    fast = order_set_from_document(bundle, "s", mode="fast", now=NOW)
    assert calls == [1]
    assert repr(fast) == repr(build_order_set(bundle_entries(bundle, "Bundle"), source="s", mode="fast", now=NOW))
    order_set_from_document(bundle, "s", mode="strict", now=NOW)
    assert calls == [1]


def test_a_large_bundle_of_id_less_resources() -> None:
    """Past the 128 paths formatted at import, resources named by their place ("Observation/#150")."""
    weight = {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]}
    entries: list[dict[str, Any]] = [
        {"resource": {"resourceType": "Observation", "code": weight, "valueQuantity": {"value": 70 + i, "unit": "kg"}}}
        for i in range(300)
    ]
    entries[7]["fullUrl"] = "urn:uuid:7"
    bundle = {"resourceType": "Bundle", "entry": entries}
    plain = _plain(bundle)
    assert plain is not None and "Observation/#299" in plain and "urn:uuid:7" in plain
    assert plain == _general(bundle)
