"""The skip record a lab's workspace carries into its submission (``labs/skips.py``)."""

from __future__ import annotations

from crosstrain.labs import skips
from crosstrain.labs.results import CheckResult, Status


def result(step: str, status: Status, points: int) -> CheckResult:
    return CheckResult("lab", step, f"{step}-check", status, points, 4, "saw it")


def test_record_and_read_round_trip_and_accumulate(tmp_path):
    skips.record(tmp_path, ["a"])
    skips.record(tmp_path, ["b", "a"])
    assert skips.read(tmp_path) == {"a", "b"}


def test_a_missing_or_garbled_record_skips_nothing(tmp_path):
    assert skips.read(tmp_path) == set()
    (tmp_path / skips.MARKER).parent.mkdir()
    (tmp_path / skips.MARKER).write_text("{not json")
    assert skips.read(tmp_path) == set()
    (tmp_path / skips.MARKER).write_text('{"skipped": "a"}')
    assert skips.read(tmp_path) == set()


def test_checks_of_a_skipped_step_are_skipped_whatever_they_found():
    found = [result("a", Status.PASSED, 4), result("a", Status.FAILED, 0)]
    marked = skips.mark(found, {"a"}, score=True)
    assert [r.status for r in marked] == [Status.SKIPPED, Status.SKIPPED]
    assert [r.points for r in marked] == [4, 0]
    assert all(r.message.startswith(skips.SKIPPED_MESSAGE) for r in marked)


def test_checks_of_other_steps_are_untouched():
    found = [result("b", Status.PASSED, 4), result("c", Status.FAILED, 0)]
    assert skips.mark(found, {"a"}, score=True) == found


def test_skipped_steps_score_nothing_when_the_setting_says_so():
    marked = skips.mark([result("a", Status.PASSED, 4)], {"a"}, score=False)
    assert (marked[0].status, marked[0].points) == (Status.SKIPPED, 0)
