"""Fixtures for the web room: a small content root with one lab, its built site, a live server."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAB = "99-web-demo"

MANIFEST = f"""\
id: {LAB}
title: Web demo
summary: A two-step lab the web tests drive.
tracks: [cloud-for-data-scientists]
minutes: 5
level: intro
prerequisites: [00-sandbox-orientation]
services: [s3]
steps:
  - id: make-bucket
    title: Create the bucket demo-data
    points: 2
  - id: write-notes
    title: Write notes.txt in the workspace
    points: 1
"""

CHECKS = """\
from crosstrain.labs.checks import Fail, check


@check("make-bucket", points=2, hint="Create it with s3.create_bucket(Bucket='demo-data').")
def bucket(ctx):
    names = [b["Name"] for b in ctx.client("s3").list_buckets()["Buckets"]]
    if "demo-data" not in names:
        raise Fail(f"there is no bucket demo-data (buckets: {', '.join(names) or 'none'})")
    return "bucket demo-data exists"


@check("write-notes", points=1, hint="Write a line of text into notes.txt.")
def notes(ctx):
    path = ctx.workspace / "notes.txt"
    if not path.is_file() or not path.read_text().strip():
        raise Fail("notes.txt is missing or empty")
    return "notes.txt has text"
"""

SOLVE = """\
from crosstrain.labs.solves import solve, teardown


@solve("make-bucket")
def make_bucket(ctx):
    ctx.client("s3").create_bucket(Bucket="demo-data")


@solve("write-notes", files=["notes.txt"])
def write_notes(ctx):
    ctx.write("notes.txt", "the reference notes\\n")


@teardown
def remove(ctx):
    s3 = ctx.client("s3")
    if "demo-data" in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.delete_bucket(Bucket="demo-data")
"""

PAGE = """\
# Web demo

Make a bucket.

<!-- check: make-bucket -->

Write notes.

<!-- illustrative: how a marker is written -->
```markdown
<!-- check: not-a-step-inside-a-fence -->
```

<!-- check: write-notes -->
"""

CONFIG = f"""\
INHERIT: {REPO / "mkdocs.yml"}
docs_dir: docs
hooks:
  - {REPO / "src/crosstrain/site_build/hooks.py"}
nav:
  - Home: index.md
  - Labs:
      - labs/index.md
  - Progress: progress.md
"""


def make_content(root: Path, page: str = PAGE) -> Path:
    """A content root with one lab in its four places and a small mkdocs site."""
    for folder, name, text in [
        ("labs", "lab.yaml", MANIFEST),
        ("labs", "notes.txt", ""),
        ("graders", "checks.py", CHECKS),
        ("solutions", "solve.py", SOLVE),
    ]:
        path = root / folder / LAB / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    docs = root / "docs"
    (docs / "labs").mkdir(parents=True)
    (docs / "labs" / f"{LAB}.md").write_text(page)
    (docs / "index.md").write_text("# Demo home\n\n<div data-sandbox-status></div>\n")
    shutil.copy(REPO / "docs" / "progress.md", docs / "progress.md")
    shutil.copytree(REPO / "docs" / "assets", docs / "assets")
    (root / "mkdocs.yml").write_text(textwrap.dedent(CONFIG))
    return root


@pytest.fixture(scope="session")
def content_factory():
    """``make_content(root, page)``: a fresh copy of the demo content (page = the lab page)."""
    return make_content


@pytest.fixture(scope="session")
def content(tmp_path_factory) -> Path:
    return make_content(tmp_path_factory.mktemp("content"))


@pytest.fixture(scope="session")
def built_site(content, tmp_path_factory) -> Path:
    from crosstrain.web.site import build_site

    return build_site(tmp_path_factory.mktemp("site"), root=content)


@pytest.fixture(scope="session")
def repo_site(tmp_path_factory) -> Path:
    """The course site itself (this checkout's mkdocs.yml), built once."""
    from crosstrain.web.site import build_site

    return build_site(tmp_path_factory.mktemp("repo-site"), root=REPO)


@pytest.fixture
def workspace(tmp_path) -> Path:
    return tmp_path / "workspace"


@pytest.fixture
def live(built_site, content, workspace, sandbox, monkeypatch):
    """The application served on 127.0.0.1 (a free port) over the demo content; its base URL."""
    from crosstrain.web.app import create_app
    from crosstrain.web.server import Background

    monkeypatch.setenv("CROSSTRAIN_CONTENT_DIR", str(content))
    app = create_app(built_site, sandbox, workspace=workspace)
    with Background(app) as url:
        yield url


@pytest.fixture
def course_live(repo_site, workspace, sandbox, monkeypatch):
    """The course site and its real labs served on 127.0.0.1 (a free port); its base URL."""
    from crosstrain.web.app import create_app
    from crosstrain.web.server import Background

    monkeypatch.setenv("CROSSTRAIN_CONTENT_DIR", str(REPO))
    with Background(create_app(repo_site, sandbox, workspace=workspace)) as url:
        yield url


@pytest.fixture
def api(live):
    import httpx

    with httpx.Client(base_url=live, timeout=60) as client:
        yield client


CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium through playwright, one per session (playwright's sync API allows one)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM}; install it with `apt-get install chromium`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()
