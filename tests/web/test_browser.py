"""The site in Debian's chromium, driven by playwright: check, hint, skip, reset, progress, search,
instant navigation, nothing fetched off this machine, and cross-origin requests refused.

Most tests use a small demo lab (conftest.py); the last ones drive the course site and its lab 00.
Screenshots land in ``test-artifacts/``: ``home.png``, ``lab-check-failed.png`` and
``lab-check-passed.png`` from the course site, ``demo-*.png`` from the demo lab.
"""

from __future__ import annotations

import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser

LAB = "99-web-demo"  # the lab conftest.py writes
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def requests_seen():
    return []


@pytest.fixture
def page(browser, requests_seen):
    """A fresh page whose every request is recorded; requests off 127.0.0.1 are aborted."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})

    def route(route):
        requests_seen.append(route.request.url)
        if urlparse(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            route.abort()

    context.route("**/*", route)
    context.on("request", lambda request: requests_seen.append(request.url))
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    yield page
    context.close()


def open_page(page, url: str):
    page.goto(url)
    page.wait_for_selector("body[data-crosstrain-ready]")


def widget(page, step: str):
    return page.locator(f'.ct-check[data-step="{step}"]')


def screenshot(page, name: str, around=None) -> None:
    """Save the page (or the viewport centred on the locator ``around``) in test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    if around is not None:
        around.evaluate("el => el.scrollIntoView({block: 'center'})")
    page.screenshot(path=str(ARTIFACTS / name), full_page=around is None)


def test_check_on_an_unsolved_step_shows_failure_and_a_folded_hint(page, live):
    from playwright.sync_api import expect

    open_page(page, f"{live}/labs/{LAB}/")
    box = widget(page, "make-bucket")
    box.locator(".ct-check__run").click()
    expect(box).to_have_attribute("data-status", "failed")
    expect(box.locator(".ct-check__saw")).to_contain_text("there is no bucket demo-data")
    hint = box.locator("details.ct-check__hint")
    expect(hint).not_to_have_attribute("open", "")
    hint.locator("summary").click()
    expect(hint.locator("p")).to_contain_text("create_bucket")
    expect(page.locator(".ct-lab__jupyter")).to_be_hidden()  # no JupyterLab was started
    screenshot(page, "demo-lab-check-failed.png")


def test_skip_then_the_check_passes_and_progress_updates(page, live, sandbox):
    from playwright.sync_api import expect

    open_page(page, f"{live}/labs/{LAB}/")
    box = widget(page, "make-bucket")
    box.locator(".ct-check__skip").click()
    expect(box).to_have_attribute("data-status", "skipped")
    expect(box.locator(".ct-badge").first).to_have_text("Skipped")
    expect(box.locator(".ct-check__summary")).to_contain_text("2 / 2 points")
    label = page.locator(".ct-lab .ct-progress__label")
    expect(label).to_have_text("2 / 3 points · 1 of 2 steps done (1 skipped)")
    names = [b["Name"] for b in sandbox.client("s3").list_buckets()["Buckets"]]
    assert "demo-data" in names
    screenshot(page, "demo-lab-check-passed.png")


def test_reset_asks_then_clears_the_lab(page, live, sandbox):
    from playwright.sync_api import expect

    open_page(page, f"{live}/labs/{LAB}/")
    widget(page, "make-bucket").locator(".ct-check__skip").click()
    expect(widget(page, "make-bucket")).to_have_attribute("data-status", "skipped")
    asked = []
    page.once("dialog", lambda dialog: asked.append(dialog.message))
    page.locator(".ct-lab__reset").click()
    expect(page.locator(".ct-lab .ct-progress__label")).to_have_text(
        "0 / 3 points · 0 of 2 steps done"
    )
    assert asked and asked[0].startswith(f"Reset {LAB}?")
    assert sandbox.client("s3").list_buckets()["Buckets"] == []


