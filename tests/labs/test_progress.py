from crosstrain.labs import progress
from crosstrain.labs.checks import CheckResult


def result(check, step, status, points, max_points=2):
    return CheckResult("00-x", step, check, status, points, max_points, "seen")


def test_one_row_per_check_run(tmp_path):
    progress.record(tmp_path, [result("a", "s1", "failed", 0), result("b", "s2", "passed", 2)])
    progress.record(tmp_path, [result("a", "s1", "passed", 2)])
    rows = progress.history(tmp_path)
    assert [(r["check_name"], r["status"], r["points"]) for r in rows] == [
        ("a", "failed", 0),
        ("b", "passed", 2),
        ("a", "passed", 2),
    ]
    assert (tmp_path / "progress.sqlite").is_file()


def test_progress_uses_the_latest_run_of_each_check(tmp_path):
    progress.record(tmp_path, [result("a", "s1", "passed", 2), result("b", "s2", "passed", 2)])
    progress.record(tmp_path, [result("b", "s2", "failed", 1)])
    summary = progress.lab_progress(tmp_path, "00-x", {"s1": 2, "s2": 2})
    assert summary["points"] == 3
    assert summary["steps_done"] == ["s1"]


def test_no_store_means_no_progress(tmp_path):
    assert progress.history(tmp_path) == []
    assert progress.lab_progress(tmp_path, "00-x", {"s1": 2})["points"] == 0
