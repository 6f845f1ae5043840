"""Site build and lab page load, against baselines measured in the same run.

Prints medians over several runs:

- (a) ``mkdocs build --strict`` of the whole course site, in a fresh process as CI runs it;
  (b) the same for an empty Material site (one page, same theme): the fixed cost of mkdocs and
  Material. Target: (a) <= 5 s.
- (c) a lab page loaded in chromium from ``crosstrain up``'s application (sandbox attached) until
  its widgets are live (``body[data-crosstrain-ready]``: progress fetched, buttons wired);
  (d) the empty site's page, served by plain static files, until its ``load`` event.
  Target: (c) <= 1 s.

    .venv/bin/python benchmarks/site.py [--runs 5] [--lab 00-sandbox-orientation]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
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
EMPTY_CONFIG = "site_name: empty\ntheme:\n  name: material\n  font: false\n"


def empty_site(folder: Path) -> Path:
    (folder / "docs").mkdir(parents=True)
    (folder / "docs" / "index.md").write_text("# Empty\n\nOne page.\n")
    (folder / "mkdocs.yml").write_text(EMPTY_CONFIG)
    return folder / "mkdocs.yml"


def time_build(config: Path, site_dir: Path) -> float:
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f", str(config)]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    began = time.perf_counter()
    subprocess.run([*cmd, "-d", str(site_dir)], check=True, env=env, cwd=config.parent)
    return time.perf_counter() - began


def time_load(browser, url: str, ready: str) -> float:
    """Seconds from navigation to ``ready`` (a selector, or ``load``) in a fresh context."""
    context = browser.new_context()
    page = context.new_page()
    began = time.perf_counter()
    page.goto(url, wait_until="load")
    if ready != "load":
        page.wait_for_selector(ready, state="attached")
    elapsed = time.perf_counter() - began
    context.close()
    return elapsed


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--lab", default="00-sandbox-orientation")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    from crosstrain import sandbox
    from crosstrain.web.app import create_app
    from crosstrain.web.server import Background

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        empty_config = empty_site(tmp / "empty")
        course, empty = [], []
        for i in range(args.runs):
            course.append(time_build(REPO / "mkdocs.yml", tmp / f"course-{i}"))
            empty.append(time_build(empty_config, tmp / f"empty-{i}"))
        a, b = median(course), median(empty)
        print(f"(a) course site strict build     {a:6.2f} s   (target <= 5 s)")
        print(f"(b) empty Material site build    {b:6.2f} s")
        print(f"    ratio (a)/(b)                {a / b:6.2f}x  (pages: course vs one)")

        os.environ["CROSSTRAIN_CONTENT_DIR"] = str(REPO)
        static = Starlette(routes=[Mount("/", StaticFiles(directory=tmp / "empty-0", html=True))])
        app_args = {"workspace": tmp / "workspace"}
        with (
            sandbox.start() as sb,
            Background(create_app(tmp / "course-0", sb, **app_args)) as course_url,
            Background(static) as empty_url,
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            lab_url = f"{course_url}/labs/{args.lab}/"
            time_load(browser, lab_url, "body[data-crosstrain-ready]")  # warm the server up
            loads = [
                time_load(browser, lab_url, "body[data-crosstrain-ready]") for _ in range(args.runs)
            ]
            bases = [time_load(browser, f"{empty_url}/", "load") for _ in range(args.runs)]
            browser.close()
        c, d = median(loads), median(bases)
        print(f"(c) lab page load, widgets live  {c:6.3f} s   (target <= 1 s)")
        print(f"(d) empty static page load       {d:6.3f} s")
        print(f"    ratio (c)/(d)                {c / d:6.2f}x")


if __name__ == "__main__":
    main()
