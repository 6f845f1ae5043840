"""Skipped steps are marked "skipped" (never silently "passed"); whether they score is a setting."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from crosstrain.cli import main

DEMO = "00-sandbox-orientation"


@pytest.fixture
def run(content, workspace_root, connected, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")

    def invoke(*args):
        return CliRunner().invoke(main, list(args))

    return invoke


def test_a_skipped_step_is_marked_skipped_and_scores_by_default(run):
    run("lab", "start", DEMO)
    run("lab", "skip", DEMO, "store-dataset")
    report = json.loads(run("lab", "check", DEMO, "store-dataset", "--json").output)
    assert {r["status"] for r in report["results"]} == {"skipped"}
    assert report["passed"] and report["points"] == 4
    (row,) = json.loads(run("lab", "status", "--json").output)
    assert row["steps_skipped"] == ["store-dataset"] and row["steps_done"] == ["store-dataset"]


def test_an_instructor_can_make_skipped_steps_score_nothing(run, monkeypatch):
    monkeypatch.setenv("CROSSTRAIN_SKIPPED_STEPS_SCORE", "false")
    run("lab", "start", DEMO)
    run("lab", "skip", DEMO, "store-dataset")
    result = run("lab", "check", DEMO, "store-dataset", "--json")
    assert result.exit_code == 0  # a skipped step still passes: the next steps can go on
    report = json.loads(result.output)
    assert report["points"] == 0
    (row,) = json.loads(run("lab", "status", "--json").output)
    assert row["steps_done"] == ["store-dataset"] and row["points"] == 0


def test_the_terminal_says_skipped(run):
    run("lab", "start", DEMO)
    run("lab", "skip", DEMO, "store-dataset")
    output = run("lab", "check", DEMO, "store-dataset").output
    assert "skipped" in output and "the reference solution ran" in output


def test_a_reset_forgets_the_skips(run):
    run("lab", "start", DEMO)
    run("lab", "skip", DEMO, "store-dataset")
    run("lab", "reset", DEMO)
    (row,) = json.loads(run("lab", "status", "--json").output)
    assert row["steps_skipped"] == []


def test_a_skip_is_recorded_in_the_lab_folder_a_learner_submits(run, workspace_root):
    from crosstrain.labs import skips

    run("lab", "start", DEMO)
    run("lab", "skip", DEMO, "dynamodb-item")
    assert skips.read(workspace_root / DEMO) == {"store-dataset", "dynamodb-item"}
