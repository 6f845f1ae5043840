"""CI mode: `crosstrain grade --ci` grades the repository here, exit 0/1 by a threshold."""

from __future__ import annotations

import base64
import json
import shutil
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner

from crosstrain.cli import main
from crosstrain.errors import CrosstrainError
from crosstrain.grading.ci import parse_threshold, snapshot
from crosstrain.labs.catalog import get_lab

LAB = get_lab("00")


def learner_repo(tmp_path, solved: bool):
    """A learner's repository: the starter kit, with the solution's work when ``solved``."""
    repo = tmp_path / "lab-00-ann"
    shutil.copytree(LAB.lab_dir, repo)
    (repo / "lab.yaml").unlink()
    (repo / ".git").mkdir()
    (repo / ".git/HEAD").write_text("ref: refs/heads/main\n")
    if solved:
        shutil.copy(LAB.solution_dir / "orientation.ipynb", repo / "orientation.ipynb")
        shutil.copytree(LAB.solution_dir / "function", repo / "function", dirs_exist_ok=True)
    return repo


def test_a_solved_repo_passes_and_writes_junit_gradescope_and_the_classroom_result(
    tmp_path, monkeypatch
):
    repo = learner_repo(tmp_path, solved=True)
    github_output = tmp_path / "github-output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(github_output))
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(main, ["grade", "--ci"])  # the lab is recognised
    assert result.exit_code == 0, result.output
    assert "PASS 00-sandbox-orientation: 10 / 10" in result.output
    out = repo / "crosstrain-results"
    assert json.loads((out / "gradescope.json").read_text())["score"] == 10
    suites = ET.parse(out / "junit.xml").getroot()
    assert suites.find("testsuite").get("failures") == "0"
    encoded = github_output.read_text().split("result=", 1)[1].strip()
    assert json.loads(base64.b64decode(encoded))["status"] == "pass"


def test_the_starter_fails_the_threshold_with_exit_1(tmp_path):
    repo = learner_repo(tmp_path, solved=False)
    out = tmp_path / "out"
    args = ["grade", "--ci", str(repo), "--lab", "00", "--out", str(out), "--threshold", "50%"]
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert (data["passed"], data["points"], data["threshold"]) == (False, 0, 5.0)


def test_a_repo_without_a_lab_notebook_is_one_line(tmp_path):
    (tmp_path / "repo").mkdir()
    result = CliRunner().invoke(main, ["grade", "--ci", str(tmp_path / "repo")])
    assert result.exit_code == 2
    assert "pass the lab with --lab" in result.output and "Traceback" not in result.output


def test_grade_without_ci_still_needs_lab_and_out(tmp_path):
    result = CliRunner().invoke(main, ["grade", str(tmp_path)])
    assert result.exit_code == 2 and "missing --lab, --out" in result.output


@pytest.mark.parametrize(("text", "points"), [("70%", 7.0), ("7", 7.0), ("100%", 10.0)])
def test_threshold_is_points_or_a_share(text, points):
    assert parse_threshold(text, 10) == points


@pytest.mark.parametrize("text", ["lots", "11", "-1"])
def test_a_bad_threshold_is_refused(text):
    with pytest.raises(CrosstrainError, match="threshold"):
        parse_threshold(text, 10)


def test_the_snapshot_leaves_out_git_and_the_output_folder(tmp_path):
    repo = learner_repo(tmp_path, solved=False)
    (repo / "crosstrain-results").mkdir()
    (repo / "crosstrain-results/grades.sqlite").write_text("x")
    snapshot(repo, tmp_path / "snap", repo / "crosstrain-results")
    assert (tmp_path / "snap/orientation.ipynb").is_file()
    assert not (tmp_path / "snap/.git").exists()
    assert not (tmp_path / "snap/crosstrain-results").exists()


def documented_workflows() -> dict:
    """The workflow files shown on the CI page, parsed."""
    import re
    from pathlib import Path

    import yaml

    page = Path(__file__).parents[2] / "docs/instructors/grading-in-ci.md"
    blocks = re.findall(r"```yaml\n(.*?)```", page.read_text(), re.S)
    return {"github": yaml.safe_load(blocks[0]), "gitlab": yaml.safe_load(blocks[1])}


def test_the_documented_workflows_run_crosstrain_grade_ci():
    steps = documented_workflows()["github"]["jobs"]["autograding"]["steps"]
    graded = next(s for s in steps if s.get("id") == "crosstrain")
    reporter = next(s for s in steps if "autograding-grading-reporter" in s.get("uses", ""))
    assert graded["run"].startswith("crosstrain grade --ci")
    assert reporter["with"]["runners"] == "crosstrain"
    assert "steps.crosstrain.outputs.result" in reporter["env"]["CROSSTRAIN_RESULTS"]
    gitlab = documented_workflows()["gitlab"]["grade"]
    assert "crosstrain grade --ci --threshold 70%" in gitlab["script"]
    assert gitlab["artifacts"]["reports"]["junit"] == "crosstrain-results/junit.xml"


def test_the_documented_command_grades_a_repo_offline(tmp_path, monkeypatch):
    import shlex

    steps = documented_workflows()["github"]["jobs"]["autograding"]["steps"]
    command = shlex.split(next(s for s in steps if s.get("id") == "crosstrain")["run"])
    monkeypatch.chdir(learner_repo(tmp_path, solved=True))
    result = CliRunner().invoke(main, command[1:])  # without the program name
    assert result.exit_code == 0, result.output
