"""The workbench pages: the upload page at `/`, a job's progress/results page at `/jobs/{id}`, and the
audit trail at `/audit` (leads only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

from linter.api.deps import JobStoreDep, ProfilesDep, StoreDep
from linter.api.problems import ApiError
from linter.api.websecurity import csrf_token
from linter.api.workbench_auth import audit, current_identity
from linter.render.html import environment
from linter.store.audit import recent
from linter.workbench.jobs import PEOPLE_BODY, JobError

router = APIRouter(tags=["workbench"], include_in_schema=False)


def render_page(request: Request, template: str, **context: Any) -> HTMLResponse:
    """A workbench page with the user, their role and the session's CSRF token."""
    html = (
        environment()
        .get_template(template)
        .render(identity=current_identity(request), csrf_token=csrf_token(request), **context)
    )
    return HTMLResponse(html)


@router.get("/", response_class=HTMLResponse)
async def upload_page(request: Request, jobs: JobStoreDep, profiles: ProfilesDep) -> HTMLResponse:
    await run_in_threadpool(jobs.maybe_purge)
    return render_page(
        request, "index.html", nav="upload", profiles=list(profiles.values()), limits=jobs.limits.page_view()
    )


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
async def job_page(job_id: str, request: Request, store: JobStoreDep) -> HTMLResponse:
    identity = current_identity(request)
    try:
        job = store.get_for(job_id, identity.name, see_all=identity.is_lead)
        status = store.status(job_id)
        body = ""
        if status["state"] == "done":
            body_path = store.report_path(job_id, "body")
            if identity.name is not None and (body_path.parent / PEOPLE_BODY).is_file():
                body_path = body_path.parent / PEOPLE_BODY  # patients on the rows: signed-in users only
            body = await run_in_threadpool(body_path.read_text, "utf-8")
            await run_in_threadpool(audit, request, "job-view", job_id)
    except JobError as exc:
        raise ApiError(exc.status, exc.message) from None
    return render_page(
        request,
        "job.html",
        nav="upload",
        job=job,
        status=status,
        body=Markup(body),  # noqa: S704 - rendered by our templates
    )


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(
    request: Request, store: StoreDep, user: str | None = Query(default=None, max_length=200)
) -> HTMLResponse:
    """Who logged in, viewed a job's results, downloaded a report: for leads only."""
    if not current_identity(request).is_lead:
        raise ApiError(403, "the audit trail is for workbench leads only", None, "forbidden")
    events = await run_in_threadpool(recent, store.engine, 500, user or None)
    return render_page(request, "audit.html", nav="audit", events=events, user=user or "")
