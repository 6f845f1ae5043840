"""What the sandbox adds to moto's CloudWatch: refusing what it cannot evaluate, composite
alarms, alarm types, the starting state."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def refused(call, **kwargs) -> str:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    assert caught.value.response["Error"]["Code"] == "ValidationError"
    return caught.value.response["Error"]["Message"]


METRIC = {
    "Id": "m1",
    "MetricStat": {
        "Metric": {"Namespace": "Lab/Scoring", "MetricName": "Latency"},
        "Period": 60,
        "Stat": "Average",
    },
    "ReturnData": False,
}


def names(cw) -> list[str]:
    answer = cw.describe_alarms(AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    return [a["AlarmName"] for a in answer["MetricAlarms"] + answer["CompositeAlarms"]]


def test_a_new_alarm_is_insufficient_data_when_put_returns(sandbox):
    cw = sandbox.client("cloudwatch")
    cw.put_metric_alarm(
        AlarmName="fresh",
        Namespace="Lab/Scoring",
        MetricName="Latency",
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )
    (found,) = cw.describe_alarms(AlarmNames=["fresh"])["MetricAlarms"]
    assert found["StateValue"] in ("INSUFFICIENT_DATA", "OK")
    assert found["StateReason"] != "Unchecked: Initial alarm creation"  # evaluated at once


@pytest.mark.parametrize(
    ("metrics", "extra", "message"),
    [
        (
            [METRIC, {"Id": "band", "Expression": "ANOMALY_DETECTION_BAND(m1, 2)"}],
            {"ThresholdMetricId": "band", "ComparisonOperator": "GreaterThanUpperThreshold"},
            "anomaly detection",
        ),
        (
            [{"Id": "s", "Expression": "SUM(SEARCH('{Lab/Scoring} Latency', 'Sum', 60))"}],
            {},
            "SEARCH",
        ),
        ([METRIC, {"Id": "e", "Expression": "IF(m1 > 5, 1, 0)"}], {}, "IF"),
        ([dict(METRIC, ReturnData=True), {"Id": "e", "Expression": "m1 * 2"}], {}, "exactly one"),
    ],
)
def test_put_metric_alarm_refuses_what_the_sandbox_does_not_evaluate(
    sandbox, metrics, extra, message
):
    cw = sandbox.client("cloudwatch")
    config = dict(
        AlarmName="unevaluated",
        Metrics=metrics,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    config.update(extra)
    text = refused(cw.put_metric_alarm, **config)
    assert "Not evaluated by the crosstrain sandbox" in text and message in text
    assert "unevaluated" not in names(cw)


def test_put_composite_alarm_refuses_unknown_alarms_and_functions(sandbox):
    cw = sandbox.client("cloudwatch")
    text = refused(cw.put_composite_alarm, AlarmName="c", AlarmRule="ALARM(nobody)")
    assert "alarms [nobody] in the alarm rule do not exist" in text
    text = refused(cw.put_composite_alarm, AlarmName="c", AlarmRule="AT_LEAST(1, ALARM, (x))")
    assert "AT_LEAST() is not evaluated" in text
    assert "c" not in names(cw)


def test_describe_alarms_returns_composites_only_when_asked(sandbox):
    cw = sandbox.client("cloudwatch")
    cw.put_composite_alarm(AlarmName="always", AlarmRule="TRUE")
    assert cw.describe_alarms()["CompositeAlarms"] == []
    (found,) = cw.describe_alarms(AlarmTypes=["CompositeAlarm"])["CompositeAlarms"]
    assert found["AlarmName"] == "always" and found["StateValue"] == "ALARM"
