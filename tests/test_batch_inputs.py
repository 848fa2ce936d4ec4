"""Collecting a directory's inputs lists what `sorted(p for p in d.rglob("*") if p.is_file())` lists, in that
order and spelled the same (linter.batch walks os.scandir's entries instead, without a stat per file)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from linter.batch import _files_under, _looks_like_zip, _suffix, collect_inputs


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
    sources = collect_inputs([str(tmp_path)])
    assert [(s.name, s.error) for s in sources] == [
        (str(tmp_path / "short.json"), None),
        (str(tmp_path / "zip.json"), "not a readable zip archive"),
    ]


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
