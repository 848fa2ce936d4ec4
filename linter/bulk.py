"""FHIR Bulk Data exports (`$export`: NDJSON files per resource type, `.ndjson.gz` too), read per patient.

Shared by the single-machine CLI (`orderlint lint --export`) and the Spark job (`orderlint spark`,
linter.spark), so both key, group and lint the same way and write the same rows:

1. `key_line` reads one NDJSON line: a resource of a patient (keyed by `Patient/<id>` from its own id, its
   `subject` or its `patient` reference), a Medication (keyed by `Medication/<id>`: it belongs to the patients
   whose MedicationRequests name it in `medicationReference`), or an error row (file and line number).
2. One patient's lines (its resources plus the Medications they reference), sorted by file and line, become
   one order set (`lint_patient`), linted by the very same engine as every other input. On one machine the
   lines are grouped on disk (`index_export`: a SQLite index in a temp dir, linter.bulk_index), so memory is
   bounded by one patient's order set, not by the export; the Spark job groups with Spark.
3. Each patient yields rows (`RECORD_COLUMNS`): one per finding, one per order under review ("order" rows,
   the MUE denominators), one per error.

Orders under review (a reading: the catalog's "Upload and CLI" rule is written for drafts):
- Without a window, the upload rule: MedicationRequests and ServiceRequests in draft, active or on-hold (or
  with no status), Procedures in preparation or in progress. `orderlint lint` on the concatenated NDJSON
  gives the same findings.
- With `--since`/`--until` (a retrospective review, e.g. an MUE over last year), every MedicationRequest and
  ServiceRequest whose `authoredOn` falls in [since, until) is under review whatever its status, except
  `entered-in-error` (never a real order) and `draft` (never signed): what matters is what was ordered, and
  a year later nearly every order is completed or stopped. Orders authored before the window are context
  (an active one is a current medication); orders authored after it are not read (the future was not known
  when the order was written); undated orders are not checked and are counted as such in the report.
  Procedures are context (performed procedures give the BTK context). Each patient's order set is evaluated
  as of its latest order under review (so "a BTK procedure within 30 days" and durations are judged as at
  ordering time), not as of the day the export is read.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import orjson

from linter.batch import FileResult, LintedSet
from linter.bulk_index import ExportIndex
from linter.engine import run
from linter.errors import InputError
from linter.fhir_io import ContextKind, Mode, Role, order_set_from_resources, upload_role
from linter.model import NO_ORIGINALS, Finding, MedicationOrder, OrderSet, Originals, ProcedureOrder
from linter.profiles import Profile
from linter.render.report import order_name
from linter.store.repository import hash_patient_id

EXPORT_SUFFIXES = (".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz")
RETRO_NOT_ORDERS = frozenset({"entered-in-error", "draft"})

# Computed values (Finding.values) that are numbers get a column each; everything is also in values_json.
# tests/bulk checks that every numeric value a rule produces on the fixtures has its column here.
VALUE_COLUMNS = (
    "mg_per_day",
    "per_administration_mg",
    "administrations_per_day",
    "aspirin_mg_per_day",
    "floor_mg_per_day",
    "units_per_kg",
    "weight_kg",
    "dose_units_low",
    "dose_units_high",
    "dose_ug",
    "dose_ug_low",
    "dose_ug_high",
    "duration_days",
    "min_duration_days",
    "max_duration_days",
    "suggested_mg",
    "suggested_dose",
    "residual_stenosis_above_percent",
)
TEXT_COLUMNS = (
    "kind",  # finding | order (under review) | undated (not checked: no authoredOn in a window) | error
    "patient_hmac",  # HMAC-SHA256 of the patient id with the installation's salt ("" when no patient)
    "order",  # Type/id of the order (a finding's first reference; empty for order-set findings)
    "authored",  # the order's authoredOn date (YYYY-MM-DD) when it has one
    "month",  # YYYY-MM of `authored`, else of the order set's evaluation time; "undated" for error rows
    "code",  # rule code, ERROR for an error row
    "name",
    "indicator",  # critical | warning | info | error
    "drug",
    "summary",
    "file",
    "values_json",
)
RECORD_COLUMNS = (*TEXT_COLUMNS, "line", *VALUE_COLUMNS)
Record = dict[str, Any]


@dataclass(frozen=True)
class Window:
    """Orders authored in [since, until): a retrospective review. Neither set: the upload rule."""

    since: date | None = None
    until: date | None = None

    @property
    def active(self) -> bool:
        return self.since is not None or self.until is not None

    def place(self, authored: str | None) -> str:
        """'before', 'in', 'after' the window, or 'undated'."""
        day = authored_date(authored)
        if day is None:
            return "undated"
        if self.since is not None and day < self.since:
            return "before"
        if self.until is not None and day >= self.until:
            return "after"
        return "in"


@dataclass(frozen=True)
class ExportOptions:
    mode: Mode = "strict"
    context: ContextKind | None = None
    select: Sequence[str] | None = None
    ignore: Sequence[str] = ()
    now: datetime | None = None  # evaluation time without a window (fixed once per run)
    window: Window = field(default_factory=Window)


# --- files and lines -------------------------------------------------------------------------------------


def is_export_file(name: str) -> bool:
    return name.lower().endswith(EXPORT_SUFFIXES)


def export_files(paths: Sequence[str]) -> list[tuple[str, str]]:
    """(label, path) of every NDJSON file: a directory's own files (sorted, labelled by file name) or files
    named directly (labelled as given). The labels are what rows name as `file`."""
    out: list[tuple[str, str]] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out.extend((c.name, str(c)) for c in sorted(p.iterdir()) if c.is_file() and is_export_file(c.name))
        else:
            out.append((raw, raw))
    return out


def read_lines(path: str, content: bytes | None = None) -> Iterator[tuple[int, bytes | str]]:
    """(line number, bytes) of a local file, or of its `content` already read (the Spark job), gunzipped by
    suffix. A file that cannot be read (missing, truncated gzip) ends with (0, error message) instead of
    raising."""
    n = 0
    try:
        with (
            open(path, "rb") if content is None else io.BytesIO(content) as raw,
            gzip.GzipFile(fileobj=raw) if path.lower().endswith(".gz") else raw as fh,
        ):
            for n, line in enumerate(fh, start=1):
                yield n, line
    except (OSError, EOFError, zlib.error) as exc:
        yield 0, f"cannot read {'after line ' + str(n) if n else 'the file'}: {exc}"


def _tail_ref(ref: str, rtype: str) -> str:
    """`https://ehr/fhir/Patient/1/_history/2` or `Patient/1` -> `Patient/1` (the reference's Type/id)."""
    parts = ref.rstrip("/").split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) >= 2 and parts[-2] == rtype:
        return f"{rtype}/{parts[-1]}"
    return ref


