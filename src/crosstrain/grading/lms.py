"""Grades in the LMSs' own import formats, written next to the gradebook under ``lms/``.

- ``lms/canvas.csv``: Canvas's gradebook import layout — ``Student, ID, SIS User ID,
  SIS Login ID, Section`` then one column for the assignment, and a ``Points Possible`` row.
  Canvas matches rows on ``ID`` or the SIS columns: pass a roster (Canvas's own gradebook
  export) to fill them; without one, the student id (the submission's name) is the
  ``SIS Login ID``.
- ``lms/moodle.csv``: for Moodle's *Import → CSV file*: ``ID number`` (map it to the user field
  "ID number"), the grade column and a ``Feedback`` column.
- ``lms/github-classroom.csv``: GitHub Classroom's grades layout (``assignment_name`` ...
  ``points_awarded, points_available``), and ``lms/github-classroom/<student>.json`` per
  repository in the runner-result shape the Classroom autograding reporter reads (``version``,
  ``status`` pass/fail/error, ``max_score``, ``tests`` with ``name/status/message/score``).

A grade that is not final (status ``error``) is left blank, so an import never overwrites a
grade with a zero the learner did not earn.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING

from crosstrain.errors import CrosstrainError
from crosstrain.grading.outfiles import atomic_write, safe_name

if TYPE_CHECKING:
    from crosstrain.grading.results import GradeResult

CANVAS_IDS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CLASSROOM = [
    "assignment_name",
    "assignment_url",
    "starter_code_url",
    "github_username",
    "roster_identifier",
    "student_repository_name",
    "student_repository_url",
    "submission_timestamp",
    "points_awarded",
    "points_available",
]


def _csv(rows: list[list]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def _cell(text: str) -> str:
    """Learner-chosen text a spreadsheet will not run as a formula."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _points(r: GradeResult) -> str:
    return str(r.points) if r.final else ""


def read_roster(path: str | Path) -> dict[str, dict[str, str]]:
    """Canvas's gradebook export as a roster: each student's id columns, keyed by every id
    that may name a submission (SIS Login ID, SIS User ID, ID)."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise CrosstrainError(f"cannot read the roster {path}: {exc.strerror}") from None
    if not rows or not set(CANVAS_IDS[:4]) <= set(rows[0]):
        raise CrosstrainError(
            f"{path} is not a Canvas gradebook export (it needs the columns "
            f"{', '.join(CANVAS_IDS[:4])}); export it from Canvas: Grades → Export"
        )
    roster: dict[str, dict[str, str]] = {}
    for row in rows:
        if row["Student"].strip() == "Points Possible":
            continue
        ids = {k: (row.get(k) or "").strip() for k in CANVAS_IDS}
        for key in ("SIS Login ID", "SIS User ID", "ID"):
            if ids[key]:
                roster.setdefault(ids[key], ids)
    return roster


def canvas_csv(lab, results: list[GradeResult], roster: dict | None = None) -> str:
    """Canvas's gradebook import CSV: one assignment column named after the lab."""
    column = f"{lab.slug} {lab.manifest.title}"
    rows = [[*CANVAS_IDS, column], ["    Points Possible", "", "", "", "", lab.manifest.points]]
    for r in results:
        ids = (roster or {}).get(r.student) or {
            "Student": r.student,
            "ID": "",
            "SIS User ID": "",
            "SIS Login ID": r.student,
            "Section": "",
        }
        rows.append([*(_cell(ids[k]) for k in CANVAS_IDS), _points(r)])
    return _csv(rows)


def moodle_csv(lab, results: list[GradeResult]) -> str:
    """Moodle's CSV grade import: ID number, the grade, the feedback (one line)."""
    rows = [["ID number", f"{lab.slug} {lab.manifest.title}", "Feedback"]]
    for r in results:
        rows.append([_cell(r.student), _points(r), _cell(r.message)])
    return _csv(rows)


def classroom_csv(lab, results: list[GradeResult]) -> str:
    """GitHub Classroom's grades layout, one row per student repository."""
    rows = [CLASSROOM]
    for r in results:
        rows.append(
            [
                lab.slug,
                "",
                "",
                _cell(r.student),
                "",
                f"{lab.slug}-{_cell(r.student)}",
                "",
                r.graded_at,
                _points(r),
                r.max_points,
            ]
        )
    return _csv(rows)


def classroom_result(r: GradeResult) -> dict:
    """One repository's result as the Classroom autograding reporter reads a runner's."""
    if not r.checks:
        tests = [{"name": "submission", "status": "error", "message": r.message, "score": 0}]
    else:
        tests = [
            {
                "name": f"{c.step}: {c.check}",
                "status": "pass" if c.status == "passed" else "fail",
                "message": c.public_message
                + (f"\nHint: {c.hint}" if c.status != "passed" and c.hint else ""),
                "score": c.points,
                "execution_time": f"{c.seconds:.2f}s",
            }
            for c in r.checks
        ]
    status = "error" if not r.final or not r.checks else "pass"
    if status == "pass" and any(t["status"] != "pass" for t in tests):
        status = "fail"
    return {"version": 1, "status": status, "max_score": r.max_points, "tests": tests}


def write_lms(out: Path, lab, results: list[GradeResult], roster: dict | None = None) -> list[str]:
    """Write every LMS file; return their paths relative to ``out``."""
    written = {
        "lms/canvas.csv": canvas_csv(lab, results, roster),
        "lms/moodle.csv": moodle_csv(lab, results),
        "lms/github-classroom.csv": classroom_csv(lab, results),
    }
    for r in results:
        written[f"lms/github-classroom/{safe_name(r.student)}.json"] = (
            json.dumps(classroom_result(r), indent=2) + "\n"
        )
    for rel, text in written.items():
        atomic_write(out / rel, text)
    return list(written)