def test_check_all_steps_fills_every_widget(page, live):
    from playwright.sync_api import expect

    open_page(page, f"{live}/labs/{LAB}/")
    page.locator(".ct-lab__check").click()
    expect(widget(page, "make-bucket")).to_have_attribute("data-status", "failed")
    expect(widget(page, "write-notes")).to_have_attribute("data-status", "failed")


def test_without_the_server_the_check_button_says_what_to_run(page, built_site):
    from playwright.sync_api import expect
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    from crosstrain.web.server import Background

    static = Starlette(routes=[Mount("/", StaticFiles(directory=built_site, html=True))])
    with Background(static) as url:
        open_page(page, f"{url}/labs/{LAB}/")
        box = widget(page, "make-bucket")
        box.locator(".ct-check__run").click()
        expect(box.locator(".ct-check__note--error")).to_contain_text("run `crosstrain up`")


def test_a_server_error_is_reported_as_one_not_as_a_missing_server(page, live):
    from playwright.sync_api import expect

    page.route("**/api/labs/*/steps/*/check", lambda route: route.fulfill(status=500, body="boom"))
    open_page(page, f"{live}/labs/{LAB}/")
    box = widget(page, "make-bucket")
    box.locator(".ct-check__run").click()
    note = box.locator(".ct-check__note--error")
    expect(note).to_contain_text("The local server failed (HTTP 500)")
    expect(note).not_to_contain_text("needs the local server")


def test_progress_page_shows_each_lab(page, live, api):
    from playwright.sync_api import expect

    api.post(f"/api/labs/{LAB}/steps/make-bucket/skip", json={})
    api.post(f"/api/labs/{LAB}/steps/make-bucket/check")
    open_page(page, f"{live}/progress/")
    row = page.locator(f'.ct-progress-page tr[data-lab="{LAB}"]')
    expect(row).to_contain_text("99 · Web demo")
    expect(row.locator(".ct-progress__label")).to_have_text(
        "2 / 3 points · 1 of 2 steps done (1 skipped)"
    )
    open_page(page, f"{live}/labs/{LAB}/")
    expect(widget(page, "make-bucket")).to_have_attribute("data-status", "skipped")
    expect(widget(page, "make-bucket")).to_contain_text("at your last check")


def test_search_finds_a_lab(page, live):
    from playwright.sync_api import expect

    open_page(page, f"{live}/")
    page.locator("label.md-search__icon, .md-search__input").first.click()
    page.locator("input.md-search__input").press_sequentially("Web demo", delay=30)
    result = page.locator(".md-search-result__item").first
    expect(result).to_contain_text("Web demo")
    screenshot(page, "demo-search.png")


def test_widgets_work_after_instant_navigation(page, live):
    from playwright.sync_api import expect

    open_page(page, f"{live}/")
    page.evaluate("() => { window.stillTheSameDocument = true; }")
    page.locator(".md-tabs__link", has_text="Labs").click()
    page.locator(f'.ct-card[data-lab="{LAB}"] a').first.click()
    box = widget(page, "write-notes")
    box.locator(".ct-check__run").click()
    expect(box).to_have_attribute("data-status", "failed")
    assert page.evaluate("() => window.stillTheSameDocument === true"), "a full page load happened"


def test_no_request_leaves_this_machine(page, live, requests_seen):
    for path in ("/", f"/labs/{LAB}/", "/labs/", "/progress/", "/reference/sandbox-services/"):
        open_page(page, f"{live}{path}")
    page.locator("label.md-search__icon, .md-search__input").first.click()
    page.locator("input.md-search__input").press_sequentially("bucket", delay=30)
    page.wait_for_selector(".md-search-result__item")
    hosts = {urlparse(url).hostname for url in requests_seen}
    assert len(requests_seen) > 10
    assert hosts == {"127.0.0.1"}, f"requests left 127.0.0.1: {hosts}"


