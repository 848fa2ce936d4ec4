"""Entries of a document (a resource and where it is in the input), Bundle entries, and references between them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from linter.errors import InputError


@dataclass
class ResourceIndex:
    """Resources by "Type/id" and by fullUrl, for resolving references (contained first)."""

    by_ref: dict[str, Mapping[str, Any]] = field(default_factory=dict)

    def add_entries(self, entries: Sequence[Entry]) -> list[str]:
        """Index every entry by "Type/id" and by fullUrl; return each entry's ref (`ref_of`'s rule, with the
        fullUrl or "Type/#n" for a resource without an id), built once for the reader."""
        by_ref = self.by_ref
        refs: list[str] = []
        for n, e in enumerate(entries):
            r = e.resource
            rtype, rid = r.get("resourceType"), r.get("id")
            typed = f"{rtype}/{rid}" if isinstance(rtype, str) and isinstance(rid, str) else None
            if typed is not None:
                by_ref[typed] = r
            if e.full_url:
                by_ref[e.full_url] = r
            refs.append(typed if typed is not None and rid else (e.full_url or f"{rtype}/#{n}"))
        return refs

    def resolve(self, ref: str | None, container: Mapping[str, Any]) -> Mapping[str, Any] | None:
        if not ref:
            return None
        if ref.startswith("#"):
            contained = container.get("contained")
            for c in contained if isinstance(contained, list) else ():
                if isinstance(c, dict) and c.get("id") == ref[1:]:
                    return c
            return None
        if ref in self.by_ref:
            return self.by_ref[ref]
        tail = "/".join(ref.rstrip("/").split("/")[-2:])  # absolute URL -> Type/id
        return self.by_ref.get(tail)


def ref_of(resource: Mapping[str, Any], fallback: str) -> str:
    rtype, rid = resource.get("resourceType"), resource.get("id")
    if isinstance(rtype, str) and isinstance(rid, str) and rid:
        return f"{rtype}/{rid}"
    return fallback


@dataclass(slots=True)
class Entry:
    resource: Mapping[str, Any]
    path: str
    full_url: str | None = None


def bundle_entries(bundle: Mapping[str, Any], path: str) -> list[Entry]:
    entries_raw = bundle.get("entry")
    if entries_raw is None:
        return []
    if not isinstance(entries_raw, list):
        raise InputError("Bundle.entry must be an array", f"{path}.entry")
    out: list[Entry] = []
    for i, e in enumerate(entries_raw):
        if not isinstance(e, dict):
            raise InputError("a Bundle entry must be an object", f"{path}.entry[{i}]")
        res = e.get("resource")
        if res is None:
            continue  # e.g. a transaction DELETE entry
        rtype = res.get("resourceType") if isinstance(res, dict) else None
        if not isinstance(rtype, str):
            raise InputError(
                "entry.resource must be a FHIR resource with a resourceType", f"{path}.entry[{i}].resource"
            )
        full_url = e.get("fullUrl")
        if not isinstance(full_url, str):
            full_url = None
        if rtype == "Bundle":
            out.extend(bundle_entries(res, f"{path}.entry[{i}].resource"))
        else:
            out.append(Entry(res, f"{path}.entry[{i}].resource", full_url))
    return out
