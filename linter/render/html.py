"""The HTML report: one self-contained file (CSS and script inline, nothing fetched), rendered from the JSON
report document, so the CLI's `--format html`, the workbench's download and the workbench's results page all
show the same rows. Templates and static files live beside this module (`linter/render/templates`,
`linter/render/static`); the API serves them, the CLI renders with them, neither depends on the other."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup

from linter.render import ordering
from linter.render.definition_tree import definition_trees
from linter.render.report import report_doc

if TYPE_CHECKING:
    from linter.batch import FileResult
    from linter.profiles import Profile

RENDER_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = RENDER_DIR / "templates"
STATIC_DIR = RENDER_DIR / "static"
INDICATORS = ("critical", "warning", "info")


def markdown(text: str) -> Markup:
    """Finding details are markdown written by rules; raw HTML in them is escaped, never passed through."""

    return Markup(_rendered(text))  # noqa: S704 - markdown-it with html disabled escapes its input


@lru_cache(maxsize=4096)
def _rendered(text: str) -> str:
    # Rendering markdown dominated the time to render a large report, and many findings share their text
    # (same rule, same values): remember the latest texts.
    rendered: str = _md().render(text)
    return rendered


@cache
def _md() -> Any:
    return MarkdownIt("commonmark", {"html": False, "linkify": False})


def diff_lines(diff: str) -> list[tuple[str, str]]:
    """(kind, line) for a unified diff: kind is add, del, hunk or same; the +/- sign stays in the text."""
    out = []
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            kind = "file"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        elif line.startswith("@@"):
            kind = "hunk"
        else:
            kind = "same"
        out.append((kind, line))
    return out


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["markdown"] = markdown
    env.filters["diff_lines"] = diff_lines
    env.globals["INDICATORS"] = INDICATORS
    return env


def table_rows(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per finding and per error, in report order (linter.render.ordering: critical first, as in the
    CLI's text and CSV), each with a stable id for its detail panel."""
    keyed: list[tuple[tuple[int, str, int, str, str], int, dict[str, Any]]] = []
    for file in doc["files"]:
        for set_index, order_set in enumerate(file["order_sets"]):
            for f in order_set["findings"]:
                order = f["refs"][0] if f["refs"] else ""
                row = {
                    "file": file["path"],
                    "order": order,
                    "drug": f.get("order", ""),
                    "code": f["code"],
                    "indicator": f["indicator"],
                    "summary": f["summary"],
                    "finding": f,
                    "order_set": order_set,
                }
                key = ordering.row_key(f["indicator"], file["path"], set_index, order, f["code"])
                keyed.append((key, len(keyed), row))
        for err in file["errors"]:
            row = {
                "file": file["path"],
                "order": err.get("path") or "",
                "drug": "",
                "code": "ERROR",
                "indicator": "error",
                "summary": err["message"],
                "finding": None,
                "order_set": None,
            }
            key = ordering.row_key("error", file["path"], ordering.ERROR_SET_INDEX, row["order"], "")
            keyed.append((key, len(keyed), row))
    keyed.sort(key=lambda item: item[:2])
    return [{"id": f"f{n}", **row} for n, (_key, _i, row) in enumerate(keyed, start=1)]


def report_context(doc: Mapping[str, Any]) -> dict[str, Any]:
    rows = table_rows(doc)
    return {
        "doc": doc,
        "summary": doc["summary"],
        "rows": rows,
        "codes": sorted({r["code"] for r in rows}),
        "trees": definition_trees(doc, rows),
    }


def static_text(name: str) -> str:
    return (STATIC_DIR / name).read_text(encoding="utf-8")


def report_inline_assets() -> tuple[str, str]:
    """The stylesheet and the script the standalone report carries inline (the workbench's download allows
    exactly these by hash in its Content-Security-Policy: keep the two in step through this function)."""
    css = static_text("workbench.css") + static_text("definition_tree.css")
    js = static_text("report.js") + static_text("definition_tree.js")
    return css, js


def render_report_doc(doc: Mapping[str, Any], title: str = "orderlint report", body: str | None = None) -> str:
    """The standalone report file (no timestamps, so the same input renders byte for byte the same). `body`:
    the output of `render_report_body(doc)` when the caller has it already (the workbench writes both)."""
    template = environment().get_template("report.html")
    css, js = report_inline_assets()
    return template.render(
        title=title,
        body=None if body is None else Markup(body),  # noqa: S704 - rendered by our own template
        css=Markup(css),  # noqa: S704 - our own stylesheet
        js=Markup(js),  # noqa: S704 - our own script
        **report_context(doc),
    )


def render_report_body(doc: Mapping[str, Any]) -> str:
    """The summary, table and details alone, for the workbench's results page."""
    return environment().get_template("_report_body.html").render(**report_context(doc))


def report_html(results: Sequence[FileResult], profile: Profile) -> str:
    return render_report_doc(report_doc(results, profile))
