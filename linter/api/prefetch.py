"""Complete the prefetch map: use what the client sent, fetch missing keys from its FHIR server.

Per prefetch key:
- present with a resource or Bundle: used (a searchset with a `next` link is paged on an allowed server,
  unless its template asks for the first N results in an order, see `first_page_answers`);
- present as `null`: "no data", not an error;
- present as an OperationOutcome: the client could not get it; read as no data, reason kept as a DataGap;
- absent: fetched from `fhirServer` with the `fhirAuthorization` bearer token, all keys concurrently, each
  within `fhir_timeout_s`, but only when the server is on `allowed_fhir_servers` (no request forgery).
  Every failure (not allowed, no token, timeout, HTTP error, OperationOutcome) becomes a DataGap that the
  engine reports as "could not verify". Nothing here raises for a FHIR problem, and the token is never logged.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from linter.api.schemas import HookRequest
from linter.model import DataGap

log = logging.getLogger("orderlint.api.prefetch")

_TOKEN = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_USER_TOKENS = {
    "userPractitionerId": "Practitioner",
    "userPractitionerRoleId": "PractitionerRole",
    "userPatientId": "Patient",
    "userRelatedPersonId": "RelatedPerson",
}
_MAX_REASON = 200


@dataclass(slots=True)
class PrefetchResult:
    data: dict[str, Any] = field(default_factory=dict)
    gaps: list[DataGap] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Paged:
    bundle: dict[str, Any]
    complete: bool


class _Unavailable(Exception):
    """A key could not be obtained; `reason` is shown to the clinician."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


Unavailable = _Unavailable


def expand_template(template: str, request: HookRequest) -> str:
    """Fill the 2.0 tokens ({{context.x}} for primitive context fields, {{userPractitionerId}} ...)."""
    context = request.context.model_dump(exclude_none=True)

    def value_of(match: re.Match[str]) -> str:
        token = match.group(1)
        if token.startswith("context."):
            name = token.removeprefix("context.")
            value = context.get(name)
            if not isinstance(value, str | int | float) or isinstance(value, bool) or value == "":
                raise _Unavailable(f"the request has no {token} to fill the prefetch query")
            return quote(str(value), safe="/" if name == "userId" else "")
        if token in _USER_TOKENS:
            user = request.context.userId or ""
            kind, _, ident = user.partition("/")
            if kind != _USER_TOKENS[token] or not ident:
                raise _Unavailable(f"the request's userId is not a {_USER_TOKENS[token]}")
            return quote(ident, safe="")
        raise _Unavailable(f"unsupported prefetch token {{{{{token}}}}}")

    return _TOKEN.sub(value_of, template)


def first_page_answers(template: str) -> bool:
    """A search that sorts and counts (`_sort=-date&_count=1`: the latest weight) asks for the first N results
    in that order: the first page is the whole answer. Its `next` link is not followed, and a client that sends
    that page alone has sent everything (no "only the first page" gap). `_count` alone is only a page size."""
    names = {part.partition("=")[0] for part in template.partition("?")[2].split("&")}
    return "_sort" in names and "_count" in names


def is_allowed_server(url: str | None, allowed: list[str]) -> bool:
    return bool(url) and (url or "").rstrip("/") in allowed


def is_mapping(value: Any) -> bool:
    """`isinstance(value, Mapping)` at a dict's price: a JSON object is a dict, and the ABC's check costs
    several times the built-in one (a request with 20 drafts made ~80 of them: issue 11 §3)."""
    return isinstance(value, (dict, Mapping))


def _outcome_reason(outcome: Mapping[str, Any]) -> str:
    texts: list[str] = []
    issues = outcome.get("issue")
    if isinstance(issues, list):
        for issue in issues:
            if not is_mapping(issue):
                continue
            details = issue.get("details")
            text = issue.get("diagnostics") or (details.get("text") if is_mapping(details) else None)
            texts.append(str(text or issue.get("code") or "error"))
    joined = "; ".join(texts) or "no details"
    return joined[:_MAX_REASON]


def _is_outcome(value: Any) -> bool:
    return is_mapping(value) and value.get("resourceType") == "OperationOutcome"


def _next_link(bundle: Mapping[str, Any]) -> str | None:
    links = bundle.get("link")
    if not isinstance(links, list):
        return None
    for link in links:
        if is_mapping(link) and link.get("relation") == "next" and isinstance(link.get("url"), str):
            return str(link["url"])
    return None


