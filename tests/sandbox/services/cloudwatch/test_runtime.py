"""Alarms evaluate in the sandbox: on Lambda metrics and PutMetricData, with history and SNS
actions, on the sandbox clock."""

from __future__ import annotations

import json
import time

from events_support import deploy, drain, queue


def alarm(sandbox, name: str, **overrides) -> None:
    config = dict(
        AlarmName=name,
        Namespace="Lab/Scoring",
        MetricName="Latency",
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=100,
        ComparisonOperator="GreaterThanThreshold",
    )
    config.update(overrides)
    sandbox.client("cloudwatch").put_metric_alarm(**config)


def state(sandbox, name: str) -> dict:
    (found,) = sandbox.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return found


def wait_state(sandbox, name: str, value: str, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = state(sandbox, name)
        if found["StateValue"] == value:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{name} stayed {found['StateValue']}: {found['StateReason']}")


def test_new_alarm_without_data_is_insufficient_data(sandbox):
    alarm(sandbox, "quiet")
    found = wait_state(sandbox, "quiet", "INSUFFICIENT_DATA")
    assert found["StateReason"].startswith("Insufficient Data")


def test_put_metric_data_breaches_after_the_period_closes(sandbox):
    alarm(sandbox, "slow")
    cw = sandbox.client("cloudwatch")
    cw.put_metric_data(
        Namespace="Lab/Scoring", MetricData=[{"MetricName": "Latency", "Value": 250.0}]
    )
    sandbox.advance_time(60)  # the datapoint's minute is now a whole period in the past
    found = wait_state(sandbox, "slow", "ALARM")
    assert "Threshold Crossed: 1 out of the last 1 datapoints [250" in found["StateReason"]
    sandbox.advance_time(120)  # no data since: missing → INSUFFICIENT_DATA
    wait_state(sandbox, "slow", "INSUFFICIENT_DATA")
    history = cw.describe_alarm_history(AlarmName="slow", HistoryItemType="StateUpdate")
    summaries = [h["HistorySummary"] for h in history["AlarmHistoryItems"]]
    assert "Alarm updated from INSUFFICIENT_DATA to ALARM" in summaries
    assert "Alarm updated from ALARM to INSUFFICIENT_DATA" in summaries


def test_lambda_errors_alarm_publishes_to_sns(sandbox):
    url, qarn = queue(sandbox, "pager")
    sns = sandbox.client("sns")
    topic = sns.create_topic(Name="pager")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)
    deploy(sandbox, "flaky", "def handler(e, c):\n    raise RuntimeError('model missing')\n")
    alarm(
        sandbox,
        "flaky-errors",
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Dimensions=[{"Name": "FunctionName", "Value": "flaky"}],
        Statistic="Sum",
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
        AlarmActions=[topic],
    )
    wait_state(sandbox, "flaky-errors", "OK")
    lam = sandbox.client("lambda")
    for _ in range(2):
        lam.invoke(FunctionName="flaky", Payload=b"{}")
    sandbox.advance_time(60)
    wait_state(sandbox, "flaky-errors", "ALARM")
    (message,) = drain(sandbox, url, 1)
    envelope = json.loads(message["Body"])
    assert envelope["Subject"].startswith('ALARM: "flaky-errors"')
    body = json.loads(envelope["Message"])
    assert body["NewStateValue"] == "ALARM" and body["OldStateValue"] == "OK"
    assert body["Trigger"]["MetricName"] == "Errors"
    actions = sandbox.client("cloudwatch").describe_alarm_history(
        AlarmName="flaky-errors", HistoryItemType="Action"
    )["AlarmHistoryItems"]
    assert actions and topic in actions[0]["HistorySummary"]


def test_m_out_of_n_needs_enough_breaching_periods(sandbox):
    alarm(sandbox, "two-of-three", EvaluationPeriods=3, DatapointsToAlarm=2)
    cw = sandbox.client("cloudwatch")
    states = []
    for value in (500.0, 10.0, 500.0):
        cw.put_metric_data(
            Namespace="Lab/Scoring", MetricData=[{"MetricName": "Latency", "Value": value}]
        )
        sandbox.advance_time(60)
        states.append(state(sandbox, "two-of-three")["StateValue"])
    assert states == ["OK", "OK", "ALARM"]


