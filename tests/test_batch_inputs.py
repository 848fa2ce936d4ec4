"""Collecting a directory's inputs lists what `sorted(p for p in d.rglob("*") if p.is_file())` lists, in that
order and spelled the same (linter.batch walks os.scandir's entries instead, without a stat per file); a file
that is a zip archive under another name is told when it is linted, and its members take its place."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from unittest.mock import ANY

import pytest

from linter.batch import LintOptions, _files_under, _looks_like_zip, _suffix, collect_inputs, lint_sources
from linter.profiles import load_profile
from tests.conftest import FIXTURE_NOW, FIXTURES

OPTIONS = LintOptions(mode="fast", now=FIXTURE_NOW)


def _tree(root: Path) -> None:
    for rel in ["a.json", "a-b/c.json", "a/b.json", "a/B.json", "a/.hidden.json", "Z.json", "a/b/c/d.ndjson", "x.zip"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("{}")
    (root / "empty").mkdir()
    (root / "outside").mkdir()
    (root / "outside" / "o.json").write_text("{}")
    (root / "a" / "link.json").symlink_to(root / "a.json")  # a link to a file: listed
    (root / "a" / "linkdir").symlink_to(root / "outside", target_is_directory=True)  # to a directory: not walked
    (root / "a" / "broken.json").symlink_to(root / "nowhere.json")  # broken: not a file
    (root / "a" / "loop.json").symlink_to(root / "a" / "loop.json")  # a loop: not a file, no error


@pytest.mark.parametrize("spelling", ["abs", "abs/", "rel", "dot"])
def test_the_walk_lists_what_rglob_lists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spelling: str) -> None:
    _tree(tmp_path / "in")
    monkeypatch.chdir(tmp_path if spelling == "rel" else tmp_path / "in")
    directory = {"abs": str(tmp_path / "in"), "abs/": f"{tmp_path / 'in'}/", "rel": "in", "dot": "."}[spelling]
    expected = sorted(p for p in Path(directory).rglob("*") if p.is_file())
    listed = _files_under(Path(directory))
    assert listed == [(str(p), p.name) for p in expected]
    assert len(listed) == 10


def test_suffix_is_path_suffix() -> None:
    for name in ["a.json", "a.ZIP", ".zip", "a.", "a", "a.b.zip", "..zip", "a..", ".a.b"]:
        assert _suffix(name) == Path(name).suffix, name


def test_a_zip_under_another_name_is_sniffed(tmp_path: Path) -> None:
    (tmp_path / "zip.json").write_bytes(b"PK\x03\x04rest")
    (tmp_path / "short.json").write_bytes(b"PK")
    (tmp_path / "dir.json").mkdir()
    assert _looks_like_zip(tmp_path / "zip.json")
    assert not _looks_like_zip(tmp_path / "short.json")
    assert not _looks_like_zip(tmp_path / "dir.json")
    assert not _looks_like_zip(tmp_path / "missing.json")
    # A directory's files are told apart when read: collecting opens none of them.
    sources = collect_inputs([str(tmp_path)])
    assert [(s.name, s.error, s.maybe_archive) for s in sources] == [
        (str(tmp_path / "short.json"), None, True),
        (str(tmp_path / "zip.json"), None, True),
    ]
    for jobs in (1, 2):
        results = lint_sources(sources, load_profile("btk-angioplasty"), OPTIONS, jobs=jobs)
        assert [(r.path, [e.message for e in r.errors]) for r in results] == [
            (str(tmp_path / "short.json"), [ANY]),  # not JSON
            (str(tmp_path / "zip.json"), ["not a readable zip archive"]),
        ]
        assert "zip" not in results[0].errors[0].message


def _zip(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_archive_found_when_read_takes_its_place_in_order(tmp_path: Path, jobs: int) -> None:
    """A directory's file that is a zip archive under another name is listed as a file and linted as its
    members, in their place: the results (and what progress says) equal those of the same archive named
    .zip, which is listed member by member while collecting; with --jobs, wherever its chunk is linted."""
    cases = sorted(FIXTURES.rglob("*.json"))[:40]
    for n, case in enumerate(cases):
        (tmp_path / "files" / f"{n:03d}.json").parent.mkdir(exist_ok=True)
        (tmp_path / "files" / f"{n:03d}.json").write_bytes(case.read_bytes())
    members = {"b.json": cases[0].read_bytes(), "a/c.json": cases[1].read_bytes(), "../x.json": b"{}", "d.txt": b""}
    for where in (0, 17, 39):
        _zip(tmp_path / "files" / f"{where:03d}.json", members)
    profile = load_profile("btk-angioplasty")
    seen: list[tuple[int, int, str]] = []
    results = lint_sources(
        collect_inputs([str(tmp_path / "files")]),
        profile,
        OPTIONS,
        jobs=jobs,
        progress=lambda done, total, name: seen.append((done, total, name)),
    )
    named = tmp_path / "named"
    named.mkdir()
    for path in (tmp_path / "files").iterdir():
        suffix = ".zip" if path.read_bytes()[:4] == b"PK\x03\x04" else ".json"
        (named / path.with_suffix(suffix).name).write_bytes(path.read_bytes())
    expected = lint_sources(collect_inputs([str(named)]), profile, OPTIONS)
    assert [r.path.replace(".zip", ".json").replace("/named/", "/files/") for r in expected] == [
        r.path for r in results
    ]
    assert [(r.findings, [e.message for e in r.errors]) for r in results] == [
        (r.findings, [e.message for e in r.errors]) for r in expected
    ]
    assert len(results) == 40 + 3 * 2  # each archive: two members read, one refused, one not FHIR-named
    assert [(done, name) for done, _total, name in seen] == [(n + 1, r.path) for n, r in enumerate(results)]
    assert all(done <= total <= len(results) for done, total, _name in seen) and seen[-1][1] == len(results)


def test_an_unreadable_directory_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As rglob skips it (root reads every directory, so the refusal is simulated)."""
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "a.json").write_text("{}")
    (tmp_path / "b.json").write_text("{}")
    scandir = os.scandir

    def refusing(path: str) -> Iterator[os.DirEntry[str]]:
        if path.endswith("locked"):
            raise PermissionError(13, "Permission denied", path)
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    assert _files_under(tmp_path) == [(str(tmp_path / "b.json"), "b.json")]