@pytest.fixture
def other_origin(tmp_path):
    """A second local web server (another origin) serving files from ``tmp_path``; its URL."""
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_page_on_another_origin_cannot_reset_the_lab(page, live, api, sandbox, other_origin):
    folder, origin = other_origin
    api.post(f"/api/labs/{LAB}/steps/make-bucket/skip", json={})
    target = f"{live}/api/labs/{LAB}/reset"
    (folder / "evil.html").write_text(
        "<html><body><script>"
        f"fetch({target!r}, {{method: 'POST', mode: 'no-cors', body: '{{}}'}});"
        "</script></body></html>"
    )
    with page.expect_response(target) as answer:
        page.goto(f"{origin}/evil.html")
    assert answer.value.status == 403
    names = [b["Name"] for b in sandbox.client("s3").list_buckets()["Buckets"]]
    assert "demo-data" in names


def test_lab_page_links_jupyterlab_when_it_runs(
    page, built_site, sandbox, workspace, content, monkeypatch
):
    from playwright.sync_api import expect

    from crosstrain.web.app import create_app
    from crosstrain.web.server import Background

    monkeypatch.setenv("CROSSTRAIN_CONTENT_DIR", str(content))
    lab = {"url": "http://127.0.0.1:9/lab?token=t", "base": "http://127.0.0.1:9/", "token": "t"}
    with Background(create_app(built_site, sandbox, workspace=workspace, jupyter=lab)) as url:
        open_page(page, f"{url}/labs/{LAB}/")
        link = page.locator(".ct-lab__jupyter")
        expect(link).to_be_visible()
        expect(link).to_have_attribute("href", f"http://127.0.0.1:9/lab/tree/{LAB}?token=t")
        with page.expect_popup():
            link.click()
    assert (workspace / LAB / "notes.txt").is_file()  # the folder exists before Jupyter opens it


COURSE_LAB = "00-sandbox-orientation"


def test_course_home_page_opens_offline(page, course_live, requests_seen):
    from playwright.sync_api import expect

    open_page(page, f"{course_live}/")
    expect(page.locator("[data-sandbox-status]")).to_contain_text("Sandbox running")
    screenshot(page, "home.png")
    assert {urlparse(url).hostname for url in requests_seen} == {"127.0.0.1"}


def test_course_lab_page_fails_then_passes_after_skip(page, course_live):
    from playwright.sync_api import expect

    open_page(page, f"{course_live}/labs/{COURSE_LAB}/")
    box = widget(page, "store-dataset")
    box.locator(".ct-check__run").click()
    expect(box).to_have_attribute("data-status", "failed", timeout=60_000)
    box.locator("details.ct-check__hint summary").first.click()
    screenshot(page, "lab-check-failed.png", around=box)
    box.locator(".ct-check__skip").click()
    expect(box).to_have_attribute("data-status", "skipped", timeout=60_000)
    expect(page.locator(".ct-lab .ct-progress__label")).to_contain_text("4 / 10 points")
    screenshot(page, "lab-check-passed.png", around=box)


HIDDEN_CODE = """() => [...document.querySelectorAll('.md-typeset pre > code')].filter(
  code => code.scrollWidth > code.clientWidth + 1
       || code.getBoundingClientRect().right > window.innerWidth
).map(code => code.textContent.split('\\n')[0])"""


@pytest.mark.parametrize("width", [1280, 400])
def test_wide_code_blocks_show_every_character(browser, course_live, width):
    # Lab 11's code runs to 100 columns: wider than the content column at both widths.
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        open_page(page, f"{course_live}/labs/11-first-model/")
        assert page.locator(".md-typeset pre > code").count() > 3
        assert page.evaluate(HIDDEN_CODE) == []  # nothing cut off, nothing behind a scrollbar
        if width == 400:
            screenshot(page, "lab-code-narrow.png", around=page.locator("pre").nth(2))
    finally:
        context.close()
