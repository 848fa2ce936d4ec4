"""linter.model_fast: the compact `__reduce__` gives back an equal object for every model class, over the
whole fixture catalog (what `--jobs N` workers send back), and is installed on every model dataclass."""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any

import pytest

from linter import model
from linter.batch import LintOptions, collect_inputs, lint_sources
from linter.model_fast import copy_with
from linter.profiles import Profile
from tests.conftest import FIXTURE_NOW, FIXTURES


def test_every_model_dataclass_has_the_compact_reducer() -> None:
    classes = [c for c in vars(model).values() if isinstance(c, type) and dataclasses.is_dataclass(c)]
    mine = [c for c in classes if c.__module__ in (model.__name__, "linter.model_values")]  # split for size
    assert len(mine) > 20
    for cls in mine:
        assert "__reduce__" in vars(cls), cls.__name__


@pytest.mark.parametrize("mode", ["fast", "strict"])
def test_results_round_trip_equal_over_the_catalog(profile: Profile, mode: str) -> None:
    results = lint_sources(collect_inputs([str(FIXTURES)]), profile, LintOptions(mode=mode, now=FIXTURE_NOW))  # type: ignore[arg-type]
    sets = [(s.order_set, s.findings) for r in results for s in r.sets]
    assert len(sets) > 100
    for order_set, findings in sets:
        back_set, back_findings = pickle.loads(  # noqa: S301 - our own bytes
            pickle.dumps((order_set, findings), protocol=pickle.HIGHEST_PROTOCOL)
        )
        assert back_set == order_set
        assert back_findings == findings
        assert type(back_set.patient) is model.PatientContext


def test_copy_with_equals_dataclasses_replace() -> None:
    q = model.Quantity(5000.0, "[iU]", "http://unitsofmeasure.org", "[iU]")
    d = model.Dosage(index=0, dose=q)
    for obj, changes in ((q, {"value": 1.0}), (d, {"dose": None, "text": "x"}), (q, {})):
        assert copy_with(obj, **changes) == dataclasses.replace(obj, **changes)  # type: ignore[type-var]
    with pytest.raises(TypeError):
        copy_with(q, nope=1)


def test_fast_init_builds_what_the_dataclass_init_built() -> None:
    """`fast_init` keeps each class's signature, defaults, factories, equality and hash; the classes stay frozen
    by declaration (mypy refuses assignments), not by a refusing `__setattr__` (which made every build slow)."""
    q = model.Quantity(5000.0, "[iU]")
    assert (q.value, q.unit, q.system, q.code) == (5000.0, "[iU]", None, None)
    d1, d2 = model.Dosage(0), model.Dosage(index=1, dose=q)
    assert d1.timing == model.Timing() and d1.timing is not d2.timing  # a fresh default from the factory
    assert d2.dose is q and d2.extra_text == ()
    assert q == model.Quantity(5000.0, "[iU]") and hash(q) == hash(model.Quantity(5000.0, "[iU]"))
    assert model.Quantity.__dataclass_params__.frozen  # type: ignore[attr-defined]
    assert "__setattr__" not in vars(model.Quantity)  # plain stores: see linter.model_fast
    with pytest.raises(TypeError):
        model.Quantity()  # type: ignore[call-arg]
    for cls in (model.Quantity, model.Dosage, model.Finding, model.MedicationOrder):
        init = vars(cls)["__init__"]
        assert init.__qualname__ == f"{cls.__qualname__}.__init__"
        assert init.__code__.co_filename == f"<fast_init {cls.__qualname__}>"


def test_lazy_finding_texts_read_like_eager_ones() -> None:
    """A finding whose summary and detail are built on first read (linter.model_fast.lazy_text) is, through
    every reader, the finding built with the strings: attributes, repr, ==, copy_with, replace, pickle; and
    texts given to `replace`/`copy_with` are kept (never overwritten by the pending ones)."""
    from linter.model_fast import LazyText  # here only: the one test that builds a LazyText by hand

    def texts(a: str, b: str) -> tuple[str, str]:
        return a.upper(), b * 2

    def lazy() -> model.Finding:
        text: Any = LazyText((texts, ("s", "d")))
        return model.Finding("X1", model.Indicator.INFO, text, text, ("R/1",))

    eager = model.Finding("X1", model.Indicator.INFO, "S", "dd", ("R/1",))
    assert repr(lazy()) == repr(eager) and lazy() == eager
    assert (lazy().detail, lazy().summary) == ("dd", "S")
    assert pickle.loads(pickle.dumps(lazy())) == eager  # noqa: S301 - our own bytes
    assert copy_with(lazy(), code="X2") == dataclasses.replace(eager, code="X2")
    assert dataclasses.replace(lazy(), summary="T", detail="e") == dataclasses.replace(eager, summary="T", detail="e")
    assert copy_with(lazy(), summary="T").summary == "T" and copy_with(lazy(), summary="T").detail == "dd"


def test_a_finding_whose_wording_fails_reads_as_a_clear_internal_error_not_a_crash(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Texts are built when a report or a card first reads them, after the engine's guard around each rule: a
    wording bug must still give a card that says what happened (and keep the finding), never an exception."""
    from linter.rules._common import finding_later
    from linter.rules.heparin import hep201_heparin_bolus_dose as hep201

    def broken(dose: float) -> tuple[str, list[str]]:
        raise ZeroDivisionError(f"the patient weighs {dose} kg")  # a message that quotes data

    finding = finding_later(hep201.META, broken, (4321.5,), ["MedicationRequest/a"])
    with caplog.at_level("ERROR", logger="orderlint.rules"):
        summary, detail = finding.summary, finding.detail
    assert summary.startswith(
        "HEP201 fired, but its explanation could not be built: internal error (ZeroDivisionError)"
    )
    assert "the finding and its severity stand" in detail and "Please report this" in detail
    assert finding.code == "HEP201" and finding.refs == ("MedicationRequest/a",)
    assert "ZeroDivisionError" in caplog.text and "4321.5" not in caplog.text
