"""`/dashboard`: the alert-fatigue dashboard (per rule: cards issued, accepted, overridden, override rate,
top override reasons, a chart per rule), server-rendered from the card and feedback store. The free-text
override comments are shown to leads only (a pharmacist's dashboard has the counts and reasons)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

from linter.api.deps import StoreDep
from linter.api.routes.pages import render_page
from linter.api.workbench_auth import current_identity
from linter.rules import RULE_NAMES
from linter.store.stats import period, rule_stats
from linter.workbench.charts import rule_chart

router = APIRouter(tags=["workbench"], include_in_schema=False)


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request, store: StoreDep, days: int = Query(default=30, ge=1, le=3660)) -> HTMLResponse:
    since, until = period(days)
    stats = await run_in_threadpool(rule_stats, store.engine, since, until, RULE_NAMES)
    charts = {r.code: rule_chart(r) for r in stats.rules}
    show_comments = current_identity(request).is_lead
    return render_page(
        request, "dashboard.html", nav="dashboard", stats=stats, charts=charts, days=days, show_comments=show_comments
    )
