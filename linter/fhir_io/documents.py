"""Documents in: a JSON Bundle or resource, NDJSON (a Bulk Data export), a CDS Hooks order-select / order-sign
request, or an order-set definition (PlanDefinition / RequestGroup, read by `linter.orderset_definition`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import orjson

# A module import, not `from ... import`: orderset_definition builds on this package's assembly, so either may be
# imported first; its functions are looked up when a document is read.
from linter import orderset_definition as osd
from linter.errors import InputError
from linter.fhir_io.assemble import (
    ContextKind,
    Mode,
    ReadOrderSet,
    Role,
    build_order_set,
    outcome_text,
    status_of,
)
from linter.fhir_io.entries import Entry, bundle_entries, ref_of
from linter.fhir_io.plain_bundle import read_plain_bundle
from linter.fhir_io.strict import strict_error
from linter.model import DataGap, InvalidResource, OrderSet

ORDER_TYPES = frozenset({"MedicationRequest", "ServiceRequest", "Procedure"})
HISTORY_STATUS = frozenset({"completed", "stopped", "cancelled", "entered-in-error", "revoked", "not-done"})


def order_set_from_document(
    doc: Any,
    source: str,
    *,
    mode: Mode = "strict",
    context: ContextKind | None = None,
    now: datetime | None = None,
) -> ReadOrderSet:
    """One JSON document: a Bundle, a single resource, or a CDS Hooks request."""
    if not isinstance(doc, dict):
        raise InputError(f"expected a FHIR resource or Bundle (a JSON object), got a JSON {type(doc).__name__}", "$")
    if "hook" in doc and "context" in doc and "resourceType" not in doc:
        return order_set_from_hook(doc, mode=mode, now=now, source=source, forced_context=context)
    rtype = doc.get("resourceType")
    if not isinstance(rtype, str):
        raise InputError("not a FHIR resource: no resourceType (and not a CDS Hooks request)", "$.resourceType")
    if rtype == "Bundle":
        if mode == "fast" and type(raw_entries := doc.get("entry")) is list:  # the common Bundle, in one pass
            n = len(raw_entries)
            paths = _ENTRY_PATHS if n <= len(_ENTRY_PATHS) else _entry_paths(n)
            not_plain = osd.DEFINITION_TYPES | {"Bundle"}
            plain = read_plain_bundle(
                raw_entries, paths, not_plain, source=source, now=now or datetime.now(UTC), forced_context=context
            )
            if plain is not None:
                return plain
        entries = _plain_bundle_entries(doc)
        if entries is None:  # something unusual: perhaps a definition, or a bad entry (bundle_entries names it)
            if _may_hold_definition(doc) and osd.is_definition(doc):
                return osd.order_set_from_definition(doc, source, mode=mode, context=context, now=now)
            entries = bundle_entries(doc, "Bundle")
        # Strict mode validates each resource it reads (build_order_set) and the envelope without its entries,
        # never the Bundle as one model: on top of the same resources, fhir.resources then builds a BundleEntry
        # model per entry and finds each resource's class by importing it by name, which makes the Bundle cost
        # about 1.4x its resources (bench/lint_bench.py prints both). The findings are the same: a Bundle valid
        # as a whole has valid resources and envelope, and one that was not was already read resource by resource.
        read = build_order_set(entries, source=source, mode=mode, now=now, forced_context=context)
        if mode == "strict":
            err = strict_error({k: v for k, v in doc.items() if k != "entry"})  # the envelope itself
            if err is not None:
                bad = InvalidResource("Bundle", f"Bundle.{err[0]}".rstrip("."), err[1])
                read = replace(read, order_set=replace(read.order_set, invalid=(*read.order_set.invalid, bad)))
        return read
    if rtype in osd.DEFINITION_TYPES and osd.is_definition(doc):
        return osd.order_set_from_definition(doc, source, mode=mode, context=context, now=now)
    return build_order_set([Entry(doc, rtype)], source=source, mode=mode, now=now, forced_context=context)


new_entry = tuple.__new__  # a named tuple's own constructor is Python code


def _entry_paths(n: int) -> tuple[str, ...]:
    return tuple(f"Bundle.entry[{i}].resource" for i in range(n))


_ENTRY_PATHS = _entry_paths(128)  # the entries' paths, formatted once


def _plain_bundle_entries(bundle: Mapping[str, Any]) -> list[Entry] | None:
    """`bundle_entries(bundle, "Bundle")` of a Bundle whose entries are all objects holding a resource (or none)
    of a type that is neither a definition nor a Bundle: the common Bundle, read in one pass, where
    `_may_hold_definition` is False. None for any other, which the careful readers then read."""
    raw_entries = bundle.get("entry")
    if type(raw_entries) is not list:
        return None
    not_plain = osd.DEFINITION_TYPES | {"Bundle"}
    paths = _ENTRY_PATHS if len(raw_entries) <= len(_ENTRY_PATHS) else _entry_paths(len(raw_entries))
    out: list[Entry] = []
    append = out.append
    for e, path in zip(raw_entries, paths, strict=False):  # paths: at least one per entry
        if type(e) is not dict:
            return None
        res = e.get("resource")
        if type(res) is not dict:
            if res is None:
                continue  # e.g. a transaction DELETE entry
            return None
        rtype = res.get("resourceType")
        if type(rtype) is not str or rtype in not_plain:
            return None
        full_url = e.get("fullUrl")
        url = full_url if type(full_url) is str or isinstance(full_url, str) else None
        append(new_entry(Entry, (res, path, url)))  # Entry(res, path, url), built in C
    return out


def _may_hold_definition(bundle: Mapping[str, Any]) -> bool:
    """False only when every entry is a plain resource of a type that is not a definition: a quick pass, so
    that `osd.is_definition` (the judge, with its careful type checks) runs only on Bundles that might be
    one or that hold something unusual."""
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        return False
    for e in entries:
        if type(e) is not dict:
            return True
        r = e.get("resource")
        if r is None:
            continue
        if type(r) is not dict:
            return True
        rtype = r.get("resourceType")
        if type(rtype) is not str or rtype in osd.DEFINITION_TYPES:
            return True
    return False


def order_set_from_hook(
    request: Mapping[str, Any],
    *,
    prefetch: Mapping[str, Any] | None = None,
    gaps: Sequence[DataGap] = (),
    mode: Mode = "fast",
    now: datetime | None = None,
    source: str | None = None,
    forced_context: ContextKind | None = None,
) -> ReadOrderSet:
    """A CDS Hooks order-select / order-sign request (RULES.md: read as the hook would read it)."""
    hook = request.get("hook")
    ctx = request.get("context")
    if not isinstance(ctx, dict):
        raise InputError("a CDS Hooks request needs a 'context' object", "context")
    draft = ctx.get("draftOrders")
    if draft is None:
        raise InputError("context.draftOrders is missing: there are no orders to check", "context.draftOrders")
    if not isinstance(draft, dict) or draft.get("resourceType") != "Bundle":
        raise InputError("context.draftOrders must be a FHIR Bundle", "context.draftOrders")
    entries = bundle_entries(draft, "context.draftOrders")
    selections: set[str] | None = None
    if hook == "order-select":
        sel = ctx.get("selections")
        if not isinstance(sel, list) or not all(isinstance(s, str) for s in sel):
            raise InputError("order-select needs context.selections (a list of 'Type/id')", "context.selections")
        selections = {s.strip() for s in sel}
        drafted = {ref_of(e.resource, "") for e in entries} | {e.full_url for e in entries if e.full_url}
        missing = sorted(s for s in selections if s not in drafted)
        if missing:
            raise InputError(
                f"context.selections names {', '.join(missing)[:200]}, not found in context.draftOrders "
                "(selections must reference draft orders)",
                "context.selections",
            )

    draft_ids = {id(e.resource) for e in entries}

    def role(r: Mapping[str, Any]) -> Role:
        if id(r) not in draft_ids:
            if r.get("resourceType") in ORDER_TYPES:
                return "context"
            return "context"
        if r.get("resourceType") not in ORDER_TYPES:
            return "skip"
        if status_of(r) in HISTORY_STATUS:
            return "context"
        if selections is not None:
            ref = ref_of(r, "")
            return "review" if ref in selections else "context"
        return "review"

    pf = prefetch if prefetch is not None else request.get("prefetch")
    gap_list = list(gaps)
    if pf is not None and not isinstance(pf, dict):
        raise InputError("prefetch must be an object", "prefetch")
    for key, value in (pf or {}).items():
        path = f"prefetch.{key}"
        if value is None:
            continue
        if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
            gap_list.append(DataGap(str(key), "the prefetch value is not a FHIR resource"))
            continue
        if value["resourceType"] == "OperationOutcome":
            gap_list.append(DataGap(str(key), outcome_text(value)))
        elif value["resourceType"] == "Bundle":
            try:
                entries.extend(bundle_entries(value, path))
            except InputError as exc:
                gap_list.append(DataGap(str(key), f"unreadable prefetch Bundle: {exc}"))
        else:
            entries.append(Entry(value, path))
    patient_id = ctx.get("patientId")
    subject = f"Patient/{patient_id}" if isinstance(patient_id, str) and patient_id else None
    return build_order_set(
        entries,
        source=source or f"hook:{request.get('hookInstance', '')}",
        role=role,
        mode=mode,
        now=now,
        forced_context=forced_context,
        gaps=gap_list,
        hook=hook if isinstance(hook, str) else None,
        subject=subject,
    )


@dataclass
class LoadResult:
    read: list[ReadOrderSet]  # each order set with the resources it was read from
    errors: list[InputError]

    @property
    def order_sets(self) -> list[OrderSet]:
        return [r.order_set for r in self.read]


def parse_documents(data: bytes, source: str) -> tuple[list[tuple[str, Any]], list[InputError]]:
    """JSON, or NDJSON (one JSON value per line). Returns (label, document) pairs and per-line errors.

    Errors name their place: `not JSON at line 5, column 58: trailing comma is not allowed` for a JSON file,
    `line 7` (the path) with `not JSON at column 45: ...` for a bad NDJSON line. A file that is not one JSON
    document is read as NDJSON when its name says so (.ndjson, .jsonl) or when its first line, or most of its
    lines, each hold a whole JSON object; otherwise the error of the whole document is the one reported."""
    if not data.strip():
        raise InputError("the file is empty", None, source)
    try:
        return [("", orjson.loads(data))], []
    except orjson.JSONDecodeError as whole:
        lines = data.splitlines()
        if not _looks_like_ndjson(lines, source):
            where = f"line {whole.lineno}, column {whole.colno}"
            raise InputError(f"not JSON at {where}: {whole.msg}", None, source) from None
    docs: list[tuple[str, Any]] = []
    errors: list[InputError] = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            docs.append((f"line {n}", orjson.loads(line)))
        except orjson.JSONDecodeError as exc:
            errors.append(InputError(f"not JSON at column {exc.colno}: {exc.msg}", f"line {n}", source))
    if not docs:
        first = errors[0]
        raise InputError(f"no line of this NDJSON file is JSON; {first.message}", first.path, source)
    return docs, errors


def _looks_like_ndjson(lines: Sequence[bytes], source: str) -> bool:
    """By name, or by content: the first line, or most lines, each hold a whole JSON object (a pretty-printed
    JSON document has at most a few such lines, never its first)."""
    if source.lower().endswith((".ndjson", ".jsonl")):
        return True
    filled = [line.strip() for line in lines if line.strip()]
    whole = [_is_object_line(line) for line in filled[:1000]]
    return bool(whole) and (whole[0] or sum(whole) * 2 > len(whole))


def _is_object_line(line: bytes) -> bool:
    if not (line.startswith(b"{") and line.endswith(b"}")):
        return False
    try:
        return isinstance(orjson.loads(line), dict)
    except orjson.JSONDecodeError:
        return False


def _subject_of(r: Mapping[str, Any]) -> str:
    if r.get("resourceType") == "Patient" and isinstance(r.get("id"), str):
        return f"Patient/{r['id']}"
    for key in ("subject", "patient"):
        v = r.get(key)
        if isinstance(v, dict) and isinstance(v.get("reference"), str):
            return str(v["reference"])
    return ""


def load_bytes(
    data: bytes,
    source: str,
    *,
    mode: Mode = "strict",
    context: ContextKind | None = None,
    now: datetime | None = None,
) -> LoadResult:
    """Everything in one file. NDJSON resources are grouped by patient (a Bulk Data export holds many);
    NDJSON lines that are Bundles or hook requests are each their own order set."""
    try:
        docs, errors = parse_documents(data, source)
    except InputError as exc:
        exc.source = source
        return LoadResult([], [exc])
    sets: list[ReadOrderSet] = []
    if len(docs) == 1 and docs[0][0] == "":
        try:
            sets.append(order_set_from_document(docs[0][1], source, mode=mode, context=context, now=now))
        except InputError as exc:
            exc.source = source
            errors.append(exc)
        return LoadResult(sets, errors)
    groups: dict[str, list[Entry]] = {}
    for label, doc in osd.gather_definition_lines(docs):
        if isinstance(doc, dict) and (doc.get("resourceType") == "Bundle" or ("hook" in doc and "context" in doc)):
            try:
                sets.append(order_set_from_document(doc, f"{source}:{label}", mode=mode, context=context, now=now))
            except InputError as exc:
                exc.source, exc.path = source, f"{label}: {exc.path or '$'}"
                errors.append(exc)
        elif isinstance(doc, dict) and isinstance(doc.get("resourceType"), str):
            groups.setdefault(_subject_of(doc), []).append(Entry(doc, f"{label}.{doc['resourceType']}"))
        else:
            errors.append(InputError("not a FHIR resource (no resourceType)", label, source))
    for subject, entries in groups.items():
        name = f"{source} ({subject})" if subject and len(groups) > 1 else source
        sets.append(
            build_order_set(entries, source=name, mode=mode, now=now, forced_context=context, subject=subject or None)
        )
    return LoadResult(sets, errors)


def order_sets_from_bytes(
    data: bytes,
    source: str,
    *,
    mode: Mode = "strict",
    context: ContextKind | None = None,
    now: datetime | None = None,
) -> list[OrderSet]:
    """Like load_bytes, but any unusable part raises InputError (for the API: all or a clear 400)."""
    result = load_bytes(data, source, mode=mode, context=context, now=now)
    if result.errors:
        raise result.errors[0]
    return result.order_sets
