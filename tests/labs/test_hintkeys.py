"""Hint keys checked statically: a check raising a key it does not declare is found at load."""

from __future__ import annotations

import textwrap

import pytest

from crosstrain.errors import CrosstrainError
from crosstrain.labs.catalog import get_lab
from crosstrain.labs.checks import load_checks
from crosstrain.labs.hintkeys import undeclared_hints

GRADER = """
from crosstrain.labs.checks import Fail, Score, check


def helper(ctx):
    raise Fail("deep", hint="deeep")


@check("s", points=1, hint="h", hints={"public": "p", "deep": "d"})
def first(ctx):
    if ctx:
        raise Fail("x", hint="pubic")
    if not ctx:
        return Score(0, "y", "public")
    helper(ctx)
    raise Fail("z", hint=ctx.key)  # computed: not seen here


@check("s", points=1, hint="h")
def second(ctx):
    raise Fail("fine")
"""


def specs_of(tmp_path, monkeypatch):
    path = tmp_path / "checks.py"
    path.write_text(textwrap.dedent(GRADER))
    from crosstrain.labs.catalog import load_module

    module = load_module(path)
    return path, [
        v.crosstrain_check for v in vars(module).values() if hasattr(v, "crosstrain_check")
    ]


def test_literal_keys_in_a_check_and_the_helpers_it_calls_are_checked(tmp_path, monkeypatch):
    path, specs = specs_of(tmp_path, monkeypatch)
    found = {(u.check, u.key): u for u in undeclared_hints(path, specs)}
    assert set(found) == {("first", "pubic"), ("first", "deeep")}
    assert found["first", "pubic"].suggestion == "did you mean 'public'?"
    assert found["first", "deeep"].line == 6


def test_load_checks_refuses_a_grader_raising_an_undeclared_key(content):
    checks = content / "graders" / "00-sandbox-orientation" / "checks.py"
    text = checks.read_text()
    checks.write_text(
        text.replace(
            'raise Fail(f"there is no bucket',
            'raise Fail(hint="typo", message=f"there is no bucket',
            1,
        )
    )
    with pytest.raises(
        CrosstrainError, match=r"checks.py:\d+: check dataset_uploaded raises hint 'typo'"
    ):
        load_checks(get_lab("00-sandbox-orientation"))
    assert load_checks(get_lab("00-sandbox-orientation"), validate_hints=False)


def test_checks_reading_hidden_data_directly_or_through_a_helper_are_path_dependent(tmp_path):
    from crosstrain.labs.catalog import load_module
    from crosstrain.labs.hintkeys import path_dependent

    path = tmp_path / "checks.py"
    path.write_text(
        textwrap.dedent(
            """
            from crosstrain.labs.checks import check

            def cases(ctx):
                return [1] + ([2] if ctx.hidden else [])

            @check("s", points=1, hint="h")
            def direct(ctx):
                return "x" if ctx.grading else "y"

            @check("s", points=1, hint="h")
            def through_helper(ctx):
                return str(cases(ctx))

            @check("s", points=1, hint="h")
            def same_both_ways(ctx):
                return "z"
            """
        )
    )
    module = load_module(path)
    specs = [v.crosstrain_check for v in vars(module).values() if hasattr(v, "crosstrain_check")]
    assert path_dependent(path, specs) == {"direct", "through_helper"}
