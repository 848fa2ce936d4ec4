"""Source references clinicians read: each document's short title matches the sources index, and no card text
names a source by its file name or number prefix (issue 8 §4)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from linter.rules import RULES
from linter.rules._common import refs, source_block
from linter.sources import citation_text, source_ref, source_titles
from tests.conftest import ROOT

INDEX = ROOT / "knowledge" / "sources" / "README.md"  # the project's own copy (tests/test_knowledge_copy.py)
BARE_FILE = re.compile(r"\b\d{3}_[0-9a-f]{16}\.txt|\(\d{3}:\d+")


def _index_rows() -> dict[str, str]:
    """file -> "what it is", from the sources index table."""
    rows = {}
    for line in INDEX.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].startswith("`") and cells[0].endswith(".txt`"):
            rows[cells[0].strip("`")] = cells[1]
    return rows


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def test_every_indexed_document_has_a_short_title_taken_from_its_index_title() -> None:
    rows = _index_rows()
    titles = source_titles()
    assert set(titles.documents) == set(rows)
    for file, what in rows.items():
        assert titles.index_titles[file] == what, file
        assert _words(titles.documents[file]) <= _words(what), (file, titles.documents[file])


def test_every_cited_document_has_a_title_and_cards_never_show_file_names() -> None:
    for rule in RULES:
        for c in rule.META.citations:
            if c.source.endswith(".txt"):
                assert c.source in source_titles().documents, (rule.META.code, c.source)
            assert not BARE_FILE.search(citation_text(c)), (rule.META.code, citation_text(c))
        assert not BARE_FILE.search(source_block(rule.META))


def test_short_references() -> None:
    assert source_ref("000", "24") == "Q&A: below-knee angioplasty (2025-03-24), line 24"
    assert source_ref("003_bc3cff2c335c2dec.txt", "24-27").endswith(", lines 24-27")
    assert refs(("000", "31"), ("001", "31")) == (
        "Q&A: below-knee angioplasty (2025-03-24), line 31; Q&A: PVD with distal calcification (2025-12-12), line 31"
    )
    with pytest.raises(KeyError):
        source_ref("009", "1")


def test_reviewed_card_texts_name_no_source_file() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in Path(ROOT / "tests" / "snapshots").rglob("*.md")
        if BARE_FILE.search(p.read_text(encoding="utf-8"))
    ]
    assert not offenders