def test_metric_math_error_rate_alarm_fires_and_publishes_its_metrics(sandbox):
    url, qarn = queue(sandbox, "rate-pager")
    sns = sandbox.client("sns")
    topic = sns.create_topic(Name="rate-pager")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)

    def stat(query_id: str, metric: str) -> dict:
        return {
            "Id": query_id,
            "MetricStat": {
                "Metric": {"Namespace": "Lab/Scoring", "MetricName": metric},
                "Period": 60,
                "Stat": "Sum",
            },
            "ReturnData": False,
        }

    sandbox.client("cloudwatch").put_metric_alarm(
        AlarmName="error-rate",
        Metrics=[
            stat("errors", "Errors"),
            stat("requests", "Requests"),
            {"Id": "rate", "Expression": "100 * errors / requests", "ReturnData": True},
        ],
        EvaluationPeriods=1,
        Threshold=10,
        ComparisonOperator="GreaterThanThreshold",
        AlarmActions=[topic],
    )
    cw = sandbox.client("cloudwatch")
    cw.put_metric_data(
        Namespace="Lab/Scoring",
        MetricData=[
            {"MetricName": "Errors", "Value": 3.0},
            {"MetricName": "Requests", "Value": 20.0},
        ],
    )
    sandbox.advance_time(60)
    found = wait_state(sandbox, "error-rate", "ALARM")
    assert "[15 (" in found["StateReason"]  # 100 * 3 / 20
    (message,) = drain(sandbox, url, 1)
    body = json.loads(json.loads(message["Body"])["Message"])
    ids = [m["Id"] for m in body["Trigger"]["Metrics"]]
    assert ids == ["errors", "requests", "rate"] and body["NewStateValue"] == "ALARM"


def test_sum_of_metrics_alarm_judges_the_total(sandbox):
    cw = sandbox.client("cloudwatch")
    metrics = [
        {
            "Id": f"m{i}",
            "MetricStat": {
                "Metric": {
                    "Namespace": "Lab/Scoring",
                    "MetricName": "Queued",
                    "Dimensions": [{"Name": "Shard", "Value": str(i)}],
                },
                "Period": 60,
                "Stat": "Maximum",
            },
            "ReturnData": False,
        }
        for i in (1, 2)
    ]
    metrics.append({"Id": "total", "Expression": "SUM(METRICS())", "ReturnData": True})
    cw.put_metric_alarm(
        AlarmName="backlog",
        Metrics=metrics,
        EvaluationPeriods=1,
        Threshold=100,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    for shard in ("1", "2"):  # 60 each: neither alone crosses 100, together they do
        cw.put_metric_data(
            Namespace="Lab/Scoring",
            MetricData=[
                {
                    "MetricName": "Queued",
                    "Dimensions": [{"Name": "Shard", "Value": shard}],
                    "Value": 60.0,
                }
            ],
        )
    sandbox.advance_time(60)
    assert "[120 (" in wait_state(sandbox, "backlog", "ALARM")["StateReason"]


def test_composite_alarm_follows_its_rule_and_publishes(sandbox):
    url, qarn = queue(sandbox, "composite-pager")
    sns = sandbox.client("sns")
    topic = sns.create_topic(Name="composite-pager")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)
    alarm(sandbox, "slow")
    alarm(sandbox, "deploying", MetricName="Deploys", TreatMissingData="notBreaching")
    cw = sandbox.client("cloudwatch")
    cw.put_composite_alarm(
        AlarmName="page-me",
        AlarmRule='ALARM("slow") AND NOT ALARM(deploying)',
        AlarmActions=[topic],
    )
    (found,) = cw.describe_alarms(AlarmNames=["page-me"], AlarmTypes=["CompositeAlarm"])[
        "CompositeAlarms"
    ]
    assert found["AlarmRule"] == 'ALARM("slow") AND NOT ALARM(deploying)'
    cw.put_metric_data(
        Namespace="Lab/Scoring", MetricData=[{"MetricName": "Latency", "Value": 250.0}]
    )
    sandbox.advance_time(60)
    (message,) = drain(sandbox, url, 1)
    body = json.loads(json.loads(message["Body"])["Message"])
    assert body["AlarmName"] == "page-me" and body["NewStateValue"] == "ALARM"
    assert body["AlarmRule"] == 'ALARM("slow") AND NOT ALARM(deploying)'
    assert {c["Arn"].rsplit(":", 1)[1] for c in body["TriggeringChildren"]} == {
        "slow",
        "deploying",
    }
    (found,) = cw.describe_alarms(AlarmNames=["page-me"], AlarmTypes=["CompositeAlarm"])[
        "CompositeAlarms"
    ]
    assert (
        found["StateValue"] == "ALARM"
        and "alarm:slow transitioned to ALARM" in (found["StateReason"])
    )
    history = cw.describe_alarm_history(AlarmName="page-me", HistoryItemType="StateUpdate")
    assert history["AlarmHistoryItems"][0]["AlarmType"] == "CompositeAlarm"
