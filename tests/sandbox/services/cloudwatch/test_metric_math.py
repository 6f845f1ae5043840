"""Metric math: arithmetic over time series, array functions, missing data, loud refusals."""

import pytest

from crosstrain.sandbox.services.cloudwatch.metric_math import Evaluator, MathError, Query

M1 = Query("m1", "errors", metric=("Lab", "Errors", (), "Sum"))
M2 = Query("m2", "requests", metric=("Lab", "Requests", (), "Sum"))
SERIES = {"m1": [1.0, None, 4.0], "m2": [10.0, 5.0, 0.0]}


def run(expression: str, series=SERIES):
    queries = [M1, M2, Query("e1", expression=expression)]
    return Evaluator(queries, dict(series), 3).result("e1")


def test_arithmetic_is_per_period_and_missing_or_divide_by_zero_gives_no_datapoint():
    assert run("100 * m1 / m2") == [10.0, None, None]
    assert run("m2 - m1 + 1") == [10.0, None, -3.0]
    assert run("-m1") == [-1.0, None, -4.0]
    assert run("m2 ^ 2") == [100.0, 25.0, 0.0]


def test_array_functions_reduce_across_series_and_single_series_to_a_number():
    assert run("SUM(METRICS())") == [11.0, 5.0, 4.0]
    assert run("MAX([m1, m2])") == [10.0, 5.0, 4.0]
    assert run("MIN(METRICS('err'))") == [1.0, None, 4.0]  # only m1's label matches
    assert run("AVG(m2)") == [5.0, 5.0, 5.0]  # a number, repeated over the periods
    assert run("m1 - AVG(m1)") == [-1.5, None, 1.5]


def test_fill_abs_ceil_floor():
    assert run("FILL(m1, 0)") == [1.0, 0.0, 4.0]
    assert run("ABS(m1 - 3)") == [2.0, None, 1.0]
    assert run("CEIL(m1 / 3) + FLOOR(m1 / 3)") == [1.0, None, 3.0]


def test_expressions_may_use_other_expressions():
    queries = [M1, M2, Query("rate", expression="m1 / m2"), Query("pct", expression="rate * 100")]
    assert Evaluator(queries, dict(SERIES), 3).result("pct") == [10.0, None, None]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("SEARCH('{AWS/Lambda} Errors', 'Sum', 60)", "SEARCH\\(\\) is not evaluated"),
        ("ANOMALY_DETECTION_BAND(m1, 2)", "is not evaluated"),
        ("IF(m1 > 1, m1, 0)", "is not evaluated"),
        ("m1 > 1", "Compare is not evaluated"),
        ("m3 + 1", "m3 is not the id"),
        ("m1 +", "cannot read"),
        ("SELECT AVG(Errors) FROM Lab", "cannot read"),
        ("METRICS()", "one time series, not many"),
    ],
)
def test_what_it_does_not_evaluate_fails_with_the_reason(expression, message):
    with pytest.raises(MathError, match=message):
        run(expression)


def test_expressions_that_refer_to_each_other_fail():
    queries = [Query("a", expression="b + 1"), Query("b", expression="a + 1")]
    with pytest.raises(MathError, match="refer to each other"):
        Evaluator(queries, {}, 1).result("a")
