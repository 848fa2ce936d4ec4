"""GET /rules/{code}: the page a card's `source.url` opens. What the rule checks, the thresholds under the
profile that answered (`?profile=`) with their citations, the quoted source sentences and the rule's limits:
what `orderlint explain CODE` prints, as one self-contained HTML page (inline CSS, nothing fetched).

Public on purpose: no authentication (a clinician's browser opens it from the EHR), and it shows no patient
data, only the rule's documentation. An unknown rule or profile is a 404 (HTML for a browser, an
OperationOutcome otherwise)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from markupsafe import Markup, escape
from starlette.responses import HTMLResponse, Response

from linter.api.deps import ProfilesDep
from linter.api.problems import outcome_response
from linter.api.websecurity import inline_csp
from linter.docs import rule_markdown
from linter.render.html import environment, markdown, static_text

router = APIRouter(tags=["rules"])


def rule_url(base_url: str, code: str, profile_id: str) -> str:
    """The absolute link a card's source carries: <public base URL>/rules/<code>?profile=<id>."""
    return rule_urls(base_url, profile_id)(code)


def rule_urls(base_url: str, profile_id: str) -> Callable[[str], str]:
    """`rule_url` for one request's cards: the base and the profile are quoted once, not once per card."""
    prefix = f"{base_url.rstrip('/')}/rules/"
    suffix = f"?profile={quote(profile_id)}"
    return lambda code: prefix + (code if code.isalnum() and code.isascii() else quote(code)) + suffix


def _not_found(request: Request, message: str) -> Response:
    if "text/html" in request.headers.get("accept", ""):
        page = f"<!doctype html><html lang=en><meta charset=utf-8><title>Not found</title><p>{escape(message)}</p>"
        return HTMLResponse(page, status_code=404)
    return outcome_response(404, message, None, "not-found")


@router.get("/rules/{code}", response_class=HTMLResponse)
async def rule_page(
    code: str, request: Request, profiles: ProfilesDep, profile: str | None = Query(default=None, max_length=200)
) -> Response:
    chosen = profiles.get(profile) if profile else next(iter(profiles.values()), None)
    if chosen is None:
        return _not_found(request, f"there is no profile '{(profile or '')[:100]}'")
    try:
        text = rule_markdown(code, chosen)
    except KeyError:
        return _not_found(request, f"there is no rule '{code[:20]}' (the rule codes are listed by `orderlint rules`)")
    css = f"\n{static_text('rule.css')}\n"
    page = (
        environment()
        .get_template("rule.html")
        .render(
            title=text.splitlines()[0].lstrip("# "),
            profile=chosen,
            others=[p for p in profiles.values() if p.id != chosen.id],
            body=markdown(text),
            css=Markup(css),  # noqa: S704 - our own stylesheet
        )
    )
    # Self-contained: the stylesheet is inline, allowed by its hash (the strict policy forbids other inline style).
    return HTMLResponse(page, headers={"Content-Security-Policy": inline_csp(styles=(css,))})
