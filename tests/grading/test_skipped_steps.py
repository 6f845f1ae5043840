"""A step the learner skipped (``crosstrain lab skip``) is graded as skipped, never as passed or
failed: the skip record travels in the submitted lab folder and grading reads it before any
learner code runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from crosstrain.grading.batch import grade
from crosstrain.grading.store import GradeStore
from crosstrain.labs import skips

pytestmark = pytest.mark.slow
LAB = "00-sandbox-orientation"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    subs = tmp_path_factory.mktemp("skip-subs")
    shutil.copytree(ROOT / "solutions" / LAB, subs / "solved")
    skips.record(subs / "solved", ["store-dataset"])
    shutil.copytree(ROOT / "labs" / LAB, subs / "starter")
    skips.record(subs / "starter", ["store-dataset"])
    out = tmp_path_factory.mktemp("skip-out")
    summary = grade(subs, LAB, out, jobs=2, progress=False)
    store = GradeStore(out, summary.lab)
    try:
        return {r.student: r for r in store.results()}
    finally:
        store.close()


def statuses(result, step: str) -> set[str]:
    return {str(c.status) for c in result.checks if c.step == step}


def test_a_skipped_step_whose_checks_pass_is_skipped_and_keeps_its_points(graded):
    solved = graded["solved"]
    assert statuses(solved, "store-dataset") == {"skipped"}
    assert solved.steps["store-dataset"] == 4  # skipped_steps_score defaults to true
    assert "skipped by the learner: store-dataset" in solved.message


def test_a_skipped_step_whose_checks_fail_is_skipped_not_failed(graded):
    starter = graded["starter"]
    assert statuses(starter, "store-dataset") == {"skipped"}
    assert starter.steps["store-dataset"] == 0


def test_steps_not_skipped_are_graded_as_usual(graded):
    assert statuses(graded["solved"], "dynamodb-item") == {"passed"}
    assert statuses(graded["starter"], "dynamodb-item") == {"failed"}
