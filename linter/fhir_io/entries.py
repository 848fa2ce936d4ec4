"""Entries of a document (a resource and where it is in the input), Bundle entries, and references between them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from linter.errors import InputError


class ResourceIndex:
    """Resources by "Type/id" and by fullUrl, for resolving references (contained first). Built from the entries
    on the first look-up: most order sets resolve no reference at all."""

    __slots__ = ("_by_ref", "_entries", "_raw")

    def __init__(self, entries: Sequence[Entry] = (), raw_entries: Sequence[Any] | None = None) -> None:
        """From entries, or from a Bundle's entries as sent (`raw_entries`: those holding an object resource)."""
        self._entries = entries
        self._raw = raw_entries
        self._by_ref: dict[str, Mapping[str, Any]] | None = None

    @property
    def by_ref(self) -> dict[str, Mapping[str, Any]]:
        by_ref = self._by_ref
        if by_ref is None:
            by_ref = self._by_ref = {}
            for e in self._entries if self._raw is None else raw_bundle_entries(self._raw):
                r = e.resource
                rtype, rid = r.get("resourceType"), r.get("id")
                if isinstance(rtype, str) and isinstance(rid, str):
                    by_ref[f"{rtype}/{rid}"] = r
                if e.full_url:
                    by_ref[e.full_url] = r
        return by_ref

    def resolve(self, ref: str | None, container: Mapping[str, Any]) -> Mapping[str, Any] | None:
        if not ref:
            return None
        if ref.startswith("#"):
            contained = container.get("contained")
            for c in contained if isinstance(contained, list) else ():
                if isinstance(c, dict) and c.get("id") == ref[1:]:
                    return c
            return None
        by_ref = self.by_ref
        if ref in by_ref:
            return by_ref[ref]
        tail = "/".join(ref.rstrip("/").split("/")[-2:])  # absolute URL -> Type/id
        return by_ref.get(tail)


def entry_ref(e: Entry, n: int) -> str:
    """The ref of entry `n` of an order set: "Type/id", else its fullUrl, else "Type/#n" (an id-less resource)."""
    r = e.resource
    rtype, rid = r.get("resourceType"), r.get("id")
    if isinstance(rtype, str) and isinstance(rid, str) and rid:
        return f"{rtype}/{rid}"
    return e.full_url or f"{rtype}/#{n}"


def ref_of(resource: Mapping[str, Any], fallback: str) -> str:
    rtype, rid = resource.get("resourceType"), resource.get("id")
    if isinstance(rtype, str) and isinstance(rid, str) and rid:
        return f"{rtype}/{rid}"
    return fallback


class Entry(NamedTuple):
    """A resource and where it is in the input. A named tuple: the common Bundle's entries are built by the C-level
    `tuple.__new__(Entry, (resource, path, full_url))` (linter.fhir_io.documents), with no Python call each."""

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


def raw_bundle_entries(raw_entries: Sequence[Any]) -> list[Entry]:
    """The entries of a Bundle's `entry` list as sent that are objects holding an object resource, with their
    fullUrl when it is a string (as `bundle_entries` reads them; their paths are not needed, and left empty)."""
    out = []
    for e in raw_entries:
        r = e.get("resource") if isinstance(e, dict) else None
        if isinstance(r, dict):
            full_url = e.get("fullUrl")
            out.append(Entry(r, "", full_url if isinstance(full_url, str) else None))
    return out
