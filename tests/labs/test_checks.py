import threading

import pytest

from crosstrain.errors import CrosstrainError
from crosstrain.labs.catalog import get_lab
from crosstrain.labs.checks import (
    CheckContext,
    Fail,
    Score,
    check,
    hidden_data,
    load_checks,
    run_check,
)

DEMO = "00-sandbox-orientation"


@pytest.fixture
def ctx(content, tmp_path):
    return CheckContext(get_lab(DEMO), sandbox=None, workspace=tmp_path)


def spec(fn, points=2, **kwargs):
    kwargs.setdefault("hint", "do the thing")
    return check("store-dataset", points=points, **kwargs)(fn).crosstrain_check


def test_message_means_passed_with_full_points(ctx):
    result = run_check(spec(lambda c: "saw it"), ctx)
    assert (result.status, result.points, result.message, result.hint) == (
        "passed",
        2,
        "saw it",
        "",
    )


def test_fail_gives_the_default_hint(ctx):
    def bad(c):
        raise Fail("saw nothing")

    result = run_check(spec(bad), ctx)
    assert (result.status, result.points, result.hint_id) == ("failed", 0, "default")
    assert result.hint == "do the thing"


def test_fail_with_a_named_hint(ctx):
    def public(c):
        raise Fail("bucket is public", hint="public")

    result = run_check(spec(public, hints={"public": "make it private"}), ctx)
    assert (result.hint_id, result.hint) == ("public", "make it private")


def test_score_gives_partial_credit(ctx):
    result = run_check(spec(lambda c: Score(1, "half there")), ctx)
    assert (result.status, result.points, result.max_points) == ("failed", 1, 2)


def test_crashing_check_is_an_error_result(ctx):
    def crash(c):
        return {}["missing"]

    result = run_check(spec(crash), ctx)
    assert result.status == "error"
    assert result.points == 0
    assert "KeyError" in result.message


def test_undeclared_hint_is_an_error_result(ctx):
    def typo(c):
        raise Fail("x", hint="pubic")

    result = run_check(spec(typo, hints={"public": "p"}), ctx)
    assert result.status == "error"
    assert "pubic" in result.message


def test_wrong_return_type_is_an_error_result(ctx):
    assert run_check(spec(lambda c: True), ctx).status == "error"


def test_check_over_its_time_limit_is_an_error_result(ctx):
    release = threading.Event()
    result = run_check(spec(lambda c: release.wait(5), timeout=0.2), ctx)
    release.set()
    assert result.status == "error"
    assert "within 0.2 s" in result.message


def test_a_check_over_its_time_limit_is_stopped_not_left_running(ctx):
    calls = []

    def busy(c):
        while True:  # a polling loop that would call the sandbox forever
            calls.append(1)
            threading.Event().wait(0.01)

    busy.__name__ = "busy_forever"
    result = run_check(spec(busy, timeout=0.2), ctx)
    assert result.status == "error"
    for worker in [t for t in threading.enumerate() if t.name == "check-busy_forever"]:
        worker.join(10)
        assert not worker.is_alive()
    seen = len(calls)
    threading.Event().wait(0.1)
    assert len(calls) == seen


def test_hidden_data_depends_on_the_secret():
    draw = lambda secret: hidden_data(secret, DEMO).rng("x").random()  # noqa: E731
    assert draw("s1") == draw("s1")
    assert draw("s1") != draw("s2")
    assert hidden_data(None, DEMO) is None


def test_demo_checks_load_in_step_order(content):
    specs = load_checks(get_lab(DEMO))
    assert [s.step for s in specs][:2] == ["store-dataset", "store-dataset"]
    assert sum(s.points for s in specs) == 10


def test_points_disagreeing_with_the_manifest_are_refused(content):
    path = content / "graders" / DEMO / "checks.py"
    path.write_text(
        path.read_text().replace(
            '"store-dataset",\n    points=2', '"store-dataset",\n    points=3', 1
        )
    )
    with pytest.raises(CrosstrainError, match="worth 5 points but lab.yaml says 4"):
        load_checks(get_lab(DEMO))