def patient_key(r: Mapping[str, Any]) -> str:
    """`Patient/<id>` of the patient a resource belongs to, or "" when it names none."""
    if r.get("resourceType") == "Patient" and isinstance(r.get("id"), str):
        return f"Patient/{r['id']}"
    for key in ("subject", "patient"):
        v = r.get(key)
        if isinstance(v, dict) and isinstance(v.get("reference"), str):
            return _tail_ref(v["reference"], "Patient")
    return ""


def medication_refs(r: Mapping[str, Any]) -> list[str]:
    v = r.get("medicationReference")
    if isinstance(v, dict) and isinstance(v.get("reference"), str) and not v["reference"].startswith("#"):
        return [_tail_ref(v["reference"], "Medication")]
    return []


# A keyed line: (kind, key, med_refs, line text or error message). kind: patient | medication | error.
Keyed = tuple[str, str, list[str], str]


def key_line(text: bytes | str) -> Keyed | None:
    """Which patient (or Medication) one NDJSON line belongs to; None for a blank line."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if not text.strip():
        return None
    try:
        r = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return ("error", "", [], f"not JSON: {exc}")
    if not isinstance(r, dict) or not isinstance(r.get("resourceType"), str):
        return ("error", "", [], "not a FHIR resource (no resourceType)")
    rtype = r["resourceType"]
    if rtype == "Bundle" or ("hook" in r and "context" in r):
        return ("error", "", [], f"a {rtype} line: a Bulk Data export holds one resource per line")
    if rtype == "Medication":
        rid = r.get("id")
        return ("medication", f"Medication/{rid}" if isinstance(rid, str) else "", [], text)
    return ("patient", patient_key(r), medication_refs(r), text)


# --- one patient -----------------------------------------------------------------------------------------


def authored_date(value: Any) -> date | None:
    """The date of an authoredOn (a partial date counts as its first day), or None."""
    if not isinstance(value, str):
        return None
    head = value[:10]
    head += {4: "-01-01", 7: "-01"}.get(len(head), "")
    try:
        return date.fromisoformat(head)
    except ValueError:
        return None


def export_role(window: Window) -> Callable[[Mapping[str, Any]], Role]:
    if not window.active:
        return upload_role

    def role(r: Mapping[str, Any]) -> Role:
        if r.get("resourceType") not in ("MedicationRequest", "ServiceRequest"):
            return "context"
        place = window.place(r.get("authoredOn"))
        if place == "after":
            return "skip"
        if place == "in" and r.get("status") not in RETRO_NOT_ORDERS:
            return "review"
        return "context"

    return role


def evaluation_time(resources: Sequence[Mapping[str, Any]], options: ExportOptions) -> datetime:
    """Without a window, the run's time; with one, the latest authoredOn of the orders under review."""
    now = options.now or datetime.now(UTC)
    if not options.window.active:
        return now
    role = export_role(options.window)
    latest: datetime | None = None
    for r in resources:
        if role(r) == "review":
            when = _authored_datetime(r.get("authoredOn"))
            if when is not None and (latest is None or when > latest):
                latest = when
    return latest or now


