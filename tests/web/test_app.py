"""The JSON API over a live server: checks, skip, reset, progress, and its origin rules."""

from __future__ import annotations

from pathlib import Path

LAB = "99-web-demo"  # the lab conftest.py writes

STEP = f"/api/labs/{LAB}/steps"


def bucket_exists(sandbox) -> bool:
    return "demo-data" in [b["Name"] for b in sandbox.client("s3").list_buckets()["Buckets"]]


def test_labs_lists_manifest_and_progress(api):
    (lab,) = api.get("/api/labs").json()["labs"]
    assert lab["id"] == LAB
    assert [s["id"] for s in lab["steps"]] == ["make-bucket", "write-notes"]
    assert lab["url"] == f"/labs/{LAB}/"
    assert lab["progress"]["points"] == 0 and lab["progress"]["max_points"] == 3


def test_check_of_unsolved_step_fails_with_what_it_saw_and_a_hint(api):
    report = api.post(f"{STEP}/make-bucket/check").json()
    (result,) = report["results"]
    assert result["status"] == "failed"
    assert result["message"] == "there is no bucket demo-data (buckets: none)"
    assert "create_bucket" in result["hint"]


def test_first_check_creates_the_workspace_from_the_starter(api, workspace):
    api.post(f"{STEP}/write-notes/check")
    assert (workspace / LAB / "notes.txt").is_file()


def test_skip_then_check_passes_and_progress_counts_it(api, sandbox):
    skipped = api.post(f"{STEP}/make-bucket/skip", json={}).json()
    assert skipped["skipped"] == ["make-bucket"]
    assert bucket_exists(sandbox)
    report = api.post(f"{STEP}/make-bucket/check").json()
    assert report["results"][0]["status"] == "skipped"  # passed, by the reference solution
    assert report["passed"]
    progress = api.get("/api/progress").json()["labs"][LAB]
    assert progress["points"] == 2 and progress["steps_done"] == ["make-bucket"]
    assert progress["steps_skipped"] == ["make-bucket"]
    assert progress["step_results"]["make-bucket"]["status"] == "skipped"


def test_lab_check_runs_every_step(api):
    report = api.post(f"/api/labs/{LAB}/check").json()
    assert [r["step"] for r in report["results"]] == ["make-bucket", "write-notes"]
    assert report["max_points"] == 3


def test_skip_over_changed_files_asks_first_then_backs_them_up(api, workspace):
    api.post(f"{STEP}/write-notes/check")
    (workspace / LAB / "notes.txt").write_text("my own notes\n")
    refused = api.post(f"{STEP}/write-notes/skip", json={})
    assert refused.status_code == 409
    assert refused.json()["changed"] == ["notes.txt"]
    assert (workspace / LAB / "notes.txt").read_text() == "my own notes\n"
    done = api.post(f"{STEP}/write-notes/skip", json={"replace_changed": True}).json()
    assert (workspace / LAB / "notes.txt").read_text() == "the reference notes\n"
    assert (Path(done["backup"]) / "notes.txt").read_text() == "my own notes\n"


def test_reset_removes_resources_restores_starter_and_zeroes_progress(api, sandbox, workspace):
    api.post(f"{STEP}/write-notes/skip", json={})
    answer = api.post(f"/api/labs/{LAB}/reset").json()
    assert not bucket_exists(sandbox)
    assert (workspace / LAB / "notes.txt").read_text() == ""
    assert answer["progress"]["points"] == 0


def test_cross_origin_post_is_refused_and_changes_nothing(api, sandbox):
    api.post(f"{STEP}/make-bucket/skip", json={})
    refused = api.post(f"/api/labs/{LAB}/reset", headers={"Origin": "http://evil.example"})
    assert refused.status_code == 403
    assert "cross-origin" in refused.json()["error"]
    assert bucket_exists(sandbox)


def test_cross_site_fetch_metadata_is_refused(api):
    refused = api.post(f"{STEP}/make-bucket/check", headers={"Sec-Fetch-Site": "cross-site"})
    assert refused.status_code == 403


