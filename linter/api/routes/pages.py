"""The workbench pages: the upload page at `/` and a job's progress/results page at `/jobs/{id}`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

from linter.api.deps import StateDep
from linter.api.problems import ApiError
from linter.api.workbench_auth import workbench_user
from linter.render.html import environment
from linter.workbench.jobs import JobError, job_store

router = APIRouter(tags=["workbench"], include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def upload_page(state: StateDep) -> HTMLResponse:
    store = job_store(state.settings)
    html = (
        environment()
        .get_template("index.html")
        .render(nav="upload", profiles=list(state.profiles.values()), limits=store.limits.page_view())
    )
    return HTMLResponse(html)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
async def job_page(job_id: str, request: Request, state: StateDep) -> HTMLResponse:
    store = job_store(state.settings)
    try:
        job = store.get_for(job_id, workbench_user(request))
        status = store.status(job_id)
        body = ""
        if status["state"] == "done":
            body = await run_in_threadpool(store.report_path(job_id, "body").read_text, "utf-8")
    except JobError as exc:
        raise ApiError(exc.status, exc.message) from None
    html = (
        environment()
        .get_template("job.html")
        .render(
            nav="upload",
            job=job,
            status=status,
            body=Markup(body),  # noqa: S704 - rendered by our templates
        )
    )
    return HTMLResponse(html)
