"""Grading checks: hidden cases count for points but are never shown to the learner."""

from __future__ import annotations

import io
import zipfile

import pytest
from support import lambda_role

from crosstrain.grading.checking import HIDDEN_FAILED, run_lab_checks
from crosstrain.labs.catalog import get_lab
from crosstrain.labs.checks import load_checks

# Right for the two public cases only: a learner who hard-codes the examples.
MEMORISED = """
def handler(event, context):
    known = {(19.99, 7): 139.93, (49, 0): 0}
    return {"revenue": known.get((event["plan_price"], event["months"]), 1.0)}
"""


def deploy(sandbox, code: str) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", code)
    sandbox.client("lambda").create_function(
        FunctionName="revenue",
        Runtime="python3.12",
        Role=lambda_role(sandbox, "r"),
        Handler="handler.handler",
        Code={"ZipFile": buffer.getvalue()},
        Timeout=10,
        MemorySize=128,
    )


@pytest.fixture
def answers_check(sandbox, tmp_path):
    lab = get_lab("00-sandbox-orientation")
    specs = [s for s in load_checks(lab) if s.name == "function_answers"]
    deploy(sandbox, MEMORISED)

    def run(secret):
        return run_lab_checks(lab, specs, sandbox, tmp_path, secret)[0].as_dict()

    return run


def test_memorised_answers_pass_without_hidden_cases(answers_check):
    assert answers_check(None)["status"] == "passed"


def test_memorised_answers_fail_the_hidden_cases(answers_check):
    result = answers_check("course-secret")
    assert result["status"] == "failed" and result["hidden"]


def test_learner_sees_that_hidden_cases_failed_but_not_which(answers_check):
    result = answers_check("course-secret")
    assert result["public_message"] == HIDDEN_FAILED
    assert "plan_price" in result["message"]  # the instructor's copy says which case


def test_reading_the_secret_counts_as_using_hidden_data():
    from crosstrain.grading.checking import TrackedHidden

    hidden = TrackedHidden(b"s", "00-x")
    assert not hidden.drawn
    hidden.secret.decode()
    assert hidden.drawn


CORRECT = """
def handler(event, context):
    return {"revenue": round(event["plan_price"] * event["months"], 2)}
"""


def test_a_passing_hidden_check_says_what_it_measured(sandbox, tmp_path):
    from crosstrain.grading.checking import HIDDEN_PASSED

    lab = get_lab("00-sandbox-orientation")
    specs = [s for s in load_checks(lab) if s.name == "function_answers"]
    deploy(sandbox, CORRECT)
    result = run_lab_checks(lab, specs, sandbox, tmp_path, "course-secret")[0]
    public = run_lab_checks(lab, specs, sandbox, tmp_path, None)[0]
    assert result.passed and result.hidden
    assert result.public_message == f"{public.message}; {HIDDEN_PASSED}"


def test_a_public_failure_has_no_case_prefix(sandbox, tmp_path):
    lab = get_lab("00-sandbox-orientation")
    specs = [s for s in load_checks(lab) if s.name == "function_answers"]
    deploy(sandbox, "def handler(event, context):\n    return {'revenue': -1}\n")
    result = run_lab_checks(lab, specs, sandbox, tmp_path, "course-secret")[0]
    assert not result.passed and not result.public_message.startswith("public case")
