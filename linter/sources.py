"""How text clinicians read names a source: the document's short title and line ("Q&A: below-knee angioplasty
(2025-03-24), line 24"), never a bare file name or prefix ("000_db9ef64a206b36dc.txt:24", "(000:31)").

The titles are data (linter/terminology/sources.toml, checked against the sources index by tests/test_sources.py).
The CLI text line and the JSON report keep `Citation.label` (FILE:LINE) for pharmacists who open the file.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, cast

from linter.model import Citation
from linter.model_class import frozen_model
from linter.terminology.records import HERE, load_file

if TYPE_CHECKING:
    from linter.terminology.schema import SourcesFile

SOURCES_FILE = HERE / "sources.toml"


@frozen_model
class SourceTitles:
    documents: dict[str, str]  # file -> short title
    index_titles: dict[str, str]  # file -> the index's "what it is" cell
    references: dict[str, str]  # citation prefix (RULES.md, reference/clinical-kb.md) -> title


@cache
def source_titles() -> SourceTitles:
    """Read once a text names a source (not by `rules`, `explain` or a clean lint): the shipped file from its
    validated form (linter.terminology.records, no tomllib: ~5 ms of a CLI start), any other validated now."""
    data = cast("SourcesFile", load_file(SOURCES_FILE.name))
    return SourceTitles(
        documents={d.file: d.short_title for d in data.document},
        index_titles={d.file: d.index_title for d in data.document},
        references={r.prefix: r.title for r in data.reference},
    )


def _file_for(name: str) -> str | None:
    """A source file from its full name or its number prefix ("000", "000_db9ef64a206b36dc.txt")."""
    docs = source_titles().documents
    if name in docs:
        return name
    matches = [f for f in docs if f.split("_", 1)[0] == name]
    return matches[0] if len(matches) == 1 else None


def source_ref(name: str, lines: str | None = None) -> str:
    """The short reference for ("000", "31") or the full file name: "Q&A: below-knee angioplasty (2025-03-24), line 31".
    Raises KeyError for a document that is not in the sources index (a typo must not reach a card)."""
    file = _file_for(name)
    if file is None:
        raise KeyError(f"no source document '{name}' in {SOURCES_FILE.name}")
    title = source_titles().documents[file]
    if not lines:
        return title
    word = "lines" if "-" in lines or "," in lines else "line"
    return f"{title}, {word} {lines}"


def citation_text(c: Citation) -> str:
    """The citation as a clinician reads it: a source document's short title and line, or the titled
    reference ("orderlint clinical reference §2.1 (ISMP heparin label alert)")."""
    if _file_for(c.source) is not None:
        return source_ref(c.source, c.lines)
    text = c.source
    for prefix, title in source_titles().references.items():
        if text.startswith(prefix):
            text = title + text[len(prefix) :]
        else:
            text = text.replace(f"({prefix} ", f"({title} ").replace(f"({prefix})", f"({title})")
    return f"{text}:{c.lines}" if c.lines else text
