"""The common Bundle, read in one pass: `build_order_set(_plain_bundle_entries(bundle))` of `documents`, with no
Entry built and each resource's type and id read once.

`read_plain_bundle` reads a Bundle whose entries are all objects holding a resource of a type that is neither a
definition nor a Bundle, under the upload rule (`assemble.upload_role`) and with no resource left to validate
(fast mode): the documents a service reads again and again. For any other Bundle it returns None, and the
general readers (`documents`, `assemble.build_order_set`) read it. Both build the same OrderSet
(tests/test_plain_bundle.py compares them).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from linter.fhir_io.assemble import (
    _KINDS,
    _MEDICATION_REQUEST,
    _MEDICATION_STATEMENT,
    _OBSERVATION,
    REVIEW_MED_STATUS,
    Collected,
    ContextKind,
    ReadOrderSet,
    may_be_weight,
    order_set_of,
    read_other,
    read_weight,
    upload_role,
)
from linter.fhir_io.entries import ResourceIndex
from linter.fhir_io.fields import FieldError
from linter.fhir_io.medications import checked_order, plain_order
from linter.model import InvalidResource


def read_plain_bundle(
    raw_entries: list[Any],
    paths: Sequence[str],
    not_plain: Collection[str],
    *,
    source: str,
    now: datetime,
    forced_context: ContextKind | None,
) -> ReadOrderSet | None:
    """The order set of a Bundle's `entry` list as sent (`paths`: each entry's resource path, at least one an
    entry), or None when an entry is not an object holding an object resource whose resourceType is a string
    not in `not_plain` (the definitions and Bundle)."""
    index = ResourceIndex(raw_entries=raw_entries)  # built on the first reference resolved
    read = Collected([], None)
    invalid, meds, active_meds, raw = read.invalid, read.meds, read.active_meds, read.raw
    ref_paths: dict[str, str] = {}
    places: dict[str, int] | None = None  # each entry's place by its path, for id-less resources (built once)

    for e, path in zip(raw_entries, paths, strict=False):  # paths: at least one per entry
        if type(e) is not dict:
            return None
        r = e.get("resource")
        if type(r) is not dict:  # none (a transaction DELETE entry) or not an object: the general readers
            return None
        rtype, rid = r.get("resourceType"), r.get("id")
        if type(rtype) is not str:
            return None
        kind = _KINDS.get(rtype)
        if kind is None and rtype in not_plain:
            return None
        if isinstance(rid, str) and rid:  # as `entry_ref` reads it
            ref = f"{rtype}/{rid}"
        else:  # `entry_ref`: the fullUrl, else "Type/#n" (n: the entry's place, every entry holding a resource)
            full_url = e.get("fullUrl")
            if isinstance(full_url, str) and full_url:
                ref = full_url
            else:
                if places is None:
                    places = {p: i for i, p in enumerate(paths)}
                ref = f"{rtype}/#{places[path]}"
        ref_paths.setdefault(ref, path)  # the first entry of a ref names it
        if kind == _OBSERVATION and not may_be_weight(r):  # most entries: context, not a weight
            continue
        try:
            if kind == _OBSERVATION:
                read_weight(r, path, ref, read)
            elif kind in (_MEDICATION_REQUEST, _MEDICATION_STATEMENT):
                # the upload rule: a MedicationRequest is under review unless its status (a string) says not
                status = r.get("status")
                under = kind == _MEDICATION_REQUEST and not (
                    isinstance(status, str) and status not in REVIEW_MED_STATUS
                )
                order = plain_order(r, ref, under)
                if order is None:
                    order = checked_order(r, path, ref, index, under)
                raw[ref] = r
                if under:
                    meds.append(order)
                elif order.status == "active":
                    active_meds.append(order)
            elif kind is not None:  # a ServiceRequest or Procedure under review by the upload rule
                read_other(kind, r, path, ref, index, upload_role(r) == "review", read)
        except FieldError as bad:
            invalid.append(InvalidResource(ref, bad.path, bad.reason))

    return ReadOrderSet(order_set_of(read, source, now, forced_context, None, ref_paths), raw)
