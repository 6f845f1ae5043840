"""A whole class of lab 11 (the first-model lab) with forgers in it, graded in one batch
(issue #17): each forger gets its honest grade (the starter's 0) with a final status, the honest
students get theirs, and nothing outside a submission's folder changes.

The class is ``fixtures/forgery11.py``: fake results files, a rewritten grader and a
sitecustomize, a hunt for the course secret, a "model" whose unpickling runs code where the
checks score it, a search-and-spoil of other submissions' folders, and a daemon that outlives
its submission and spoils later ones.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import os
import uuid
from pathlib import Path

import psutil
import pytest

from crosstrain.grading.batch import grade
from crosstrain.grading.isolate import default_isolation
from crosstrain.grading.limits import Limits
from crosstrain.grading.store import GradeStore

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not default_isolation().jailed, reason="needs root on Linux"),
]
HERE = Path(__file__).parent
ROOT = HERE.parents[1]


def tree_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("forgery11", HERE / "fixtures/forgery11.py")
    fixtures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fixtures)
    token = uuid.uuid4().hex[:10]
    secret = f"class-secret-{token}"
    subs = tmp_path_factory.mktemp("class11-subs")
    expected = fixtures.build(subs, token)
    before = {"subs": tree_hash(subs), "graders": tree_hash(ROOT / "graders" / fixtures.LAB)}
    out = tmp_path_factory.mktemp("class11-out")
    summary = grade(
        subs,
        fixtures.LAB,
        out,
        jobs=2,
        secret=secret,
        progress=False,
        limits=Limits(timeout=240, memory_mb=1024),
    )
    store = GradeStore(out, summary.lab)
    try:
        results = {r.student: r for r in store.results()}
    finally:
        store.close()
    return {
        "token": token,
        "secret": secret,
        "subs": subs,
        "out": out,
        "expected": expected,
        "before": before,
        "results": results,
        "lab": fixtures.LAB,
    }


def test_every_student_gets_their_honest_total(batch):
    got = {s: r.points for s, r in batch["results"].items()}
    assert got == batch["expected"], {s: r.message for s, r in batch["results"].items()}


def test_every_status_is_final_and_honest_students_are_graded(batch):
    statuses = {s: str(r.status) for s, r in batch["results"].items()}
    assert "error" not in statuses.values(), statuses
    assert statuses["z-solution"] == statuses["z-solution-later"] == "graded", statuses


def test_the_gradebook_is_the_grade_store_not_what_a_forger_wrote(batch):
    with open(batch["out"] / "gradebook.csv") as fh:
        rows = {r["student"]: r["total"] for r in csv.DictReader(fh)}
    assert rows == {s: str(p) for s, p in batch["expected"].items()}


def test_nothing_outside_a_submissions_folder_changed(batch):
    assert tree_hash(batch["subs"]) == batch["before"]["subs"]  # submissions graded read-only
    assert tree_hash(ROOT / "graders" / batch["lab"]) == batch["before"]["graders"]
    leftovers = [p for root in (batch["out"], Path("/tmp")) for p in _find(root, "pwned-")]
    assert [p for p in leftovers if batch["token"] in p.name] == []


def _find(root: Path, prefix: str) -> list[Path]:
    """Paths under ``root`` whose name starts with ``prefix``; folders other tests remove while
    the walk runs (``/tmp`` is shared with them) are skipped, not an error."""
    found = []
    for folder, dirs, files in os.walk(root, onerror=lambda exc: None):
        found += [Path(folder, n) for n in dirs + files if n.startswith(prefix)]
    return found


def test_the_secret_reaches_no_learner_and_no_learner_facing_file(batch):
    for student, r in batch["results"].items():
        said = "".join(run.output + run.message for run in r.runs)
        assert batch["secret"] not in said, student
    for path in (batch["out"] / "feedback").iterdir():
        assert batch["secret"] not in path.read_text(), path


def test_the_pickle_that_runs_code_is_scored_as_no_model(batch):
    forged = batch["results"]["a-pickle-runs-code"]
    model_checks = [c for c in forged.checks if c.step == "model-artifact"]
    assert model_checks and all(c.points == 0 for c in model_checks)
    assert any("has no predict_proba" in c.message for c in model_checks), model_checks


def test_no_process_of_the_class_survives_it(batch):
    left = [
        p.info["pid"]
        for p in psutil.process_iter(["pid", "cmdline"])
        if batch["token"] in " ".join(p.info["cmdline"] or [])
    ]
    assert left == []


@pytest.mark.parametrize(
    ("student", "said"),
    [
        ("a-fake-results", "wrote "),  # it could write in its own folder, which is not a result
        ("a-patches-grader", "could not rewrite"),
        ("a-reads-secret", "secret hunt found:"),
        ("a-pickle-runs-code", "stored a pickle that runs code"),
        ("a-tampers-neighbours", "spoiled 0 other notebooks"),
        ("a-leaves-a-daemon", "daemon started"),
    ],
)
def test_every_attack_ran(batch, student, said):
    output = "".join(run.output for run in batch["results"][student].runs)
    assert said in output, output[-2000:]