def _authored_datetime(value: Any) -> datetime | None:
    if isinstance(value, str) and len(value) > 10:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            pass
    day = authored_date(value)
    return datetime.combine(day, time(23, 59, 59), UTC) if day else None


def patient_hmac(key: str, salt: str) -> str:
    """The store's patient hash (linter.store.repository.hash_patient_id) of the bare id, so a row joins to
    the cards the service stored for the same patient; "" for resources that name no patient."""
    if not key:
        return ""
    return hash_patient_id(salt, key.split("/", 1)[1] if key.startswith("Patient/") else key)


@dataclass
class PatientResult:
    order_set: OrderSet | None
    findings: list[Finding]
    records: list[Record]
    originals: Originals = field(default_factory=lambda: NO_ORIGINALS)


def lint_patient(
    key: str, lines: Iterable[tuple[str, int, str]], profile: Profile, options: ExportOptions, salt: str
) -> PatientResult:
    """One patient's NDJSON lines (file, line, text), already sorted by file and line, linted as one order set.
    Never raises for bad data: what cannot be linted becomes an error row."""
    hmac_ = patient_hmac(key, salt)
    parsed: list[tuple[Mapping[str, Any], str]] = []
    where: dict[int, tuple[str, int]] = {}
    try:
        for file, line, text in lines:
            r = orjson.loads(text)
            where[id(r)] = (file, line)
            parsed.append((r, f"{file}:{line}.{r.get('resourceType')}"))
        resources = [r for r, _ in parsed]
        now = evaluation_time(resources, options)
        read = order_set_from_resources(
            parsed,
            source=key or "(no patient)",
            role=export_role(options.window),
            mode=options.mode,
            now=now,
            context=options.context,
            subject=key or None,
        )
        order_set, originals = read.order_set, read.originals
        findings = run(order_set, profile, select=options.select, ignore=options.ignore)
    except Exception as exc:  # a patient that breaks the reader is an error row, never a dead job
        file, line = next(iter(where.values()), ("", 0))
        row = error_record(file, line, f"could not lint this patient's resources: {type(exc).__name__}: {exc}")
        row["patient_hmac"] = hmac_
        return PatientResult(None, [], [row])
    refs_at = {_ref(r): where[id(r)] for r, _ in parsed}
    records = order_set_records(order_set, originals, findings, hmac_, refs_at)
    if options.window.active:
        for r, _ in parsed:
            if (
                r.get("resourceType") in ("MedicationRequest", "ServiceRequest")
                and options.window.place(r.get("authoredOn")) == "undated"
                and r.get("status") not in RETRO_NOT_ORDERS
            ):
                file, line = where[id(r)]
                rec = _blank("undated", hmac_, file, line)
                rec["order"] = _ref(r)
                records.append(rec)
    return PatientResult(order_set, findings, records, originals)


def _ref(r: Mapping[str, Any]) -> str:
    return f"{r.get('resourceType')}/{r.get('id')}"


def _blank(kind: str, hmac_: str, file: str, line: int | None) -> Record:
    rec: Record = dict.fromkeys(RECORD_COLUMNS)
    rec.update(kind=kind, patient_hmac=hmac_, file=file, line=line)
    return rec


