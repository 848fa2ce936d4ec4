"""The HTML report: one self-contained file (CSS and script inline, nothing fetched), rendered from the JSON
report document, so the CLI's `--format html`, the workbench's download and the workbench's results page all
show the same rows. Templates and static files live beside this module (`linter/render/templates`,
`linter/render/static`); the API serves them, the CLI renders with them, neither depends on the other. A Bulk
Data export's page is written order set by order set (StreamedReport) from the same templates' macros."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

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
    env.filters["short_ref"] = short_ref
    env.filters["utc"] = utc_minute
    env.filters["path_breaks"] = path_breaks
    return env


CLEAN = "clean"  # the indicator of a row that stands for a clean order set (or a clean file without any)


def _context(order_set: Mapping[str, Any]) -> list[tuple[str, str]]:
    """[(kind, how)]: the BTK/PAD context the engine detected for an order set, as in the report."""
    ctx = order_set.get("context") or {}
    found = [(kind, ctx[kind]) for kind in ("btk", "pad") if ctx.get(kind)]
    if len(found) == 2 and found[0][1] in found[1][1]:  # PAD because of the BTK procedure: say so once
        found[1] = ("pad", "from the BTK procedure")
    return found


def _patient_key(patient: Mapping[str, Any] | None) -> tuple[int, str, str, str]:
    if not patient or not patient.get("name"):
        return (1, "", "", "")  # rows without a named patient after the named ones
    return (0, str(patient["name"]).casefold(), patient.get("birthDate") or "", patient.get("identifier") or "")


RowKey = tuple[int, str, int, str, str]


def table_rows(
    doc: Mapping[str, Any], people: Mapping[str, Sequence[Mapping[str, Any] | None]] | None = None
) -> list[dict[str, Any]]:
    """One row per finding, per error and per clean order set (a clean file without order sets gets one too),
    each with a stable id for its detail panel. Without `people` in report order (linter.render.ordering:
    critical first, as in the CLI's text and CSV; clean rows last); with `people` (report-level demographics,
    linter.fhir_io.demographics, for signed-in workbench users) by indicator, then patient, then report order."""
    keyed: list[tuple[tuple[Any, ...], int, dict[str, Any]]] = []

    def add(key: RowKey, row: dict[str, Any]) -> None:
        full = (key[0], _patient_key(row["patient"]), *key[1:]) if people is not None else key
        keyed.append((full, len(keyed), row))

    for file in doc["files"]:
        sets_people = (people or {}).get(file["path"]) or ()
        many = len(file["order_sets"]) > 1
        for set_index, order_set in enumerate(file["order_sets"]):
            patient = sets_people[set_index] if set_index < len(sets_people) else None
            for key, row in set_rows(file["path"], set_index, order_set, many, patient):
                add(key, row)
        for key, row in file_rows(file["path"], file["errors"], bool(file["order_sets"])):
            add(key, row)
    keyed.sort(key=lambda item: item[:2])
    return [{"id": f"f{n}", **row} for n, (_key, _i, row) in enumerate(keyed, start=1)]


def set_rows(
    file: str, set_index: int, order_set: Mapping[str, Any], many: bool, patient: Mapping[str, Any] | None = None
) -> list[tuple[RowKey, dict[str, Any]]]:
    """(sort key, row) for each finding of one order set of the report, or its one clean row; `many`: its file
    holds several order sets (the rows then name it)."""
    where = {
        "patient": patient,
        "file": file,
        "set_label": order_set["label"] if many else "",
        "context": _context(order_set),
        "order_set": order_set,
    }
    out = []
    for f in order_set["findings"]:
        order = f["refs"][0] if f["refs"] else ""
        row: dict[str, Any] = {
            **where,
            "order": order,
            "drug": f.get("order", ""),
            "code": f["code"],
            "indicator": f["indicator"],
            "summary": f["summary"],
            "finding": f,
        }
        out.append((ordering.row_key(f["indicator"], file, set_index, order, f["code"]), row))
    if not order_set["findings"]:
        n = order_set["counts"]["orders_checked"]
        row = {
            **where,
            "order": "",
            "drug": "",
            "code": "",
            "indicator": CLEAN,
            "summary": f"No findings: {n} {'order' if n == 1 else 'orders'} checked.",
            "finding": None,
        }
        out.append((ordering.row_key(CLEAN, file, set_index, "", ""), row))
    return out


def file_rows(file: str, errors: Sequence[Mapping[str, Any]], has_sets: bool) -> list[tuple[RowKey, dict[str, Any]]]:
    """(sort key, row) for each error of an input, and the clean row of a file without order sets or errors."""
    out = []
    if not has_sets and not errors:
        row: dict[str, Any] = {
            "patient": None,
            "file": file,
            "set_label": "",
            "context": [],
            "order_set": None,
            "order": "",
            "drug": "",
            "code": "",
            "indicator": CLEAN,
            "summary": "No findings: the file holds no order set.",
            "finding": None,
        }
        out.append((ordering.row_key(CLEAN, file, 0, "", ""), row))
    for err in errors:
        row = {
            "patient": None,
            "file": file,
            "set_label": "",
            "context": [],
            "order": err.get("path") or "",
            "drug": "",
            "code": "ERROR",
            "indicator": "error",
            "summary": err["message"],
            "finding": None,
            "order_set": None,
        }
        out.append((ordering.row_key("error", file, ordering.ERROR_SET_INDEX, row["order"], ""), row))
    return out


def path_breaks(path: str) -> Markup:
    """A file path that may wrap after its slashes (and only there) in a narrow column."""
    return Markup("/<wbr>").join(path.split("/"))


def utc_minute(epoch: float) -> str:
    """`2026-11-29 21:40 UTC` for a job's time."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def short_ref(ref: str) -> str:
    """`MedicationRequest/3f2a…` for the table (the full reference stays in the row's title and detail)."""
    kind, sep, rid = ref.partition("/")
    if not sep or len(rid) <= 12:
        return ref
    return f"{kind}/{rid[:8]}…"


