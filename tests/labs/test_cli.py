"""The lab commands as a new learner runs them: list, start, check, skip, status, reset."""

import json

import pytest
from click.testing import CliRunner

from crosstrain.cli import main

DEMO = "00-sandbox-orientation"


@pytest.fixture
def run(content, workspace_root, connected, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # rich wraps tables to the terminal width

    def invoke(*args, input=None):
        return CliRunner().invoke(main, list(args), input=input)

    return invoke


def test_list_shows_the_demo_lab(run):
    result = run("lab", "list", "--json")
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.output)
    assert (entry["id"], entry["points"], entry["max_points"]) == (DEMO, 0, 10)


def test_start_copies_the_starter_and_prints_the_next_step(run, workspace_root):
    result = run("lab", "start", DEMO)
    assert result.exit_code == 0, result.output
    assert (workspace_root / DEMO / "orientation.ipynb").is_file()
    assert f"crosstrain lab check {DEMO} store-dataset" in result.output


def test_start_says_how_to_start_a_missing_sandbox(content, workspace_root, monkeypatch):
    import crosstrain.sandbox
    from crosstrain.sandbox import SandboxError

    def no_sandbox(port=None):
        raise SandboxError("no sandbox is running on port 4566; start one with `crosstrain up`")

    monkeypatch.setattr(crosstrain.sandbox, "connect", no_sandbox)
    result = CliRunner().invoke(main, ["lab", "start", DEMO])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1].startswith("error: no sandbox is running")


def test_unknown_lab_is_one_line_with_a_suggestion(run):
    result = run("lab", "start", "00-sandbox")
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"error: unknown lab '00-sandbox'; did you mean: {DEMO}? (see `crosstrain lab list`)"
    )


def test_unknown_step_is_one_line_with_a_suggestion(run):
    run("lab", "start", DEMO)
    result = run("lab", "check", DEMO, "deploy")
    assert result.exit_code == 2
    assert "did you mean: deploy-function?" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_check_fails_with_hints_before_any_work(run):
    run("lab", "start", DEMO)
    result = run("lab", "check", DEMO, "--json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["points"] == 0
    assert all(r["hint"] for r in report["results"])


def test_check_prints_a_table(run):
    run("lab", "start", DEMO)
    result = run("lab", "check", DEMO, "store-dataset")
    assert "there is no bucket orientation-data" in result.output
    assert "hint" in result.output


def test_check_writes_junit(run, tmp_path):
    run("lab", "start", DEMO)
    junit = tmp_path / "out.xml"
    run("lab", "check", DEMO, "--junit", str(junit))
    assert "<testsuite" in junit.read_text()


def test_skip_then_check_passes_the_skipped_steps(run):
    run("lab", "start", DEMO)
    result = run("lab", "skip", DEMO, "dynamodb-item")
    assert result.exit_code == 0, result.output
    assert "store-dataset, dynamodb-item" in result.output
    report = json.loads(run("lab", "check", DEMO, "--json").output)
    assert report["points"] == 7


def test_skip_asks_before_replacing_changed_files(run, workspace_root):
    run("lab", "start", DEMO)
    handler = workspace_root / DEMO / "function" / "handler.py"
    handler.write_text("def handler(event, context):\n    return {}\n")
    declined = run("lab", "skip", DEMO, "deploy-function", input="n\n")
    assert declined.exit_code == 2
    assert "function/handler.py" in declined.output
    assert handler.read_text().endswith("return {}\n")
    accepted = run("lab", "skip", DEMO, "deploy-function", "--yes")
    assert accepted.exit_code == 0, accepted.output
    assert "previous files are in" in accepted.output


def test_status_shows_progress(run):
    assert "No lab started yet" in run("lab", "status").output
    run("lab", "start", DEMO)
    run("lab", "skip", DEMO, "store-dataset")
    run("lab", "check", DEMO)
    (row,) = json.loads(run("lab", "status", "--json").output)
    assert (row["lab"], row["points"], row["steps_done"]) == (DEMO, 4, ["store-dataset"])


def test_reset_removes_resources_and_restores_the_starter(run, workspace_root, connected):
    run("lab", "start", DEMO)
    run("lab", "skip", DEMO, "deploy-function")
    result = run("lab", "reset", DEMO)
    assert result.exit_code == 0, result.output
    assert "previous files are in" in result.output
    assert connected.client("s3").list_buckets()["Buckets"] == []
    assert connected.client("lambda").list_functions()["Functions"] == []
    handler = (workspace_root / DEMO / "function" / "handler.py").read_text()
    assert "NotImplementedError" in handler
    (row,) = json.loads(run("lab", "status", "--json").output)
    assert row["points"] == 0


def test_workspace_dir_option(run, tmp_path):
    other = tmp_path / "elsewhere"
    assert run("lab", "start", DEMO, "--dir", str(other)).exit_code == 0
    assert (other / DEMO / "orientation.ipynb").is_file()
