"""The exported nbgrader course works with nbgrader's own generate_assignment and autograde."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from crosstrain.errors import CrosstrainError
from crosstrain.grading.nbgrader_export import export_nbgrader
from crosstrain.labs.catalog import get_lab

LAB = "00-sandbox-orientation"
pytestmark = pytest.mark.slow


def nbgrader_api(course: Path):
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    config = Config()
    text = (course / "nbgrader_config.py").read_text()
    exec(compile(text, "nbgrader_config.py", "exec"), {"get_config": lambda: config})  # noqa: S102
    config.CourseDirectory.root = str(course)
    return NbGraderAPI(CourseDirectory(config=config), config=config)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """Export, release, submit the solution and the starter, autograde both, make feedback."""
    from nbgrader.api import Gradebook

    course = tmp_path_factory.mktemp("course")
    export_nbgrader(course, [LAB], force=True)
    patch = pytest.MonkeyPatch()
    # nbgrader runs `alembic` from PATH; the hidden cases read the secret at autograde time.
    patch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    patch.setenv("CROSSTRAIN_GRADING_SECRET", "nbgrader-test-secret")
    patch.chdir(course)
    try:
        api = nbgrader_api(course)
        generated = api.generate_assignment(LAB)
        assert generated["success"], generated["log"]
        release = course / "release" / LAB
        lab = get_lab(LAB)
        for student in ("solution", "starter"):
            target = course / "submitted" / student / LAB
            shutil.copytree(release, target)
            if student == "solution":
                shutil.copy2(course / "source" / LAB / "orientation.ipynb", target)
                shutil.copy2(lab.solution_dir / "function/handler.py", target / "function")
            graded = api.autograde(LAB, student)
            assert graded["success"], graded["log"]
        feedback = api.generate_feedback(LAB, "solution")
        assert feedback["success"], feedback["log"]
        with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
            scores = {s: gb.find_submission(LAB, s).score for s in ("solution", "starter")}
    finally:
        patch.undo()
    return {"dir": course, "scores": scores}


def test_solution_gets_full_points(course):
    assert course["scores"]["solution"] == get_lab(LAB).manifest.points


def test_starter_gets_zero(course):
    assert course["scores"]["starter"] == 0


def test_release_has_no_solution_and_no_hidden_part(course):
    text = (course["dir"] / "release" / LAB / "orientation.ipynb").read_text()
    assert "BEGIN SOLUTION" not in text and "CROSSTRAIN_NBGRADER_HIDDEN" not in text


def test_feedback_does_not_show_hidden_tests(course):
    html = (course["dir"] / "feedback" / "solution" / LAB / "orientation.html").read_text()
    assert "check_step" in html  # the visible part of the test cells is there
    assert "CROSSTRAIN_NBGRADER_HIDDEN" not in html and "HIDDEN TESTS" not in html


def test_export_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "x").write_text("keep me")
    with pytest.raises(CrosstrainError, match="not empty"):
        export_nbgrader(tmp_path, [LAB])