def report_context(
    doc: Mapping[str, Any], people: Mapping[str, Sequence[Mapping[str, Any] | None]] | None = None
) -> dict[str, Any]:
    rows = table_rows(doc, people)
    return {
        "doc": doc,
        "summary": doc["summary"],
        "rows": rows,
        "row_count": len(rows),
        "slot": None,  # the in-memory page: every row rendered in place (StreamedReport fills the slots)
        "with_people": people is not None,
        "clean_rows": sum(1 for r in rows if r["indicator"] == CLEAN),
        "codes": sorted({r["code"] for r in rows if r["code"]}),
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


def render_report_body(
    doc: Mapping[str, Any], people: Mapping[str, Sequence[Mapping[str, Any] | None]] | None = None
) -> str:
    """The summary, table and details alone, for the workbench's results page; with `people` (report-level
    demographics) the patient's name, identifier and birth date on every row: for signed-in users only."""
    return environment().get_template("_report_body.html").render(**report_context(doc, people))


def report_html(results: Sequence[FileResult], profile: Profile) -> str:
    return render_report_doc(report_doc(results, profile))


# A row's id in a streamed part: its part and its place there (the id counts the rows before it on the page,
# known only at the end). "<" is escaped in every value a template writes, so only these markers carry one.
ROW_MARK = re.compile(r"<#(critical|warning|info|error|clean):(\d+)#>")
SLOT_MARK = re.compile(r"<#slot:(trees|rows|sets)#>")
ROW_PARTS = (*INDICATORS, "error", CLEAN)  # the page's rows, in this order (linter.render.ordering.RANK)


class StreamedReport:
    """The HTML report of one input written order set by order set (linter.bulk_stream), memory bounded by one
    order set: each order set's rows go to a temporary file per indicator (the page lists critical, then
    warning, info, errors, clean rows, each in order-set order), its definition tree and its row in the inputs
    table to files of their own; `write` renders the page around them (summary, counts and filters, known only
    at the end) with report.html's slots and copies the files in. The rows, trees and order-set rows are the
    macros of _report_macros.html, which the in-memory page loops over: the two pages are the same bytes.

    The first order set and the first tree wait for the second: a file's rows name their order set only when
    it holds several, and a single definition's tree is shown unfolded."""

    def __init__(self, tmp: Path, path: str) -> None:
        self.tmp, self.path = tmp, path
        names = (*ROW_PARTS, "trees", "sets")
        self.parts = {name: (tmp / f"html-{name}").open("w", encoding="utf-8") for name in names}
        self.rows = dict.fromkeys(ROW_PARTS, 0)
        self.sets = self.trees = 0
        self.first_set: Mapping[str, Any] | None = None
        self.first_tree: Mapping[str, Any] | None = None
        self.macros: Any = environment().get_template("_report_macros.html").module  # its macros, callable

    def add_set(self, order_set: Mapping[str, Any]) -> None:
        """The next order set of the input, as in the JSON report (report.report_set)."""
        self.sets += 1
        if self.sets == 1:
            self.first_set = order_set
            return
        if self.first_set is not None:
            self._write_set(0, self.first_set, many=True)
            self.first_set = None
        self._write_set(self.sets - 1, order_set, many=True)

    def _write_set(self, index: int, order_set: Mapping[str, Any], many: bool) -> None:
        rows = [self._write_row(row) for row in _in_order(set_rows(self.path, index, order_set, many))]
        for tree in definition_trees({"files": [{"path": self.path, "order_sets": [order_set]}]}, rows):
            self.trees += 1
            if self.trees == 1:
                self.first_tree = tree
                continue
            if self.first_tree is not None:
                self.parts["trees"].write(self.macros.definition_tree(self.first_tree, 1, False))
                self.first_tree = None
            self.parts["trees"].write(self.macros.definition_tree(tree, self.trees, False))
        self.parts["sets"].write(self.macros.input_set_row(order_set))

    def _write_row(self, row: dict[str, Any]) -> dict[str, Any]:
        part = row["indicator"]
        self.rows[part] += 1
        row = {"id": Markup(f"<#{part}:{self.rows[part]}#>"), **row}  # noqa: S704 - our marker, see ROW_MARK
        self.parts[part].write(self.macros.report_row(row, False))
        return row

    def write(self, dest: TextIO, doc: Mapping[str, Any]) -> None:
        """The page, once every order set was added: `doc` is the JSON report document of the input with its
        summary, counts and errors, and its order sets left out (report.report_file with no sets)."""
        if self.first_set is not None:
            self._write_set(0, self.first_set, many=False)
        if self.first_tree is not None:
            self.parts["trees"].write(self.macros.definition_tree(self.first_tree, 1, True))
        (file,) = doc["files"]
        for row in _in_order(file_rows(self.path, file["errors"], self.sets > 0)):
            self._write_row(row)
        self.close()
        offsets, before = {}, 0
        for part in ROW_PARTS:
            offsets[part], before = before, before + self.rows[part]
        css, js = report_inline_assets()
        page = (
            environment()
            .get_template("report.html")
            .render(
                title="orderlint report",
                body=None,
                css=Markup(css),  # noqa: S704 - our own stylesheet
                js=Markup(js),  # noqa: S704 - our own script
                doc=doc,
                summary=doc["summary"],
                rows=(),
                row_count=before,
                slot=lambda name: Markup(f"<#slot:{name}#>"),  # noqa: S704 - our marker, see SLOT_MARK
                with_people=False,
                clean_rows=self.rows[CLEAN],
                codes=sorted({*doc["summary"]["by_code"], *(("ERROR",) if self.rows["error"] else ())}),
                trees=(),
            )
        )
        pieces = SLOT_MARK.split(page)
        dest.write(pieces[0])
        for slot, text in zip(pieces[1::2], pieces[2::2], strict=True):
            if slot == "rows":
                for part in ROW_PARTS:
                    self._copy(part, dest, offsets)
            elif slot == "trees" or self.sets > 1:  # the inputs table lists the order sets of a file with several
                self._copy(slot, dest, offsets)
            dest.write(text)

    def _copy(self, part: str, dest: TextIO, offsets: Mapping[str, int]) -> None:
        with (self.tmp / f"html-{part}").open(encoding="utf-8") as src:
            for line in src:
                if "<#" in line:
                    line = ROW_MARK.sub(lambda m: f"f{offsets[m[1]] + int(m[2])}", line)
                dest.write(line)

    def close(self) -> None:
        for fh in self.parts.values():
            fh.close()


def _in_order(keyed: list[tuple[RowKey, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Rows by their sort key (stable, as table_rows sorts them)."""
    return [row for _key, row in sorted(keyed, key=lambda item: item[0])]