class PrefetchResolver:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        allowed_servers: list[str],
        timeout_s: float,
        max_pages: int,
    ) -> None:
        self.client = client
        self.allowed_servers = allowed_servers
        self.timeout_s = timeout_s
        self.max_pages = max_pages

    async def resolve(self, request: HookRequest, templates: Mapping[str, str]) -> PrefetchResult:
        result = PrefetchResult()
        sent = request.prefetch or {}
        server = (request.fhirServer or "").rstrip("/")
        token = request.fhirAuthorization.access_token if request.fhirAuthorization else None
        can_fetch = bool(server and token) and is_allowed_server(server, self.allowed_servers)

        pending: dict[str, asyncio.Task[Any]] = {}
        for key, template in templates.items():
            if key in sent:
                value = sent[key]
                if (
                    type(value) is dict
                    and value.get("link") is None
                    and type(kind := value.get("resourceType")) is str
                    and kind != "OperationOutcome"
                ):  # the usual value, a resource or a Bundle without links: what the checks below keep as is
                    result.data[key] = value
                    continue
                if value is None:
                    result.data[key] = None
                elif _is_outcome(value):
                    result.data[key] = None
                    result.gaps.append(DataGap(key, f"the EHR could not provide it: {_outcome_reason(value)}"))
                elif not is_mapping(value) or not isinstance(value.get("resourceType"), str):
                    result.data[key] = None
                    result.gaps.append(DataGap(key, "the prefetched value is not a FHIR resource"))
                elif value.get("resourceType") == "Bundle" and _next_link(value) and not first_page_answers(template):
                    if can_fetch:
                        pending[key] = asyncio.create_task(self._timed(self._page(dict(value), server, token)))
                    else:
                        result.data[key] = value
                        result.gaps.append(DataGap(key, "only the first page of results was sent"))
                else:
                    result.data[key] = value
                continue
            reason = self._why_not_fetchable(server, token)
            if reason:
                result.gaps.append(DataGap(key, reason))
                continue
            try:
                relative = expand_template(template, request)
            except _Unavailable as exc:
                result.gaps.append(DataGap(key, exc.reason))
                continue
            follow = not first_page_answers(template)
            pending[key] = asyncio.create_task(self._timed(self._fetch(relative, server, token, follow)))

        outcomes = await asyncio.gather(*pending.values()) if pending else []  # all sent: nothing to await
        for key, outcome in zip(pending, outcomes, strict=True):
            if isinstance(outcome, _Unavailable):
                result.data[key] = None
                result.gaps.append(DataGap(key, outcome.reason))
            elif isinstance(outcome, _Paged):
                result.data[key] = outcome.bundle
                if not outcome.complete:
                    reason = f"not every page of results was read (at most {self.max_pages}, same server)"
                    result.gaps.append(DataGap(key, reason))
            else:
                result.data[key] = outcome
        # keys the client sent that we do not template are passed through untouched
        for key, value in sent.items():
            result.data.setdefault(key, value)
        return result

    def why_not_fetchable(self, server: str, token: str | None) -> str | None:
        """Why nothing may be read from `server` for this request (None when it may)."""
        return self._why_not_fetchable(server, token)

    async def fetch_resource(self, relative: str, server: str, token: str | None) -> Any:
        """One resource by its path on `server` (`Medication/123`), under the prefetch rules: allowlisted
        server, the request's token, the FHIR timeout; a failure comes back as an `Unavailable`."""
        return await self._timed(self._fetch(relative, server, token, follow=False))

    def _why_not_fetchable(self, server: str, token: str | None) -> str | None:
        if not server:
            return "not prefetched, and the request names no FHIR server"
        if not is_allowed_server(server, self.allowed_servers):
            return f"not prefetched, and the FHIR server {server[:100]} is not on this service's allowlist"
        if not token:
            return "not prefetched, and the request carries no FHIR access token"
        return None

    async def _timed(self, work: Any) -> Any:
        try:
            return await asyncio.wait_for(work, timeout=self.timeout_s)
        except _Unavailable as exc:
            return exc
        except TimeoutError:
            return _Unavailable(f"the FHIR server did not answer within {self.timeout_s:g} s")
        except httpx.HTTPError as exc:
            return _Unavailable(f"the FHIR server could not be reached ({type(exc).__name__})")

    async def _get_json(self, url: str, token: str | None) -> Any:
        response = await self.client.get(
            url, headers={"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
        )
        try:
            body = response.json()
        except ValueError:
            body = None
        if _is_outcome(body):
            raise _Unavailable(f"the FHIR server answered HTTP {response.status_code}: {_outcome_reason(body)}")
        if response.status_code != 200:
            raise _Unavailable(f"the FHIR server answered HTTP {response.status_code}")
        if not isinstance(body, dict) or not isinstance(body.get("resourceType"), str):
            raise _Unavailable("the FHIR server's answer is not a FHIR resource")
        return body

    async def _fetch(self, relative: str, server: str, token: str | None, follow: bool) -> Any:
        body = await self._get_json(f"{server}/{relative.lstrip('/')}", token)
        if follow and body.get("resourceType") == "Bundle":
            return await self._page(body, server, token)
        return body

    async def _page(self, bundle: dict[str, Any], server: str, token: str | None) -> _Paged:
        """Follow `next` links on the same server, up to max_pages pages in all."""
        first = bundle.get("entry")
        if first is not None and not isinstance(first, list):
            return _Paged(bundle, complete=True)  # the reader reports the Bundle as unreadable (a gap)
        entries = list(first or [])
        pages = 1
        next_url = _next_link(bundle)
        while next_url and pages < self.max_pages:
            if not next_url.startswith(server + "/") and not next_url.startswith(server + "?"):
                break  # never follow a link off the allowed server
            page = await self._get_json(next_url, token)
            if page.get("resourceType") != "Bundle":
                break
            more = page.get("entry")
            if more is not None and not isinstance(more, list):
                break  # a page we cannot read: the pages before it, marked incomplete
            entries.extend(more or [])
            pages += 1
            next_url = _next_link(page)
        merged = {k: v for k, v in bundle.items() if k != "link"}
        merged["entry"] = entries
        return _Paged(merged, complete=next_url is None)
