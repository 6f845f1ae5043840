"""Metric alarm evaluation: periods, statistics, M of N, missing data, reasons, history."""

import json

import pytest

from crosstrain.sandbox.services.cloudwatch.alarms import (
    ALARM,
    INSUFFICIENT,
    OK,
    AlarmError,
    AlarmSpec,
    evaluate,
    history_item,
    periods,
    statistic,
)

NOW = 1_800_000_030.0  # 30 s into a minute


def spec(**kw):
    base = dict(
        name="errors",
        namespace="AWS/Lambda",
        metric_name="Errors",
        dimensions=(("FunctionName", "score"),),
        statistic="Sum",
        period=60,
        evaluation_periods=1,
        threshold=1.0,
        comparison="GreaterThanOrEqualToThreshold",
    )
    base.update(kw)
    return AlarmSpec(**base)


def minute(n):
    """A timestamp inside the n-th whole minute before NOW's minute (1 = the last one)."""
    return (NOW // 60) * 60 - 60 * n + 5


def test_periods_are_whole_and_aligned():
    assert periods(spec(evaluation_periods=2), NOW) == [
        (minute(2) - 5, minute(1) - 5),
        (minute(1) - 5, minute(1) + 55),
    ]


def test_one_error_in_the_last_period_alarms():
    result = evaluate(spec(), [(minute(1), 1.0)], NOW, OK)
    assert result.state == ALARM
    assert "1 out of the last 1 datapoints [1 (" in result.reason
    assert "greater than or equal to the threshold (1)" in result.reason


def test_samples_in_the_current_partial_period_are_not_counted():
    assert evaluate(spec(), [(NOW - 1, 5.0)], NOW, OK).state == INSUFFICIENT


def test_below_threshold_is_ok():
    assert evaluate(spec(), [(minute(1), 0.0)], NOW, ALARM).state == OK


@pytest.mark.parametrize(
    "op,value,state",
    [
        ("GreaterThanThreshold", 1.0, OK),
        ("GreaterThanThreshold", 1.5, ALARM),
        ("LessThanThreshold", 0.5, ALARM),
        ("LessThanOrEqualToThreshold", 1.0, ALARM),
        ("LessThanOrEqualToThreshold", 1.1, OK),
    ],
)
def test_comparison_operators(op, value, state):
    assert evaluate(spec(comparison=op), [(minute(1), value)], NOW).state == state


@pytest.mark.parametrize(
    "stat,expected",
    [("Average", 2.0), ("Sum", 6.0), ("Minimum", 1.0), ("Maximum", 3.0), ("SampleCount", 3.0)],
)
def test_statistics(stat, expected):
    assert statistic([1.0, 2.0, 3.0], stat) == expected


def test_percentile():
    assert statistic([float(i) for i in range(1, 101)], "p90") == pytest.approx(90.1)


def test_statistic_is_applied_per_period():
    result = evaluate(
        spec(statistic="Average", threshold=2.0), [(minute(1), 1.0), (minute(1), 3.0)], NOW
    )
    assert result.values == [2.0] and result.state == ALARM


def test_m_out_of_n():
    s = spec(evaluation_periods=3, datapoints_to_alarm=2)
    assert evaluate(s, [(minute(3), 1), (minute(2), 0), (minute(1), 1)], NOW).state == ALARM
    assert evaluate(s, [(minute(3), 0), (minute(2), 0), (minute(1), 1)], NOW).state == OK


def test_datapoints_to_alarm_defaults_to_all_periods():
    s = spec(evaluation_periods=2)
    assert evaluate(s, [(minute(2), 0), (minute(1), 1)], NOW).state == OK


def test_missing_data_default_is_insufficient_data():
    result = evaluate(spec(evaluation_periods=3), [], NOW, OK)
    assert result.state == INSUFFICIENT and result.reason.startswith("Insufficient Data")


def test_missing_data_breaching_and_not_breaching():
    s = spec(evaluation_periods=2, treat_missing_data="breaching")
    assert evaluate(s, [(minute(1), 5)], NOW).state == ALARM
    s = spec(evaluation_periods=2, datapoints_to_alarm=1, treat_missing_data="notBreaching")
    assert evaluate(s, [], NOW).state == OK


def test_missing_data_ignore_keeps_state():
    s = spec(treat_missing_data="ignore")
    assert evaluate(s, [], NOW, ALARM).state == ALARM
    assert evaluate(s, [], NOW, OK).state == OK


def test_missing_counts_only_present_periods():
    s = spec(evaluation_periods=3, datapoints_to_alarm=1)
    assert evaluate(s, [(minute(2), 3)], NOW).state == ALARM


def test_bad_specs_are_refused():
    with pytest.raises(AlarmError):
        spec(comparison="LessThanLowerOrGreaterThanUpperThreshold")
    with pytest.raises(AlarmError):
        spec(statistic="Median")
    with pytest.raises(AlarmError):
        spec(treat_missing_data="zero")


def test_history_item_shape():
    result = evaluate(spec(), [(minute(1), 2.0)], NOW, OK)
    item = history_item("errors", OK, ALARM, result, NOW)
    assert item["HistorySummary"] == "Alarm updated from OK to ALARM"
    data = json.loads(item["HistoryData"])
    assert data["oldState"]["stateValue"] == OK
    assert data["newState"]["stateReasonData"]["recentDatapoints"] == [2.0]
