"""A strict FHIR R4 server on 127.0.0.1 for tests: it filters exactly as the query says.

It answers reads (`Type/id`) and type-level searches over the resources it was given, with the search
parameters orderlint's prefetch templates use, applied as FHIR defines them:

- `patient` (reference): the resource's subject / patient is `Patient/<id>`;
- token parameters (`code`, `clinical-status`, `verification-status`, `status`, `lifecycle-status`): a
  comma-separated list is an OR; `system|code` matches that system and code, `code` alone any system,
  `|code` a coding with no system; a resource with no value never matches;
- `_sort` (`date` or `-date`, on the resource's clinical date), `_count` (page size, capped at `max_page_size`;
  `default_page_size` without it) and searchset paging through server-issued `next` links.

Anything else is refused with 400 and an OperationOutcome, never ignored: an unknown parameter, a modifier
(`code:in`, `clinical-status:not`), a repeated parameter, an unknown `_sort`. So a template that asks for
something this server does not do fails loudly in the test, and a template that asks for too little gets
exactly too little (a `clinical-status=active` search never returns a resolved TIA).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

Resource = dict[str, Any]
Codings = list[tuple[str | None, str]]


def _codings(concept: Any) -> Codings:
    if not isinstance(concept, Mapping):
        return []
    out = []
    for coding in concept.get("coding") or []:
        if isinstance(coding, Mapping) and isinstance(coding.get("code"), str):
            system = coding.get("system")
            out.append((system if isinstance(system, str) else None, coding["code"]))
    return out


def _code_value(value: Any) -> Codings:
    return [(None, value)] if isinstance(value, str) else []


# search parameter -> the codes a resource has for it, per resource type (FHIR R4 search parameter paths)
_TOKEN_PATHS: dict[str, dict[str, Callable[[Mapping[str, Any]], Codings]]] = {
    "Condition": {
        "code": lambda r: _codings(r.get("code")),
        "clinical-status": lambda r: _codings(r.get("clinicalStatus")),
        "verification-status": lambda r: _codings(r.get("verificationStatus")),
    },
    "Observation": {
        "code": lambda r: _codings(r.get("code")),
        "status": lambda r: _code_value(r.get("status")),
    },
    "MedicationRequest": {
        "status": lambda r: _code_value(r.get("status")),
        "code": lambda r: _codings(r.get("medicationCodeableConcept")),
    },
    "Procedure": {
        "code": lambda r: _codings(r.get("code")),
        "status": lambda r: _code_value(r.get("status")),
    },
    "Goal": {"lifecycle-status": lambda r: _code_value(r.get("lifecycleStatus"))},
}
_SORTABLE = {"Observation", "Procedure", "Condition"}  # _sort=date / -date
_CONTROL = {"_count", "_sort"}


def _clinical_date(r: Mapping[str, Any]) -> str:
    """The date `_sort=date` orders by (FHIR's `date` search parameter of each resource type)."""
    for key in ("effectiveDateTime", "performedDateTime", "recordedDate", "onsetDateTime", "issued"):
        if isinstance(r.get(key), str):
            return str(r[key])
    for key in ("effectivePeriod", "performedPeriod", "onsetPeriod"):
        period = r.get(key)
        if isinstance(period, Mapping) and isinstance(period.get("start"), str):
            return str(period["start"])
    return ""


def _patient_of(r: Mapping[str, Any]) -> str | None:
    for key in ("subject", "patient"):
        ref = r.get(key)
        if isinstance(ref, Mapping) and isinstance(ref.get("reference"), str):
            return str(ref["reference"])
    return None


class Refused(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def _token_matches(have: Codings, wanted: str) -> bool:
    for alternative in wanted.split(","):
        if "|" in alternative:
            system, _, code = alternative.partition("|")
            if any(c == code and (s or "") == system for s, c in have):
                return True
        elif any(c == alternative for _, c in have):
            return True
    return False


@dataclass
class StrictFhirServer:
    """The data and the request log; `base_url` ends in /fhir."""

    base_url: str = ""
    resources: list[Resource] = field(default_factory=list)
    token: str | None = None  # when set, every request needs `Authorization: Bearer <token>`
    default_page_size: int = 20
    max_page_size: int = 100
    requests: list[str] = field(default_factory=list)  # path?query as received
    _pages: dict[str, list[Resource]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, *resources: Resource) -> None:
        self.resources.extend(resources)

    # --- the FHIR API ---------------------------------------------------------------------------------

    def get(self, target: str, authorization: str | None) -> tuple[int, Any]:
        with self._lock:
            self.requests.append(target)
        if self.token is not None and authorization != f"Bearer {self.token}":
            return 401, _outcome("login", "a valid bearer token is required")
        parts = urlsplit(target)
        path = parts.path.removeprefix("/fhir").strip("/")
        try:
            pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
        except ValueError:
            return 400, _outcome("invalid", "the query string is malformed")
        try:
            if "/" in path:
                return self._read(path, pairs)
            if path == "" and pairs and pairs[0][0] == "_getpages":
                return self._page(pairs)
            return self._search(path, pairs)
        except Refused as exc:
            return exc.status, _outcome("not-supported" if exc.status == 400 else "not-found", exc.text)

    def _read(self, path: str, pairs: list[tuple[str, str]]) -> tuple[int, Any]:
        if pairs:
            raise Refused(400, "a read takes no parameters")
        rtype, _, rid = path.partition("/")
        for r in self.resources:
            if r.get("resourceType") == rtype and r.get("id") == rid:
                return 200, r
        raise Refused(404, f"{rtype}/{rid} is not known")

    def _search(self, rtype: str, pairs: list[tuple[str, str]]) -> tuple[int, Any]:
        if rtype not in _TOKEN_PATHS:
            raise Refused(400, f"search on {rtype or 'the server root'} is not supported")
        names = [name for name, _ in pairs]
        repeated = {n for n in names if names.count(n) > 1}
        if repeated:
            raise Refused(400, f"repeated parameter(s) not supported: {', '.join(sorted(repeated))}")
        params = dict(pairs)
        tokens = _TOKEN_PATHS[rtype]
        unknown = [n for n in params if n != "patient" and n not in tokens and n not in _CONTROL]
        if unknown:
            raise Refused(400, f"unknown or unsupported search parameter(s) on {rtype}: {', '.join(unknown)}")
        matches = [r for r in self.resources if r.get("resourceType") == rtype]
        if "patient" in params:
            wanted = params["patient"]
            wanted = wanted if wanted.startswith("Patient/") else f"Patient/{wanted}"
            matches = [r for r in matches if _patient_of(r) == wanted]
        for name, value in params.items():
            if name in tokens:
                if not value:
                    raise Refused(400, f"{name} needs a value")
                matches = [r for r in matches if _token_matches(tokens[name](r), value)]
        sort = params.get("_sort")
        if sort is not None:
            if rtype not in _SORTABLE or sort not in ("date", "-date"):
                raise Refused(400, f"_sort={sort} is not supported on {rtype}")
            matches.sort(key=_clinical_date, reverse=sort.startswith("-"))
        size = self.default_page_size
        if "_count" in params:
            if not params["_count"].isdigit() or int(params["_count"]) < 1:
                raise Refused(400, "_count must be a positive integer")
            size = min(int(params["_count"]), self.max_page_size)
        search_id = uuid.uuid4().hex
        with self._lock:
            self._pages[search_id] = matches
        return 200, self._bundle(search_id, 0, size)

    def _page(self, pairs: list[tuple[str, str]]) -> tuple[int, Any]:
        params = dict(pairs)
        if set(params) != {"_getpages", "_getpagesoffset", "_count"}:
            raise Refused(400, "a page link takes _getpages, _getpagesoffset and _count only")
        if params["_getpages"] not in self._pages:
            raise Refused(404, "this search has expired")
        if not (params["_getpagesoffset"].isdigit() and params["_count"].isdigit()):
            raise Refused(400, "_getpagesoffset and _count must be integers")
        return 200, self._bundle(params["_getpages"], int(params["_getpagesoffset"]), int(params["_count"]))

    def _bundle(self, search_id: str, offset: int, size: int) -> Resource:
        matches = self._pages[search_id]
        page = matches[offset : offset + size]
        bundle: Resource = {
            "resourceType": "Bundle",
            "id": uuid.uuid4().hex,
            "type": "searchset",
            "total": len(matches),
            "link": [],
            "entry": [
                {
                    "fullUrl": f"{self.base_url}/{r['resourceType']}/{r['id']}",
                    "resource": r,
                    "search": {"mode": "match"},
                }
                for r in page
            ],
        }
        if offset + size < len(matches):
            query = urlencode({"_getpages": search_id, "_getpagesoffset": offset + size, "_count": size})
            bundle["link"].append({"relation": "next", "url": f"{self.base_url}?{query}"})
        if not bundle["link"]:
            del bundle["link"]
        return bundle


def _outcome(code: str, text: str) -> Resource:
    return {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": code, "diagnostics": text}]}


@contextmanager
def running(server: StrictFhirServer) -> Iterator[StrictFhirServer]:
    """Serve `server` on a free 127.0.0.1 port (a real HTTP server in a thread) until the block ends."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = server.get(self.path, self.headers.get("Authorization"))
            payload = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    server.base_url = f"http://127.0.0.1:{httpd.server_address[1]}/fhir"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
