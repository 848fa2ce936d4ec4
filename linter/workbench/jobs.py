"""Upload jobs on disk: a job is declared with its file list, its files arrive in chunks (each written to
disk as it streams in, so an upload never sits in memory), then it runs in a background thread and writes
its progress and reports next to its files. Everything a request needs is on disk, so any server worker
can answer for any job.

    <upload_dir>/<job id>/job.json       profile, context, declared files (name, size)
                          files/00000    the uploaded bytes, by index (client names are never paths)
                          status.json    state uploading | queued | running | done | failed, done/total
                          report.json|csv|html, body.html   when done (the uploaded files are then deleted)

A job is deleted with its files `ttl_s` after it was declared, or sooner, `idle_s` after its last upload
activity when it was never started (an abandoned upload must not keep patient data on disk for a day).
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
import traceback
import unicodedata
from collections.abc import AsyncIterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, BinaryIO, Literal

from linter.batch import ArchiveReader, InputSource, LintOptions, ZipLimits, lint_sources, source_for_file
from linter.profiles import Profile
from linter.render.report import report_csv, report_doc
from linter.settings import Settings

log = logging.getLogger("orderlint.workbench")

JOB_ID = re.compile(r"^[0-9a-f]{32}$")
State = Literal["uploading", "queued", "running", "done", "failed"]
STALE_AFTER_S = {"running": 600.0, "queued": 3600.0}  # no status write for this long: the job was lost
REPORT_KINDS = {"json": "application/json", "csv": "text/csv", "html": "text/html"}
# Below this many inputs a job lints in its thread: starting worker processes would cost more than it saves.
PARALLEL_MIN_INPUTS = 200
PEOPLE_BODY = "body-people.html"  # the results page's table with patients, for signed-in users only
PURGE_EVERY_S = 60.0  # how often requests sweep expired and idle jobs


class JobError(Exception):
    """A request the job store refuses; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def size_label(n: int) -> str:
    for unit, factor in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= factor:
            value = n / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int = 256 * 1024 * 1024
    max_files: int = 5000
    chunk_bytes: int = 1024 * 1024  # kept under the service's request body limit
    zip: ZipLimits = field(default_factory=ZipLimits)

    @classmethod
    def from_settings(cls, settings: Settings) -> UploadLimits:
        chunk = max(64 * 1024, min(1024 * 1024, settings.max_body_bytes // 2))
        return cls(
            max_bytes=settings.upload_max_bytes,
            max_files=settings.upload_max_files,
            chunk_bytes=chunk,
            zip=ZipLimits(max_members=settings.upload_max_files),
        )

    def page_view(self) -> dict[str, Any]:
        return {
            "max_files": self.max_files,
            "max_bytes": self.max_bytes,
            "max_bytes_label": size_label(self.max_bytes),
            "chunk_bytes": self.chunk_bytes,
            "zip_members": self.zip.max_members,
            "zip_bytes_label": size_label(self.zip.max_total_bytes),
        }


@dataclass(frozen=True)
class JobFile:
    name: str
    size: int


@dataclass(frozen=True)
class Job:
    id: str
    profile: str
    context: Literal["btk", "pad"] | None
    files: tuple[JobFile, ...]
    created: float
    owner: str | None = None  # the workbench user who uploaded it (None when the workbench is open)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Job:
        return cls(
            id=data["id"],
            profile=data["profile"],
            context=data["context"],
            files=tuple(JobFile(f["name"], f["size"]) for f in data["files"]),
            created=data["created"],
            owner=data.get("owner"),
        )


def clean_name(raw: str) -> str:
    """A display name for an uploaded file: control characters dropped, no leading slashes or `..` parts.
    It is only ever shown in reports; files are stored by index."""
    text = "".join(ch for ch in unicodedata.normalize("NFC", raw) if unicodedata.category(ch)[0] != "C")
    parts = [p for p in text.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    return "/".join(parts)[-255:] or "upload"


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


class JobStore:
    def __init__(
        self,
        root: Path,
        limits: UploadLimits,
        ttl_s: int = 24 * 3600,
        parallel_jobs: int = 1,
        idle_s: int = 3600,
    ) -> None:
        self.root = root
        self.limits = limits
        self.ttl_s = ttl_s
        self.idle_s = idle_s
        self.parallel_jobs = parallel_jobs
        self._last_purge = 0.0
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="orderlint-job")

    @classmethod
    def from_settings(cls, settings: Settings) -> JobStore:
        """The store of the configured upload directory and limits. The service builds one at start-up
        (linter.api.main's lifespan) and hands it to requests (linter.api.deps.JobStoreDep); `orderlint purge`
        builds its own. There is no module-level cache: two stores on one directory agree, since everything
        a job is lives on disk."""
        return cls(
            upload_root(settings),
            UploadLimits.from_settings(settings),
            settings.upload_ttl_s,
            settings.upload_jobs,
            settings.upload_idle_s,
        )

    def close(self) -> None:
        """No new job starts; jobs already queued or running finish in their threads (the app's shutdown)."""
        self._executor.shutdown(wait=False)

    # --- declaring and receiving files --------------------------------------------------------------

    def create(
        self,
        profile: str,
        context: Literal["btk", "pad"] | None,
        files: Sequence[JobFile],
        owner: str | None = None,
    ) -> Job:
        self.purge_expired()
        if not files:
            raise JobError(400, "no files: choose at least one file to lint")
        if len(files) > self.limits.max_files:
            raise JobError(
                413,
                f"{len(files)} files: the limit is {self.limits.max_files} files per upload "
                "(zip them, or upload in parts)",
            )
        total = sum(f.size for f in files)
        if any(f.size < 0 for f in files):
            raise JobError(400, "a file size is negative")
        if total > self.limits.max_bytes:
            raise JobError(
                413,
                f"the files add up to {size_label(total)}: the limit is {size_label(self.limits.max_bytes)} per upload",
            )
        job = Job(
            id=secrets.token_hex(16),
            profile=profile,
            context=context,
            files=tuple(JobFile(clean_name(f.name), f.size) for f in files),
            created=time.time(),
            owner=owner,
        )
        directory = self.root / job.id
        (directory / "files").mkdir(parents=True, mode=0o700)
        for index in range(len(job.files)):
            self.file_path(job.id, index).touch()
        _write_json(directory / "job.json", asdict(job))
        self.set_status(job.id, "uploading", done=0, total=len(job.files))
        return job

    def dir(self, job_id: str) -> Path:
        if not JOB_ID.match(job_id):
            raise JobError(404, "no such job")
        return self.root / job_id

    def file_path(self, job_id: str, index: int) -> Path:
        return self.dir(job_id) / "files" / f"{index:05d}"

    def get_for(self, job_id: str, user: str | None, see_all: bool = False) -> Job:
        """The job, if `user` may see it: a job uploaded by a workbench user is that user's alone (others get
        the same 404 as for a job that does not exist), except for a lead (`see_all`)."""
        job = self.get(job_id)
        if job.owner is not None and job.owner != user and not see_all:
            raise JobError(404, "no such job (jobs are deleted after a day)")
        return job

    def get(self, job_id: str) -> Job:
        path = self.dir(job_id) / "job.json"
        try:
            return Job.from_json(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise JobError(404, "no such job (jobs are deleted after a day)") from None

    async def receive_chunk(self, job: Job, index: int, offset: int, body: AsyncIterator[bytes]) -> int:
        """Append one chunk of file `index` at `offset`, streaming it to disk; the size written so far."""
        if not 0 <= index < len(job.files):
            raise JobError(404, f"this job has no file {index}")
        if self.status(job.id)["state"] != "uploading":
            raise JobError(409, "the job has already started; no more files can be added")
        declared = job.files[index].size
        path = self.file_path(job.id, index)
        with path.open("r+b") as fh:
            fh.seek(0, os.SEEK_END)
            if fh.tell() != offset:
                raise JobError(409, f"{job.files[index].name}: expected the chunk at offset {fh.tell()}")
            async for piece in body:
                if fh.tell() + len(piece) > declared:
                    fh.truncate(offset)
                    raise JobError(413, f"{job.files[index].name}: more bytes than the declared {declared}")
                fh.write(piece)
            size = fh.tell()
        os.utime(self.dir(job.id) / "status.json")  # upload activity: the job is not idle
        return size

    def save_stream(self, job: Job, index: int, source: BinaryIO) -> None:
        """Copy an already-spooled upload (the no-JavaScript form) into the job, within its declared size."""
        with self.file_path(job.id, index).open("wb") as out:
            shutil.copyfileobj(source, out, 1024 * 1024)

    # --- status ---------------------------------------------------------------------------------------

    def status(self, job_id: str, now: float | None = None) -> dict[str, Any]:
        path = self.dir(job_id) / "status.json"
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            age = (now or time.time()) - path.stat().st_mtime
        except FileNotFoundError:
            raise JobError(404, "no such job (jobs are deleted after a day)") from None
        # A running job writes its progress several times a second; a job that stopped writing was lost
        # with its server process (a restart, a crash): say so instead of showing "running" forever.
        limit = STALE_AFTER_S.get(data.get("state", ""))
        if limit is not None and age > limit:
            return {
                **data,
                "state": "failed",
                "message": "interrupted: the server stopped while this job was waiting or running; upload again",
            }
        return data

    def set_status(self, job_id: str, state: State, **fields: Any) -> None:
        _write_json(self.dir(job_id) / "status.json", {"state": state, "done": 0, "total": 0, **fields})

    # --- running --------------------------------------------------------------------------------------

    def start(self, job: Job, profile: Profile) -> None:
        status = self.status(job.id)
        if status["state"] != "uploading":
            raise JobError(409, f"the job is already {status['state']}")
        for index, f in enumerate(job.files):
            got = self.file_path(job.id, index).stat().st_size
            if got != f.size:
                raise JobError(409, f"{f.name}: {got} of {f.size} bytes received; finish the upload first")
        self.set_status(job.id, "queued", total=len(job.files))
        self._executor.submit(self._run_logged, job, profile)

    def _run_logged(self, job: Job, profile: Profile) -> None:
        try:
            self.run(job, profile)
        except Exception as exc:  # the job fails, the server does not
            # type and stack only: the message (and so log.exception) may quote the uploaded data
            frames = "".join(traceback.format_tb(exc.__traceback__))
            log.error("job %s failed: %s\n%s", job.id, type(exc).__name__, frames)
            self.set_status(job.id, "failed", message=f"internal error ({type(exc).__name__}); see the server log")

    def sources(self, job: Job, archives: ArchiveReader | None = None) -> list[InputSource]:
        """The job's inputs, ordered by name like a directory on the command line (archives expanded)."""
        order = sorted(range(len(job.files)), key=lambda i: (job.files[i].name, i))
        out: list[InputSource] = []
        for index in order:
            path = self.file_path(job.id, index)
            out.extend(source_for_file(path, job.files[index].name, self.limits.zip, archives))
        return out

    def run(self, job: Job, profile: Profile) -> None:
        with ArchiveReader() as archives:  # each uploaded archive opened once, for listing and reading
            self._lint_and_report(job, profile, archives)

    def _lint_and_report(self, job: Job, profile: Profile, archives: ArchiveReader) -> None:
        # Jinja and the report templates load when a job first runs, not at import: `orderlint purge` imports
        # this module only to delete expired jobs.
        from linter.fhir_io.demographics import report_people
        from linter.render.html import render_report_body, render_report_doc

        sources = self.sources(job, archives)
        total = len(sources)
        self.set_status(job.id, "running", done=0, total=total)
        last = [0.0]

        def progress(done: int, total: int, name: str) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.2 or done == total:
                last[0] = now
                self.set_status(job.id, "running", done=done, total=total, current=name)

        jobs = self.parallel_jobs if total >= PARALLEL_MIN_INPUTS else 1
        results = lint_sources(
            sources,
            profile,
            LintOptions(mode="strict", context=job.context),
            jobs=jobs,
            limits=self.limits.zip,
            progress=progress,
            mp_context=get_context("forkserver") if jobs > 1 else None,
            archives=archives,
        )
        directory = self.dir(job.id)
        doc = report_doc(results, profile)
        (directory / "report.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", "utf-8")
        (directory / "report.csv").write_text(report_csv(results), "utf-8")
        body = render_report_body(doc)  # the results page's table, rendered once for the page and the download
        (directory / "report.html").write_text(render_report_doc(doc, body=body), "utf-8")
        (directory / "body.html").write_text(body, "utf-8")
        if job.owner is not None:  # a signed-in user's job: the page shows who each row is for (not the downloads)
            people = render_report_body(doc, people=report_people(results))
            (directory / PEOPLE_BODY).write_text(people, "utf-8")
        shutil.rmtree(directory / "files", ignore_errors=True)  # patient data: keep only the reports
        self.set_status(job.id, "done", done=total, total=total)

    def report_path(self, job_id: str, kind: str) -> Path:
        """report.json|csv|html, or body.html (kind "body": the results page's table)."""
        if kind not in (*REPORT_KINDS, "body"):
            raise JobError(404, f"no report format {kind[:20]!r}")
        if self.status(job_id)["state"] != "done":
            raise JobError(409, "the job has not finished yet")
        return self.dir(job_id) / ("body.html" if kind == "body" else f"report.{kind}")

    def purge_expired(self, now: float | None = None) -> int:
        """Delete jobs older than `ttl_s`, and jobs never started with no upload activity for `idle_s`
        (their files with them); the number deleted."""
        now = now or time.time()
        self._last_purge = time.monotonic()
        removed = 0
        for child in self.root.iterdir():
            if JOB_ID.match(child.name) and child.is_dir() and self._expired(child, now):
                shutil.rmtree(child, ignore_errors=True)
                removed += 1
        return removed

    def maybe_purge(self) -> None:
        """purge_expired, at most once a minute (requests call it, so idle jobs go without a scheduler)."""
        if time.monotonic() - self._last_purge >= PURGE_EVERY_S:
            self.purge_expired()

    def _expired(self, directory: Path, now: float) -> bool:
        try:
            if (directory / "job.json").stat().st_mtime < now - self.ttl_s:
                return True
            status = directory / "status.json"
            if now - status.stat().st_mtime <= self.idle_s:
                return False
            return bool(json.loads(status.read_text(encoding="utf-8")).get("state") == "uploading")
        except FileNotFoundError:
            return True
        except (OSError, ValueError):
            return False


def upload_root(settings: Settings) -> Path:
    return Path(settings.upload_dir) if settings.upload_dir else Path(tempfile.gettempdir()) / "orderlint-uploads"
