"""Fetch the Medications that draft orders reference but the request does not carry (RULES.md Terms, "Products":
`medicationReference` resolves to a Medication anywhere in the request, or on the FHIR server).

A draft MedicationRequest may name its product as `medicationReference: {"reference": "Medication/123"}`.
When neither the draft orders, nor any prefetch value, nor the order's `contained` holds that Medication, it
is read from the request's FHIR server, under the same rules as prefetch: only an allowlisted server, only
with the request's token, only `Medication/<id>` on that server (a reference to any other host is never
followed), each within the FHIR timeout. A Medication that cannot be had becomes a DataGap: the dose rules
then say they could not verify the strength, never pass.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator, Mapping
from typing import Any

from linter.api.prefetch import PrefetchResolver, PrefetchResult, Unavailable, is_mapping
from linter.api.schemas import HookRequest
from linter.model import DataGap

MAX_FETCHED = 20  # a draft order set names a handful of products; more is not a real order set
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
PREFETCH_KEY_PREFIX = "orderlint-medication:"  # keys added to the prefetch map, never sent by a client


def _resources(value: Any) -> Iterator[Mapping[str, Any]]:
    if not is_mapping(value):
        return
    if value.get("resourceType") == "Bundle":
        entries = value.get("entry")
        for entry in entries if isinstance(entries, list) else []:
            # is_mapping inlined (dict first: no ABC check): this runs for every draft order and resource
            if isinstance(entry, (dict, Mapping)):
                resource = entry.get("resource")
                if isinstance(resource, (dict, Mapping)):
                    yield resource
    else:
        yield value


def _known(draft: Any, prefetch: Mapping[str, Any]) -> set[str]:
    known: set[str] = set()
    for container in (draft, *prefetch.values()):
        for r in _resources(container):
            if r.get("resourceType") == "Medication" and isinstance(r.get("id"), str):
                known.add(r["id"])
    return known


def missing_medication_ids(draft: Mapping[str, Any] | None, prefetch: Mapping[str, Any], server: str) -> list[str]:
    """Ids of Medications referenced by the draft orders (`draft`, the Bundle) and carried nowhere in the
    request."""
    known: set[str] | None = None  # the Medications carried, looked for only once an order references one
    wanted: list[str] = []
    for order in _resources(draft):
        ref_obj = order.get("medicationReference")
        if ref_obj is None:  # most orders name a code, not a Medication
            continue
        ref = ref_obj.get("reference") if is_mapping(ref_obj) else None
        if not isinstance(ref, str) or ref.startswith("#"):
            continue
        if ref.startswith(("http://", "https://")):
            if not server or not ref.startswith(server.rstrip("/") + "/Medication/"):
                continue  # only the request's own server, never another host
            ref = ref[len(server.rstrip("/")) + 1 :]
        kind, _, mid = ref.partition("/")
        if kind != "Medication" or not _FHIR_ID.fullmatch(mid) or mid in wanted:
            continue
        if known is None:
            known = _known(draft, prefetch)
        if mid in known:
            continue
        wanted.append(mid)
    return wanted[:MAX_FETCHED]


async def fetch_referenced_medications(
    resolver: PrefetchResolver, request: HookRequest, result: PrefetchResult
) -> None:
    """Add the missing Medications to `result.data` (one key each), or a DataGap saying why not."""
    server = (request.fhirServer or "").rstrip("/")
    ids = missing_medication_ids(request.context.draftOrders, result.data, server)
    if not ids:
        return
    token = request.fhirAuthorization.access_token if request.fhirAuthorization else None
    reason = resolver.why_not_fetchable(server, token)
    if reason:
        result.gaps.extend(DataGap(f"Medication/{mid}", reason.replace("not prefetched", "not sent")) for mid in ids)
        return
    fetched = await asyncio.gather(*(resolver.fetch_resource(f"Medication/{mid}", server, token) for mid in ids))
    for mid, outcome in zip(ids, fetched, strict=True):
        if isinstance(outcome, Unavailable):
            result.gaps.append(DataGap(f"Medication/{mid}", outcome.reason))
        elif is_mapping(outcome) and outcome.get("resourceType") == "Medication":
            result.data[f"{PREFETCH_KEY_PREFIX}{mid}"] = outcome
        else:
            result.gaps.append(DataGap(f"Medication/{mid}", "the FHIR server did not answer with a Medication"))