def test_same_origin_post_is_allowed(api, live):
    headers = {"Origin": live, "Sec-Fetch-Site": "same-origin"}
    assert api.post(f"{STEP}/make-bucket/check", headers=headers).status_code == 200


def test_foreign_host_header_is_refused(api):
    assert api.get("/api/labs", headers={"Host": "rebind.example"}).status_code == 400


def test_unknown_lab_and_step_are_404_with_the_valid_names(api):
    lab = api.post("/api/labs/99-web-dmo/check")
    assert lab.status_code == 404 and LAB in lab.json()["error"]
    step = api.post(f"{STEP}/make-bucket2/check")
    assert step.status_code == 404 and "make-bucket" in step.json()["error"]


def test_body_must_be_a_json_object(api):
    bad = api.post(f"{STEP}/make-bucket/skip", content=b"[1]")
    assert bad.status_code == 400


def test_sandbox_reports_where_it_runs(api, sandbox):
    info = api.get("/api/sandbox").json()
    assert info["running"] is True and info["endpoint"] == sandbox.endpoint_url
    assert info["jupyter"] is None


def test_sandbox_links_jupyterlab_when_it_runs(
    built_site, sandbox, workspace, content, monkeypatch
):
    import httpx

    from crosstrain.web.app import create_app
    from crosstrain.web.server import Background

    monkeypatch.setenv("CROSSTRAIN_CONTENT_DIR", str(content))
    lab = {"url": "http://127.0.0.1:9/lab?token=t", "base": "http://127.0.0.1:9/", "token": "t"}
    app = create_app(built_site, sandbox, workspace=workspace, jupyter=lab)
    with Background(app) as url:
        assert httpx.get(f"{url}/api/sandbox").json()["jupyter"] == lab


def test_sitemap_names_this_server(api, live):
    sitemap = api.get("/sitemap.xml").text
    assert f"<loc>{live}/labs/{LAB}/</loc>" in sitemap
    assert "127.0.0.1:8000" not in sitemap


def test_site_is_served_after_the_api(api):
    page = api.get(f"/labs/{LAB}/")
    assert page.status_code == 200
    assert 'data-step="make-bucket"' in page.text
    assert api.get("/no-such-page/").status_code == 404


def test_start_copies_the_starter_and_keeps_existing_files(api, workspace):
    first = api.post(f"/api/labs/{LAB}/start").json()
    assert first["copied"] == ["notes.txt"]
    (workspace / LAB / "notes.txt").write_text("mine\n")
    assert api.post(f"/api/labs/{LAB}/start").json()["copied"] == []
    assert (workspace / LAB / "notes.txt").read_text() == "mine\n"


def test_a_sandbox_that_does_not_answer_is_a_503_not_a_crashed_check(
    built_site, workspace, content, monkeypatch
):
    import httpx

    from crosstrain.sandbox import Sandbox
    from crosstrain.web.app import create_app
    from crosstrain.web.jupyter import free_port
    from crosstrain.web.server import Background

    monkeypatch.setenv("CROSSTRAIN_CONTENT_DIR", str(content))
    gone = Sandbox(f"http://127.0.0.1:{free_port()}")
    with Background(create_app(built_site, gone, workspace=workspace)) as url:
        answer = httpx.post(f"{url}{STEP}/make-bucket/check")
        assert answer.status_code == 503
        assert "no sandbox answers" in answer.json()["error"]
        assert httpx.get(f"{url}/api/sandbox").json()["running"] is False


def test_a_bug_in_the_server_is_a_500_saying_so_not_a_missing_server(api, monkeypatch):
    from crosstrain.labs import runner

    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(runner, "check_lab", broken)
    answer = api.post(f"{STEP}/make-bucket/check")
    assert answer.status_code == 500
    error = answer.json()["error"]
    assert error.startswith("the local server failed (ZeroDivisionError: division by zero)")
    assert "crosstrain up" in error
