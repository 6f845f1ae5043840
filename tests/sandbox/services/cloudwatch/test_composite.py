"""Composite alarm rules: AWS's grammar, precedence, references, evaluation, loud refusals."""

import pytest

from crosstrain.sandbox.services.cloudwatch.composite import RuleError, holds, parse, references

STATES = {"a": "ALARM", "b": "OK", "c": "INSUFFICIENT_DATA", "arn:x:alarm:d": "ALARM"}


def check(rule: str) -> bool:
    return holds(parse(rule), STATES.get)


def test_state_functions_read_quoted_unquoted_and_arn_names():
    assert check('ALARM("a")') and check("ALARM(a)") and check("OK(b)")
    assert check("INSUFFICIENT_DATA(c)") and check('ALARM("arn:x:alarm:d")')
    assert not check("ALARM(b)") and not check("OK(missing)")


def test_not_binds_tighter_than_and_tighter_than_or():
    assert check("ALARM(b) AND ALARM(b) OR ALARM(a)")  # (F and F) or T
    assert not check("NOT ALARM(a) AND ALARM(a)")  # (not T) and T
    assert check("NOT (ALARM(b) OR OK(a))")
    assert not check("ALARM(a) AND (ALARM(b) OR INSUFFICIENT_DATA(b))")
    assert check("TRUE") and not check("FALSE AND TRUE")


def test_references_lists_each_alarm_once_in_order():
    rule = parse('ALARM(a) OR (OK("b") AND NOT ALARM(a)) OR INSUFFICIENT_DATA(c)')
    assert references(rule) == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("AT_LEAST(2, ALARM, (a, b))", "not evaluated by the crosstrain sandbox"),
        ("ALARM(a) AND", "expected more"),
        ("(ALARM(a)", "expected '\\)'"),
        ("ALARM(a) ALARM(b)", "where AND, OR or the end belongs"),
        ('ALARM("a)', "unclosed quote"),
        ("ALARM()", "needs an alarm name"),
        ("", "empty"),
        ("maybe", "cannot read"),
    ],
)
def test_rules_it_cannot_read_fail_with_the_reason(rule, message):
    with pytest.raises(RuleError, match=message):
        parse(rule)