def order_set_records(
    order_set: OrderSet,
    originals: Originals,
    findings: Sequence[Finding],
    hmac_: str,
    refs_at: Mapping[str, tuple[str, int | None]],
    default_file: str = "",
) -> list[Record]:
    """An order set's rows: one per order under review (the MUE's denominators), one per finding. A row's
    month is its order's authoredOn month, else the month the order set was evaluated."""
    fallback_month = order_set.evaluated_at.strftime("%Y-%m")
    out = []
    orders: list[MedicationOrder | ProcedureOrder] = [*order_set.medications, *order_set.procedures]
    for order in orders:
        file, line = refs_at.get(order.ref, (default_file, None))
        rec = _blank("order", hmac_, file, line)
        day = authored_date(originals.get(order.ref, {}).get("authoredOn"))
        rec.update(
            order=order.ref,
            authored=day.isoformat() if day else None,
            month=day.strftime("%Y-%m") if day else fallback_month,
            drug=order.name,
        )
        out.append(rec)
    dates = {r["order"]: (r["authored"], r["month"]) for r in out}
    for f in findings:
        authored, month = dates.get(f.primary_ref, (None, fallback_month))
        file, line = refs_at.get(f.primary_ref, (default_file, None))
        rec = _blank("finding", hmac_, file, line)
        rec.update(
            order=f.primary_ref,
            authored=authored,
            month=month,
            code=f.code,
            name=f.name,
            indicator=f.indicator.value,
            drug=order_name(order_set, f.primary_ref),
            summary=f.summary,
            values_json=orjson.dumps(dict(f.values), default=str, option=orjson.OPT_SORT_KEYS).decode()
            if f.values
            else None,
        )
        for k in VALUE_COLUMNS:
            v = f.values.get(k)
            if isinstance(v, int | float) and not isinstance(v, bool):
                rec[k] = float(v)
        out.append(rec)
    return out


def error_record(file: str, line: int | None, message: str) -> Record:
    rec = _blank("error", "", file, line)
    rec.update(code="ERROR", name="unreadable input", indicator="error", summary=message, month="undated")
    return rec


# --- the single-machine run ------------------------------------------------------------------------------


@dataclass
class ExportRun:
    patients: list[PatientResult]
    errors: list[Record]

    @property
    def records(self) -> list[Record]:
        return [rec for p in self.patients for rec in p.records] + self.errors

    def file_results(self, name: str) -> list[FileResult]:
        """The run as the CLI's usual results (every --format works): one input, one order set per patient."""
        sets = [LintedSet(p.order_set, p.findings, p.originals) for p in self.patients if p.order_set is not None]
        errors = [
            InputError(str(e["summary"]), f"{e['file']} line {e['line']}" if e["line"] else str(e["file"]), name)
            for e in self.errors + [r for p in self.patients for r in p.records if r["kind"] == "error"]
        ]
        return [FileResult(name, sets, errors)]


def records_from_results(results: Sequence[FileResult], salt: str) -> list[Record]:
    """Rows for inputs that are not an export (Bundles, NDJSON files, hook requests): the CLI's
    `--format mue` over anything `orderlint lint` reads."""
    out: list[Record] = []
    for r in results:
        for s in r.sets:
            key = s.order_set.subject_ref or ""
            out.extend(order_set_records(s.order_set, s.originals, s.findings, patient_hmac(key, salt), {}, r.path))
        out.extend(error_record(r.path, None, f"{e.path}: {e.message}" if e.path else e.message) for e in r.errors)
    return out


def index_export(paths: Sequence[str], errors: list[Record], directory: str | None = None) -> ExportIndex:
    """Every line of the export read once into a disk-backed index (linter.bulk_index), never all in memory.
    Unreadable lines become error rows in `errors` (file and line); a file that stops being readable (a
    truncated .gz) an error row naming the last good line, the lines before it are kept."""
    files = export_files(paths)
    index = ExportIndex([label for label, _ in files], directory)
    try:
        for i, (label, path) in enumerate(files):
            last = 0
            for n, text in read_lines(path):
                if n == 0:
                    errors.append(error_record(label, last or None, str(text)))
                    continue
                last = n
                keyed = key_line(text)
                if keyed is None:
                    continue
                kind, key, med_refs, body = keyed
                if kind == "error":
                    errors.append(error_record(label, n, body))
                elif kind == "medication":
                    index.add_medication_line(key, i, n, body)
                else:
                    index.add_patient_line(key, i, n, body, med_refs)
    except BaseException:
        index.close()
        raise
    return index


def iter_export(
    paths: Sequence[str], profile: Profile, options: ExportOptions, salt: str, errors: list[Record]
) -> Iterator[PatientResult]:
    """The export's patients linted one at a time, in patient key order: memory bounded by one order set.
    `errors` holds the unreadable lines once the first patient is yielded (or the iterator is exhausted)."""
    if options.now is None:
        options = replace(options, now=datetime.now(UTC))
    with index_export(paths, errors) as index:
        for key, lines in index.groups():
            yield lint_patient(key, lines, profile, options, salt)


def lint_export(paths: Sequence[str], profile: Profile, options: ExportOptions, salt: str) -> ExportRun:
    """The whole run's results in memory (the report formats that need them all, and the reference the Spark
    job is tested against); the input itself is grouped on disk by `index_export`."""
    errors: list[Record] = []
    patients = list(iter_export(paths, profile, options, salt, errors))
    return ExportRun(patients, errors)
