"""The job API: declare, upload in chunks, start, poll, download; limits and bad input."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from linter.batch import LintOptions, lint_paths
from linter.profiles import load_profile
from linter.render.report import report_csv
from linter.workbench.jobs import clean_name
from tests.workbench.conftest import DATA, make_settings
from tests.workbench.web import use_csrf

FILES = ["heparin-overdose.json", "not-fhir.json", "clean-order-set.json"]


def _run_job(client: TestClient, names: list[str], chunk: int = 1000, **extra: object) -> str:
    blobs = [(DATA / n).read_bytes() for n in names]
    r = client.post(
        "/workbench/jobs",
        json={"files": [{"name": n, "size": len(b)} for n, b in zip(names, blobs, strict=True)], **extra},
    )
    assert r.status_code == 201, r.text
    job = r.json()["id"]
    for i, blob in enumerate(blobs):
        for offset in range(0, len(blob), chunk):
            put = client.put(f"/workbench/jobs/{job}/files/{i}?offset={offset}", content=blob[offset : offset + chunk])
            assert put.status_code == 200, put.text
    assert client.post(f"/workbench/jobs/{job}/start").status_code == 202
    deadline = time.monotonic() + 60
    while client.get(f"/workbench/jobs/{job}").json()["state"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return job


def test_upload_in_chunks_lints_and_matches_the_cli_csv(wb_client: TestClient, monkeypatch: object) -> None:
    job = _run_job(wb_client, FILES)
    status = wb_client.get(f"/workbench/jobs/{job}").json()
    assert status == {"state": "done", "done": 3, "total": 3}
    csv_text = wb_client.get(f"/workbench/jobs/{job}/report.csv").text
    import os

    cwd = os.getcwd()
    try:
        os.chdir(DATA)
        expected = report_csv(lint_paths(sorted(FILES), load_profile("btk-angioplasty"), LintOptions()))
    finally:
        os.chdir(cwd)
    assert csv_text == expected
    page = wb_client.get(f"/jobs/{job}").text
    assert "Results" in page and "HEP201" in page and "not-fhir.json" in page
    doc = wb_client.get(f"/workbench/jobs/{job}/report.json").json()
    assert doc["summary"]["files"] == 3 and doc["summary"]["files_with_errors"] == 1
    html = wb_client.get(f"/workbench/jobs/{job}/report.html")
    assert html.headers["content-disposition"].startswith("attachment")


def test_context_is_forced_for_templates(wb_client: TestClient) -> None:
    job = _run_job(wb_client, ["heparin-low.json"], context="btk")
    doc = wb_client.get(f"/workbench/jobs/{job}/report.json").json()
    assert doc["files"][0]["order_sets"][0]["context"]["btk"]


def test_limits_are_clear(tmp_path: Path) -> None:
    from linter.api.main import create_app

    settings = make_settings(tmp_path, upload_max_files=2, upload_max_bytes=1000)
    with TestClient(create_app(settings)) as client:
        use_csrf(client)
        r = client.post("/workbench/jobs", json={"files": [{"name": f"{i}.json", "size": 1} for i in range(3)]})
        assert r.status_code == 413
        assert "3 files: the limit is 2 files per upload" in r.text
        r = client.post("/workbench/jobs", json={"files": [{"name": "a.json", "size": 5000}]})
        assert r.status_code == 413 and "the limit is 1000 bytes per upload" in r.text
        job = client.post("/workbench/jobs", json={"files": [{"name": "a.json", "size": 10}]}).json()["id"]
        too_much = client.put(f"/workbench/jobs/{job}/files/0?offset=0", content=b"x" * 11)
        assert too_much.status_code == 413 and "more bytes than the declared 10" in too_much.text
        wrong_offset = client.put(f"/workbench/jobs/{job}/files/0?offset=5", content=b"x")
        assert wrong_offset.status_code == 409
        early = client.post(f"/workbench/jobs/{job}/start")
        assert early.status_code == 409 and "finish the upload first" in early.text
        assert client.get("/workbench/jobs/../../etc/passwd").status_code == 404
        assert client.get("/workbench/jobs/not-a-job").status_code == 404


def test_plain_form_upload_redirects_to_the_job_page(wb_client: TestClient) -> None:
    files = [("files", (n, (DATA / n).read_bytes(), "application/json")) for n in FILES]
    r = wb_client.post("/workbench/upload", files=files, data={"context": ""}, follow_redirects=False)
    assert r.status_code == 303
    job = r.headers["location"].rsplit("/", 1)[-1]
    deadline = time.monotonic() + 60
    while wb_client.get(f"/workbench/jobs/{job}").json()["state"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert "HEP201" in wb_client.get(f"/jobs/{job}").text


def test_pages_render(wb_client: TestClient) -> None:
    page = wb_client.get("/")
    assert page.status_code == 200 and 'label for="files"' in page.text and "btk-angioplasty" in page.text
    assert wb_client.get("/static/workbench.css").status_code == 200
    assert wb_client.get("/dashboard").status_code == 200


def test_clean_name_keeps_names_harmless() -> None:
    assert clean_name("../../etc/passwd") == "etc/passwd"
    assert clean_name("a\\b\x00c.json") == "a/bc.json"
    assert clean_name("") == "upload"


def test_fixtures_uploaded_as_a_zip_match_the_cli(wb_client: TestClient, tmp_path: Path) -> None:
    """Done-when check: every fixture's findings appear on the page as the CLI reports them."""
    import zipfile

    root = Path(__file__).resolve().parents[2] / "fixtures"
    archive = tmp_path / "fixtures.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(root.rglob("*.json")):
            zf.write(path, path.relative_to(root).as_posix())
    blob = archive.read_bytes()
    job = wb_client.post("/workbench/jobs", json={"files": [{"name": "fixtures.zip", "size": len(blob)}]}).json()
    for offset in range(0, len(blob), 500_000):
        wb_client.put(f"/workbench/jobs/{job['id']}/files/0?offset={offset}", content=blob[offset : offset + 500_000])
    assert wb_client.post(f"/workbench/jobs/{job['id']}/start").status_code == 202
    deadline = time.monotonic() + 120
    while wb_client.get(f"/workbench/jobs/{job['id']}").json()["state"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    page_csv = wb_client.get(f"/workbench/jobs/{job['id']}/report.csv").text
    import os

    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        cli_csv = report_csv(lint_paths(["fixtures.zip"], load_profile("btk-angioplasty"), LintOptions()))
    finally:
        os.chdir(cwd)
    assert page_csv == cli_csv
    assert page_csv.count("fixtures.zip!") >= 10


def test_a_job_lost_with_its_server_is_reported_failed_not_running_forever(tmp_path: Path) -> None:
    import os

    from linter.workbench.jobs import JobFile, JobStore, UploadLimits

    settings = make_settings(tmp_path)
    store = JobStore(tmp_path / "jobs", UploadLimits.from_settings(settings))
    job = store.create("btk-angioplasty", None, [JobFile(name="a.json", size=1)])
    store.set_status(job.id, "running", done=3, total=10)
    assert store.status(job.id)["state"] == "running"
    status_file = store.dir(job.id) / "status.json"
    old = time.time() - 601
    os.utime(status_file, (old, old))
    lost = store.status(job.id)
    assert lost["state"] == "failed" and "interrupted" in lost["message"]
