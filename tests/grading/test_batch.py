"""A batch over hostile submissions: each graded as it deserves, and the batch finishes."""

from __future__ import annotations

import csv
import json
import re
import time

import psutil
import pytest

from crosstrain.grading.batch import find_submissions, grade
from crosstrain.grading.isolate import default_isolation
from crosstrain.grading.store import GradeStore

pytestmark = pytest.mark.slow
SECRET_VALUE = "grading-test-secret-7f3a"


def rows(batch) -> dict[str, dict]:
    with open(batch["out"] / "gradebook.csv") as fh:
        return {r["student"]: r for r in csv.DictReader(fh)}


def test_every_submission_has_a_row(hostile_batch):
    assert sorted(rows(hostile_batch)) == hostile_batch["names"]


def test_the_correct_submission_scores_full_points(hostile_batch):
    assert rows(hostile_batch)["control"]["total"] == "10"


@pytest.mark.parametrize(
    "student",
    [
        "reads-hidden-data",
        "edits-results",
        "monkeypatches-crosstrain",
        "prints-fake-pass",
        "loops-forever",
        "allocates-until-killed",
        "spawns-survivors",
        "writes-1gb-output",
        "zip-slip",
        "symlink-passwd",
    ],
)
def test_hostile_submission_scores_zero(hostile_batch, student):
    assert rows(hostile_batch)[student]["total"] == "0"


def test_loop_is_reported_as_timed_out(hostile_batch):
    assert "timed out after 20 s" in rows(hostile_batch)["loops-forever"]["message"]


def test_allocation_is_reported_as_out_of_memory(hostile_batch):
    assert "ran out of memory" in rows(hostile_batch)["allocates-until-killed"]["message"]


def test_zip_slip_is_rejected_with_a_reason(hostile_batch):
    row = rows(hostile_batch)["zip-slip"]
    assert row["status"] == "rejected" and "path traversal" in row["message"]


def test_symlink_to_passwd_is_rejected(hostile_batch):
    row = rows(hostile_batch)["symlink-passwd"]
    assert row["status"] == "rejected" and "/etc/passwd" in row["message"]


def test_escaped_file_was_not_written(hostile_batch):
    assert not (hostile_batch["subs"].parent / "escaped.py").exists()


def test_fake_pass_lines_do_not_change_the_report(hostile_batch):
    data = json.loads((hostile_batch["out"] / "results.json").read_text())
    fake = next(r for r in data["results"] if r["student"] == "prints-fake-pass")
    assert all(c["status"] != "passed" for c in fake["checks"])


def test_secret_appears_in_no_output(hostile_batch):
    for path in hostile_batch["out"].rglob("*"):
        if path.is_file() and path.suffix in (".json", ".csv", ".md", ".html", ".xml"):
            assert SECRET_VALUE not in path.read_text(errors="replace"), path


def learner_uids() -> range:
    """The uids jailed submissions run as: fresh ones from the run's range, or nobody's where
    bare uids fail."""
    user = default_isolation().user
    return range(user, 2**31) if isinstance(user, int) else range(65534, 65535)


def learner_output(batch, student: str) -> str:
    store = GradeStore(batch["out"], batch["summary"].lab)
    try:
        result = next(r.as_dict() for r in store.results() if r.student == student)
    finally:
        store.close()
    return "".join(run["output"] for run in result["runs"])


def test_survivor_processes_are_dead(hostile_batch):
    output = learner_output(hostile_batch, "spawns-survivors")
    pid = int(re.search(r"survivor pid (\d+)", output)[1])
    deadline = time.monotonic() + 5
    while psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie":
        assert time.monotonic() < deadline, "a child of the submission survived"
        time.sleep(0.05)


@pytest.mark.skipif(not default_isolation().jailed, reason="the jail needs root on Linux")
def test_jailed_code_sees_no_graders_solutions_or_grades(hostile_batch):
    output = learner_output(hostile_batch, "reads-hidden-data")
    hidden = r"(\[\]|FileNotFoundError)"  # an empty cover, or gone with a covered parent (/tmp)
    assert re.search(f"graders visible: {hidden}\n", output), output
    assert re.search(f"solutions visible: {hidden}\n", output), output
    assert re.search(f"git visible: {hidden}\n", output), output  # no history of the answers
    assert "grades visible: []" in output and "grader cmdline: hidden" in output
    assert int(re.search(r"uid: (\d+)", output)[1]) in learner_uids()


def test_results_files_written_by_learners_are_ignored(hostile_batch):
    data = json.loads((hostile_batch["out"] / "results.json").read_text())
    assert data["lab"] == "00-sandbox-orientation"


def test_rerun_skips_graded_students(hostile_batch):
    summary = grade(
        hostile_batch["subs"], "00", hostile_batch["out"], secret=SECRET_VALUE, progress=False
    )
    assert summary.graded == 0 and summary.skipped == len(hostile_batch["names"])


def test_duplicate_student_is_an_error(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice.zip").write_bytes(b"")
    from crosstrain.errors import CrosstrainError

    with pytest.raises(CrosstrainError, match="alice has two submissions"):
        find_submissions(tmp_path)


@pytest.mark.skipif(not default_isolation().jailed, reason="the jail needs root on Linux")
def test_deployed_code_runs_jailed_too(hostile_batch):
    """The sandbox runs the learner's Lambda handler: it is jailed like the notebook."""
    output = learner_output(hostile_batch, "lambda-peeks")
    seen = json.loads(re.search(r"lambda saw: (.*)", output)[1])
    assert seen["uid"] in learner_uids()  # the submission's own user, like its notebook
    assert seen["solutions"] in ([], "FileNotFoundError")
    assert seen["secret_keys"] == []  # the sandbox never got the grader's environment
