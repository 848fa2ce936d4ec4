"""Uploads in linear time: an archive is opened once per batch, not once per member (opening a zip parses
its whole central directory, so reopening it per member made N members cost O(N^2)). Not timed: counted.
Also: never-started jobs are deleted after the idle time; 405 answers say what is allowed."""

from __future__ import annotations

import json
import os
import time
import zipfile
from pathlib import Path
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient

from linter.batch import LintOptions, lint_paths
from linter.profiles import load_profile
from linter.workbench.jobs import JobFile, JobStore, UploadLimits
from tests.workbench.conftest import DATA, make_settings

MEMBERS = 60


class CountingZipFile(zipfile.ZipFile):
    opened: ClassVar[list[str]] = []

    def __init__(self, file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> None:
        if mode == "r":  # opened for reading (the tests write their archives with the same class)
            CountingZipFile.opened.append(str(file))
        super().__init__(file, mode, *args, **kwargs)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    CountingZipFile.opened = []
    monkeypatch.setattr(zipfile, "ZipFile", CountingZipFile)  # linter.batch imports zipfile when it opens one
    return CountingZipFile.opened


def _archive(path: Path, members: int = MEMBERS) -> Path:
    bundle = (DATA / "heparin-overdose.json").read_text()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n in range(members):
            zf.writestr(f"sets/order-set-{n:03d}.json", bundle)
    return path


def test_the_cli_path_opens_an_archive_once(tmp_path: Path, counted: list[str]) -> None:
    archive = _archive(tmp_path / "many.zip")
    results = lint_paths([str(archive)], load_profile("btk-angioplasty"), LintOptions())
    assert len(results) == MEMBERS
    assert all(r.findings and not r.errors for r in results)  # every member really read and linted
    assert counted == [str(archive)]


def test_a_workbench_job_opens_its_archive_once(tmp_path: Path, counted: list[str]) -> None:
    archive = _archive(tmp_path / "many.zip")
    store = JobStore(tmp_path / "jobs", UploadLimits.from_settings(make_settings(tmp_path)))
    job = store.create("btk-angioplasty", None, [JobFile("many.zip", archive.stat().st_size)])
    store.file_path(job.id, 0).write_bytes(archive.read_bytes())
    store.run(job, load_profile("btk-angioplasty"))
    assert store.status(job.id) == {"state": "done", "done": MEMBERS, "total": MEMBERS}
    assert counted == [str(store.file_path(job.id, 0))]


def test_worker_processes_open_an_archive_once_each(tmp_path: Path) -> None:
    # Across processes the count cannot be patched in; the results must still equal one process's.
    archive = _archive(tmp_path / "many.zip", 30)
    profile = load_profile("btk-angioplasty")
    options = LintOptions(now=None)
    one = lint_paths([str(archive)], profile, options)
    two = lint_paths([str(archive)], profile, options, jobs=2)
    assert [(r.path, [f.code for f in r.findings]) for r in one] == [
        (r.path, [f.code for f in r.findings]) for r in two
    ]


def test_never_started_jobs_are_deleted_after_the_idle_time(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs", UploadLimits(), ttl_s=24 * 3600, idle_s=3600)
    idle = store.create("btk-angioplasty", None, [JobFile("a.json", 2)])
    store.file_path(idle.id, 0).write_bytes(b"{}")
    busy = store.create("btk-angioplasty", None, [JobFile("b.json", 2)])
    started = store.create("btk-angioplasty", None, [JobFile("c.json", 2)])
    store.set_status(started.id, "done", done=1, total=1)
    now = time.time()
    for job in (idle, started):
        status = store.dir(job.id) / "status.json"
        os.utime(status, (now - 3601, now - 3601))
    assert store.purge_expired(now) == 1
    assert not store.dir(idle.id).exists()  # with its uploaded file
    assert store.dir(busy.id).exists()  # recent upload activity
    assert store.dir(started.id).exists()  # finished jobs keep their reports until the TTL


def test_upload_activity_keeps_a_job_alive(tmp_path: Path) -> None:
    with TestClient(_app(tmp_path, upload_idle_s=3600)) as client:
        from tests.workbench.web import use_csrf

        use_csrf(client)
        job = client.post("/workbench/jobs", json={"files": [{"name": "a.json", "size": 4}]}).json()["id"]
        status = Path(tmp_path / "uploads" / job / "status.json")
        old = time.time() - 3000
        os.utime(status, (old, old))
        assert client.put(f"/workbench/jobs/{job}/files/0?offset=0", content=b"{}").status_code == 200
        assert time.time() - status.stat().st_mtime < 60


def _app(tmp_path: Path, **overrides: Any) -> Any:
    from linter.api.main import create_app

    return create_app(make_settings(tmp_path, **overrides))


def test_405_answers_carry_allow(wb_client: TestClient) -> None:
    for method, path, allowed in (
        ("DELETE", "/workbench/jobs", {"POST"}),
        ("GET", "/workbench/upload", {"POST"}),
        ("POST", "/dashboard", {"GET"}),
        ("PUT", "/cds-services", {"GET"}),
    ):
        response = wb_client.request(method, path)
        assert response.status_code == 405, (method, path)
        assert set(response.headers["allow"].replace(" ", "").split(",")) >= allowed, (path, response.headers)
        assert json.loads(response.text)["resourceType"] == "OperationOutcome"
