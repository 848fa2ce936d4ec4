"""The workbench's job API, used by the upload page's script (and by scripts and benchmarks):

  POST /workbench/jobs                       {profile, context, files: [{name, size}]} -> {id, chunkBytes}
  PUT  /workbench/jobs/{id}/files/{i}?offset one chunk of file i, streamed to disk
  POST /workbench/jobs/{id}/start            lint in the background
  GET  /workbench/jobs/{id}                  {state, done, total, current, message}
  GET  /workbench/jobs/{id}/report.{json,csv,html}
  POST /workbench/upload                     the same in one multipart form (the page without JavaScript)

Each request stays under the service's body limit: large uploads arrive as many chunks, never in memory.
Errors are OperationOutcomes like everywhere else in the service.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import FileResponse, RedirectResponse, Response

from linter.api.deps import JobStoreDep, ProfilesDep
from linter.api.problems import ApiError, json_response
from linter.api.routes._body import json_object, validated
from linter.api.websecurity import inline_csp
from linter.api.workbench_auth import audit, current_identity, workbench_user
from linter.render.html import report_inline_assets
from linter.workbench.jobs import REPORT_KINDS, Job, JobError, JobFile, JobStore

router = APIRouter(tags=["workbench"])


class DeclaredFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=1000)
    size: int = Field(ge=0)


class NewJob(BaseModel):
    model_config = ConfigDict(extra="forbid")
    profile: str | None = Field(default=None, max_length=200)
    context: Literal["btk", "pad"] | None = None
    files: list[DeclaredFile]


def _api(exc: JobError) -> ApiError:
    return ApiError(exc.status, exc.message, None, "too-long" if exc.status == 413 else "invalid")


def visible_job(store: JobStore, job_id: str, request: Request) -> Job:
    """The job if this request's user may see it (its owner, or a lead); JobError 404 otherwise."""
    identity = current_identity(request)
    return store.get_for(job_id, identity.name, see_all=identity.is_lead)


def report_csp() -> str:
    """The downloadable HTML report is self-contained (its stylesheet and script inline, as rendered by
    linter.render.html.render_report_doc): a strict CSP that allows exactly those two bodies by hash."""
    css, js = report_inline_assets()  # report.html puts each between newlines
    return inline_csp(scripts=(f"\n{js}\n",), styles=(f"\n{css}\n",))


@router.post("/workbench/jobs")
async def create_job(request: Request, store: JobStoreDep, profiles: ProfilesDep) -> Response:
    body = validated(NewJob, json_object(await request.body(), "a job declaration"))
    profile = profiles.choose(body.profile)
    await run_in_threadpool(store.maybe_purge)
    try:
        job = await run_in_threadpool(
            store.create,
            profile.id,
            body.context,
            [JobFile(f.name, f.size) for f in body.files],
            workbench_user(request),
        )
    except JobError as exc:
        raise _api(exc) from None
    return json_response({"id": job.id, "chunkBytes": store.limits.chunk_bytes, "files": len(job.files)}, status=201)


@router.put("/workbench/jobs/{job_id}/files/{index}")
async def upload_chunk(
    job_id: str, index: int, request: Request, store: JobStoreDep, offset: int = Query(default=0, ge=0)
) -> Response:
    try:
        job = visible_job(store, job_id, request)
        size = await store.receive_chunk(job, index, offset, request.stream())
    except JobError as exc:
        raise _api(exc) from None
    return json_response({"received": size, "size": job.files[index].size})


@router.post("/workbench/jobs/{job_id}/start")
async def start_job(job_id: str, request: Request, store: JobStoreDep, profiles: ProfilesDep) -> Response:
    try:
        job = visible_job(store, job_id, request)
        store.start(job, profiles.choose(job.profile))
        return json_response(store.status(job_id), status=202)
    except JobError as exc:
        raise _api(exc) from None


@router.get("/workbench/jobs/{job_id}")
async def job_status(job_id: str, request: Request, store: JobStoreDep) -> Response:
    try:
        visible_job(store, job_id, request)
        return json_response(store.status(job_id))
    except JobError as exc:
        raise _api(exc) from None


@router.get("/workbench/jobs/{job_id}/report.{kind}")
async def job_report(job_id: str, kind: str, request: Request, store: JobStoreDep) -> Response:
    try:
        visible_job(store, job_id, request)
        path = store.report_path(job_id, kind)
    except JobError as exc:
        raise _api(exc) from None
    if kind not in REPORT_KINDS:  # "body" is for the results page only
        raise ApiError(404, f"no report format {kind[:20]!r}")
    media = REPORT_KINDS[kind] + ("; charset=utf-8" if kind != "json" else "")
    await run_in_threadpool(audit, request, "report-download", job_id, kind)
    response = FileResponse(path, media_type=media, filename=f"orderlint-report-{job_id[:8]}.{kind}")
    if kind == "html":
        response.headers["content-security-policy"] = report_csp()
    return response


@router.post("/workbench/upload")
async def upload_form(request: Request, store: JobStoreDep, profiles: ProfilesDep) -> Response:
    """The upload page without JavaScript: one multipart form; answers with a redirect to the job's page."""
    form = await request.form(max_files=store.limits.max_files + 1, max_fields=20)
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    raw_context = form.get("context")
    context: Literal["btk", "pad"] | None = "btk" if raw_context == "btk" else "pad" if raw_context == "pad" else None
    profile_name = form.get("profile")
    profile = profiles.choose(profile_name if isinstance(profile_name, str) and profile_name else None)
    declared = [JobFile(f.filename or "upload", f.size or 0) for f in uploads]
    try:
        job = await run_in_threadpool(store.create, profile.id, context, declared, workbench_user(request))
        for index, upload in enumerate(uploads):
            await run_in_threadpool(store.save_stream, job, index, upload.file)
        store.start(job, profile)
    except JobError as exc:
        raise _api(exc) from None
    finally:
        await form.close()
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)
