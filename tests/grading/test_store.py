"""The grade store keeps finished grades and refuses another lab's folder."""

from __future__ import annotations

import pytest

from crosstrain.errors import CrosstrainError
from crosstrain.grading.results import GradeResult, GradeStatus
from crosstrain.grading.store import GradeStore


def row(student, status="graded", points=3):
    return GradeResult(
        student=student,
        lab="00-x",
        status=GradeStatus(status),
        message="",
        points=points,
        max_points=10,
        fingerprint=f"fp-{student}",
        graded_at="2026-11-27T00:00:00+00:00",
    )


def test_saved_rows_survive_reopening(tmp_path):
    store = GradeStore(tmp_path, "00-x")
    store.save(row("alice"))
    store.close()
    assert [r.student for r in GradeStore(tmp_path, "00-x").results()] == ["alice"]


def test_error_rows_are_retried(tmp_path):
    store = GradeStore(tmp_path, "00-x")
    store.save(row("alice"))
    store.save(row("bob", status="error"))
    assert store.done() == {"alice": "fp-alice"}


def test_regrading_replaces_the_row(tmp_path):
    store = GradeStore(tmp_path, "00-x")
    store.save(row("alice", points=1))
    store.save(row("alice", points=9))
    assert [r.points for r in store.results()] == [9]


def test_another_labs_folder_is_refused(tmp_path):
    GradeStore(tmp_path, "00-x").close()
    with pytest.raises(CrosstrainError, match="holds grades of lab 00-x"):
        GradeStore(tmp_path, "01-y")
