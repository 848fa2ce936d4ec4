"""The project's copy of the knowledge (knowledge/: the cited source documents and their index, the rule catalog,
the reference notes and the CDS Hooks examples) equals the team's shared folder when that folder is beside the
checkout, so the two cannot drift. This is the only test that reads ../shared: every other test and the code read
knowledge/, so a plain clone passes on its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT

KNOWLEDGE = ROOT / "knowledge"
SHARED = ROOT.parent / "shared"
COPIED = ("sources", "RULES.md", "reference")  # knowledge/README.md is the project's own, not a copy


def _files(base: Path, name: str) -> dict[str, bytes]:
    """Relative path -> bytes of every file under base/name (or of base/name itself when it is a file)."""
    top = base / name
    if top.is_file():
        return {name: top.read_bytes()}
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in sorted(top.rglob("*")) if p.is_file()}


def differences(copy: Path, original: Path) -> list[str]:
    """What differs between the copy and the original, one line per file; empty when they are identical."""
    problems = []
    for name in COPIED:
        ours, theirs = _files(copy, name), _files(original, name)
        problems += [f"{path}: missing from {copy.name}/" for path in sorted(theirs.keys() - ours.keys())]
        problems += [f"{path}: not in {original.name}/" for path in sorted(ours.keys() - theirs.keys())]
        problems += [
            f"{path}: content differs" for path in sorted(ours.keys() & theirs.keys()) if ours[path] != theirs[path]
        ]
    return problems


def test_knowledge_is_a_byte_for_byte_copy_of_shared() -> None:
    if not SHARED.is_dir():
        pytest.skip("no ../shared beside the checkout: nothing to compare knowledge/ with")
    problems = differences(KNOWLEDGE, SHARED)
    assert not problems, "knowledge/ has drifted from ../shared (copy the files again):\n" + "\n".join(problems)


def test_the_comparison_sees_every_kind_of_drift(tmp_path: Path) -> None:
    """The check above can fail: a changed byte, a missing file and an extra file are each reported."""
    original, copy = tmp_path / "shared", tmp_path / "knowledge"
    for base in (original, copy):
        (base / "sources").mkdir(parents=True)
        (base / "reference" / "examples").mkdir(parents=True)
        (base / "RULES.md").write_bytes(b"| AT101 | aspirin |\n")
        (base / "sources" / "000.txt").write_bytes(b"line one\nline two\n")
        (base / "reference" / "examples" / "a.json").write_bytes(b"{}")
    assert differences(copy, original) == []

    (copy / "sources" / "000.txt").write_bytes(b"line one\nline 2\n")
    (original / "reference" / "examples" / "b.json").write_bytes(b"{}")
    (copy / "RULES.md").unlink()
    (copy / "sources" / "extra.txt").write_bytes(b"")
    assert differences(copy, original) == [
        "sources/extra.txt: not in shared/",
        "sources/000.txt: content differs",
        "RULES.md: missing from knowledge/",
        "reference/examples/b.json: missing from knowledge/",
    ]
