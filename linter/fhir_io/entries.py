"""Entries of a document (a resource and where it is in the input), Bundle entries, and references between them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from linter.errors import InputError


@dataclass
class ResourceIndex:
    """Resources by "Type/id" and by fullUrl, for resolving references (contained first)."""

    by_ref: dict[str, Mapping[str, Any]] = field(default_factory=dict)

    def add(self, resource: Mapping[str, Any], full_url: str | None, ref: str | None = None) -> None:
        """`ref`: "Type/id" when the caller has built it already (None: built here)."""
        if ref is None:
            rtype, rid = resource.get("resourceType"), resource.get("id")
            if isinstance(rtype, str) and isinstance(rid, str):
                ref = f"{rtype}/{rid}"
        if ref is not None:
            self.by_ref[ref] = resource
        if full_url:
            self.by_ref[full_url] = resource

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
        if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
            raise InputError(
                "entry.resource must be a FHIR resource with a resourceType", f"{path}.entry[{i}].resource"
            )
        full_url = e.get("fullUrl") if isinstance(e.get("fullUrl"), str) else None
        if res.get("resourceType") == "Bundle":
            out.extend(bundle_entries(res, f"{path}.entry[{i}].resource"))
        else:
            out.append(Entry(res, f"{path}.entry[{i}].resource", full_url))
    return out
