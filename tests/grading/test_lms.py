"""LMS exports in the LMSs' published layouts: Canvas, Moodle, GitHub Classroom."""

from __future__ import annotations

import csv
import io
import json

import pytest

from crosstrain.errors import CrosstrainError
from crosstrain.grading.lms import (
    canvas_csv,
    classroom_csv,
    classroom_result,
    moodle_csv,
    read_roster,
    write_lms,
)
from crosstrain.grading.results import GradeResult
from crosstrain.labs.catalog import get_lab

LAB = get_lab("00")
# Canvas's gradebook export/import: five id columns, assignments, then a Points Possible row.
CANVAS_HEADER = '"Student","ID","SIS User ID","SIS Login ID","Section"'
# GitHub Classroom's "Download grades" CSV (and GET /assignments/{id}/grades fields).
CLASSROOM_HEADER = (
    "assignment_name,assignment_url,starter_code_url,github_username,roster_identifier,"
    "student_repository_name,student_repository_url,submission_timestamp,points_awarded,"
    "points_available"
)


def grade(student, status="graded", points=7, checks=None) -> GradeResult:
    return GradeResult.from_dict(
        {
            "student": student,
            "lab": LAB.slug,
            "status": status,
            "message": "all code ran" if status == "graded" else "grading failed: boom",
            "points": points,
            "max_points": 10,
            "checks": checks or [],
            "fingerprint": "x",
            "graded_at": "2026-12-07T10:00:00+00:00",
        }
    )


def check(name, passed, points):
    return {
        "lab": LAB.slug,
        "step": "store-dataset",
        "check": name,
        "status": "passed" if passed else "failed",
        "points": points,
        "max_points": 2,
        "message": "m",
        "public_message": "saw the bucket" if passed else "no bucket",
        "hint": "" if passed else "create it",
        "seconds": 0.5,
    }


def rows(text):
    return list(csv.reader(io.StringIO(text)))


def test_canvas_csv_has_the_id_columns_and_points_possible():
    text = canvas_csv(LAB, [grade("ann")])
    header, possible, ann = rows(text)
    quoted = ",".join(f'"{c}"' for c in header[:5])
    assert quoted == CANVAS_HEADER and len(header) == 6 and LAB.slug in header[5]
    assert possible[0].strip() == "Points Possible" and possible[5] == "10"
    assert ann[3] == "ann" and ann[5] == "7"


def test_canvas_roster_fills_canvas_ids(tmp_path):
    export = tmp_path / "export.csv"
    export.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,Homework 1 (901234)\n"
        '"    Points Possible",,,,,10.0\n'
        '"Lovelace, Ada",4001,30000001,ann,SEC-001,9.0\n'
    )
    ann = rows(canvas_csv(LAB, [grade("ann")], read_roster(export)))[2]
    assert ann == ["Lovelace, Ada", "4001", "30000001", "ann", "SEC-001", "7"]


def test_a_roster_that_is_not_a_canvas_export_is_refused(tmp_path):
    bad = tmp_path / "roster.csv"
    bad.write_text("name,email\nann,a@x\n")
    with pytest.raises(CrosstrainError, match="not a Canvas gradebook export"):
        read_roster(bad)


def test_a_grade_that_is_not_final_is_left_blank():
    assert rows(canvas_csv(LAB, [grade("ann", status="error", points=0)]))[2][5] == ""
    assert rows(moodle_csv(LAB, [grade("ann", status="error", points=0)]))[1][1] == ""


def test_moodle_csv_has_id_number_grade_and_feedback():
    header, ann = rows(moodle_csv(LAB, [grade("ann")]))
    assert header[0] == "ID number" and header[2] == "Feedback"
    assert ann == ["ann", "7", "all code ran"]


def test_classroom_csv_has_the_published_columns():
    header, ann = rows(classroom_csv(LAB, [grade("ann")]))
    assert ",".join(header) == CLASSROOM_HEADER
    row = dict(zip(header, ann, strict=True))
    assert (row["github_username"], row["points_awarded"], row["points_available"]) == (
        "ann",
        "7",
        "10",
    )


def test_classroom_repo_result_is_what_the_reporter_reads():
    r = grade("ann", points=2, checks=[check("a", True, 2), check("b", False, 0)])
    data = classroom_result(r)
    assert (data["version"], data["status"], data["max_score"]) == (1, "fail", 10)
    assert [t["status"] for t in data["tests"]] == ["pass", "fail"]
    assert sum(t["score"] for t in data["tests"]) == 2
    assert "create it" in data["tests"][1]["message"]


def test_write_lms_writes_one_repo_result_per_student(tmp_path):
    files = write_lms(tmp_path, LAB, [grade("ann"), grade("ben")])
    assert "lms/github-classroom/ben.json" in files
    assert json.loads((tmp_path / "lms/github-classroom/ann.json").read_text())["version"] == 1


def test_student_text_cannot_become_a_formula():
    assert rows(moodle_csv(LAB, [grade("=cmd")]))[1][0] == "'=cmd"
