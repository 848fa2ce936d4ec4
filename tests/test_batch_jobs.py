"""`lint --jobs N`: chunked work in N processes started once, results streamed in input order, equal to jobs=1."""

from __future__ import annotations

import multiprocessing
import re

import pytest

from linter.batch import InputSource, LintOptions, collect_inputs, lint_sources
from linter.batch_pool import chunk_size
from linter.cli_lint import render  # the CLI's renderers, every --format
from linter.fhir_io.demographics import report_people
from linter.profiles import Profile
from tests.conftest import FIXTURE_NOW, FIXTURES


def _summary(results: list) -> list[tuple]:  # type: ignore[type-arg]
    return [
        (
            r.path,
            [(f.code, f.indicator, f.refs, f.summary) for f in r.findings],
            [(e.message, e.path) for e in r.errors],
        )
        for r in results
    ]


@pytest.mark.parametrize("mode", ["fast", "strict"])
def test_two_jobs_equal_one_over_the_whole_catalog(profile: Profile, mode: str) -> None:
    sources = [*collect_inputs([str(FIXTURES)]), InputSource("missing.json", error="no such file")]
    options = LintOptions(mode=mode, now=FIXTURE_NOW)  # type: ignore[arg-type]
    seen: list[int] = []
    one = lint_sources(sources, profile, options, jobs=1)
    two = lint_sources(
        sources,
        profile,
        options,
        jobs=2,
        mp_context=multiprocessing.get_context("fork"),
        progress=lambda done, total, name: seen.append(done),
    )
    assert _summary(two) == _summary(one)
    assert seen == list(range(1, len(sources) + 1))  # streamed one by one, in order
    assert two[-1].errors[0].message == "no such file"


def test_chunks_amortise_and_still_balance() -> None:
    assert chunk_size(2010, 2) == 32
    assert chunk_size(10, 2) == 1  # few inputs: one per task so both workers get some
    assert chunk_size(200, 4) == 6
    assert all(2010 // chunk_size(2010, j) >= 4 * j for j in (1, 2, 4, 8))  # several chunks per worker


@pytest.mark.parametrize("mode", ["fast", "strict"])
def test_every_report_format_is_identical_from_workers(profile: Profile, mode: str) -> None:
    """Workers send back only what the reporters read (linter.batch_pool.for_reports): every format rendered
    from their results equals the one rendered from the whole model, over the fixture catalog (cards
    compared with their random uuids blanked)."""
    sources = [*collect_inputs([str(FIXTURES)]), InputSource("missing.json", error="no such file")]
    options = LintOptions(mode=mode, now=FIXTURE_NOW)  # type: ignore[arg-type]
    one = lint_sources(sources, profile, options, jobs=1)
    two = lint_sources(sources, profile, options, jobs=2, mp_context=multiprocessing.get_context("fork"))
    assert sum(1 for r in two for s in r.sets for f in s.findings if f.suggestion is not None) > 20
    for fmt in ("text", "json", "csv", "outcome", "html", "cards"):
        a, b = render(fmt, one, profile, show_source=True), render(fmt, two, profile, show_source=True)
        if fmt == "cards":
            a, b = (re.sub(r'"uuid": "[^"]+"', '"uuid": ""', x) for x in (a, b))
        assert a == b, fmt
    # The workbench's patient column (signed-in users) reads the Patient resource: workers keep it.
    people = report_people(one)
    assert sum(1 for entries in people.values() for p in entries if p and p.get("name")) > 3
    assert report_people(two) == people
