"""Issue #17's forgeries, tried for real: each test fails on the grader before the fix.

Two small batches of lab 00 (``fixtures/forgery.py``): a pair graded one after the other, where
a daemon left by the first hunts for the second; and cases graded side by side that hold memory
the old limits did not count, fork from a Lambda handler, or look for a neighbour's sandbox.
"""

from __future__ import annotations

import importlib.util
import re
import uuid
from pathlib import Path

import psutil
import pytest

from crosstrain.grading import netns, unit
from crosstrain.grading.batch import grade
from crosstrain.grading.isolate import default_isolation
from crosstrain.grading.limits import Limits
from crosstrain.grading.store import GradeStore

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not default_isolation().jailed, reason="needs root on Linux"),
]
HERE = Path(__file__).parent
LIMITS = Limits(timeout=60, memory_mb=600, sandbox_mb=400, max_tasks=300, disk_mb=256)


def _fixtures():
    spec = importlib.util.spec_from_file_location("forgery", HERE / "fixtures/forgery.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _grade(tmp_path_factory, build, jobs: int) -> dict:
    forgery = _fixtures()
    token = uuid.uuid4().hex[:10]
    subs = tmp_path_factory.mktemp("forgery-subs")
    build(forgery, subs, token)
    out = tmp_path_factory.mktemp("forgery-out")
    summary = grade(subs, forgery.LAB, out, jobs=jobs, progress=False, limits=LIMITS)
    store = GradeStore(out, summary.lab)
    try:
        results = {r.student: r for r in store.results()}
    finally:
        store.close()
    return {"token": token, "summary": summary, "results": results}


@pytest.fixture(scope="module")
def sequential(tmp_path_factory):
    return _grade(tmp_path_factory, lambda f, d, t: f.build_sequential(d, t), jobs=1)


@pytest.fixture(scope="module")
def concurrent(tmp_path_factory):
    return _grade(tmp_path_factory, lambda f, d, t: f.build_concurrent(d, t), jobs=2)


def output(batch, student: str) -> str:
    return "".join(run.output for run in batch["results"][student].runs)


def test_a_daemon_left_by_one_submission_cannot_reach_the_next(sequential):
    seen = output(sequential, "b-victim")
    assert "listing:" in seen and "buckets:" in seen, seen
    assert f"pwned-{sequential['token']}" not in seen  # neither its folder nor its sandbox
    assert "lambda said" in output(sequential, "a-daemon")


def test_nothing_of_a_submission_survives_it(sequential):
    token = sequential["token"]
    hunters = [
        p for p in psutil.process_iter(["cmdline"]) if token in " ".join(p.info["cmdline"] or [])
    ]
    assert hunters == []


@pytest.mark.skipif(unit.describe().startswith("no cgroups"), reason="no cgroups here")
def test_memory_that_is_never_mapped_counts(concurrent):
    run = concurrent["results"]["memfd-hog"].runs[0]
    assert run.status == "memory" and "memory" in run.message, run
    assert "memfd held" not in run.output


@pytest.mark.skipif(unit.describe().startswith("no cgroups"), reason="no cgroups here")
def test_a_deployed_handler_is_inside_the_memory_limit(concurrent):
    said = re.search(r"lambda said: (.*)", output(concurrent, "lambda-hog"))
    assert said is None or "held_mb" not in said[1], said[1]


@pytest.mark.skipif(unit.describe().startswith("no cgroups"), reason="no cgroups here")
def test_a_deployed_handler_is_inside_the_process_limit(concurrent):
    said = re.search(r"lambda said: (.*)", output(concurrent, "lambda-forks"))
    assert said is None or '"forked": 400' not in said[1], said[1]


@pytest.mark.skipif(not netns.available(), reason="no network namespaces here")
def test_a_submission_finds_no_other_sandbox_on_its_loopback(concurrent):
    seen = output(concurrent, "port-scanner")
    assert "foreign sandboxes: []" in seen, seen


def test_every_forgery_ends_in_a_final_grade(sequential, concurrent):
    for batch in (sequential, concurrent):
        statuses = {s: str(r.status) for s, r in batch["results"].items()}
        assert "error" not in statuses.values(), statuses
