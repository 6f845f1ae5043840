"""Events state survives a restart: clock, schedules, pending retries, mappings, subscriptions,
state machines, alarms, the delivery log — and nothing is delivered twice because of it."""

from __future__ import annotations

import json
import time

from events_support import deliveries, deploy, drain, queue, settled

from crosstrain import sandbox as sandbox_api

FAILS = "def handler(e, c):\n    raise RuntimeError('down')\n"


def test_schedules_and_clock_survive_without_firing_twice(tmp_path):
    with sandbox_api.start(state_dir=tmp_path) as sb:
        url, arn = queue(sb, "ticks")
        events = sb.client("events")
        events.put_rule(Name="tick", ScheduleExpression="rate(1 hour)")
        events.put_targets(Rule="tick", Targets=[{"Id": "q", "Arn": arn}])
        assert sb.advance_time(2 * 3600 + 1)["schedules_fired"] == 2
        drain(sb, url, 2)
        offset = sb.health()["runtimes"]["events"]["clock_offset_seconds"]
    with sandbox_api.start(state_dir=tmp_path) as sb:
        assert sb.health()["runtimes"]["events"]["clock_offset_seconds"] == offset
        assert sb.advance_time(0)["schedules_fired"] == 0  # the two hours fired once only
        assert sb.advance_time(3600)["schedules_fired"] == 1
        assert len(sb.events(source="rule/tick")) == 3  # the log came back too


def test_a_pending_retry_is_delivered_after_restart_once(tmp_path):
    with sandbox_api.start(state_dir=tmp_path) as sb:
        dlq_url, dlq_arn = queue(sb, "restart-dlq")
        deploy(sb, "down", FAILS, DeadLetterConfig={"TargetArn": dlq_arn})
        sb.client("lambda").invoke(FunctionName="down", InvocationType="Event", Payload=b"{}")
        deliveries(sb, lambda e: e and e[0]["result"] == "retrying", target="down")
    with sandbox_api.start(state_dir=tmp_path) as sb:
        sb.advance_time(60)
        deliveries(sb, lambda e: e and e[0]["attempts"] == 2, target="down")
        sb.advance_time(120)
        (entry,) = deliveries(sb, settled, target="down")
        assert entry["attempts"] == 3 and entry["result"] == "failed"
        assert len(drain(sb, dlq_url, 1)) == 1
        time.sleep(0.5)
        assert sb.client("sqs").receive_message(QueueUrl=dlq_url).get("Messages") is None


def test_mapping_subscription_and_alarm_survive(tmp_path):
    with sandbox_api.start(state_dir=tmp_path) as sb:
        url, arn = queue(sb, "persist-jobs")
        deploy(sb, "persist-worker", "def handler(e, c):\n    return {}\n")
        sb.client("lambda").create_event_source_mapping(
            EventSourceArn=arn, FunctionName="persist-worker"
        )
        topic = sb.client("sns").create_topic(Name="persist-topic")["TopicArn"]
        out_url, out_arn = queue(sb, "persist-out")
        sb.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=out_arn)
        sb.client("cloudwatch").put_metric_alarm(
            AlarmName="persist-alarm",
            Namespace="Lab",
            MetricName="Errors",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        )
        sb.flush()
    with sandbox_api.start(state_dir=tmp_path) as sb:
        sb.client("sqs").send_message(QueueUrl=url, MessageBody="after restart")
        deliveries(sb, settled, source="persist-jobs")
        sb.client("sns").publish(TopicArn=topic, Message="still subscribed")
        (message,) = drain(sb, out_url, 1)
        assert json.loads(message["Body"])["Message"] == "still subscribed"
        alarms = sb.client("cloudwatch").describe_alarms()["MetricAlarms"]
        assert [a["AlarmName"] for a in alarms] == ["persist-alarm"]


def test_state_machines_and_finished_executions_survive(tmp_path):
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    with sandbox_api.start(state_dir=tmp_path) as sb:
        sfn = sb.client("stepfunctions")
        arn = sfn.create_state_machine(
            name="kept",
            definition=json.dumps(definition),
            roleArn="arn:aws:iam::123456789012:role/r",
        )["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
        while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING":
            time.sleep(0.05)
        sb.flush()
    with sandbox_api.start(state_dir=tmp_path) as sb:
        sfn = sb.client("stepfunctions")
        assert sfn.describe_execution(executionArn=execution)["status"] == "SUCCEEDED"
        again = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
        while sfn.describe_execution(executionArn=again)["status"] == "RUNNING":
            time.sleep(0.05)
        assert sfn.describe_execution(executionArn=again)["status"] == "SUCCEEDED"


def test_kinesis_position_and_composite_alarm_survive(tmp_path):
    counts = "def handler(e, c):\n    return len(e['Records'])\n"
    with sandbox_api.start(state_dir=tmp_path) as sb:
        kinesis = sb.client("kinesis")
        kinesis.create_stream(StreamName="persist-stream", ShardCount=1)
        arn = kinesis.describe_stream_summary(StreamName="persist-stream")[
            "StreamDescriptionSummary"
        ]["StreamARN"]
        deploy(sb, "persist-reader", counts)
        sb.client("lambda").create_event_source_mapping(
            EventSourceArn=arn, FunctionName="persist-reader", StartingPosition="TRIM_HORIZON"
        )
        kinesis.put_record(StreamName="persist-stream", Data=b"before", PartitionKey="k")
        deliveries(sb, settled, source="persist-stream")
        cw = sb.client("cloudwatch")
        cw.put_metric_alarm(
            AlarmName="persist-child",
            Namespace="Lab",
            MetricName="Errors",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData="notBreaching",
        )
        cw.put_composite_alarm(AlarmName="persist-parent", AlarmRule="ALARM(persist-child)")
        sb.flush()
    with sandbox_api.start(state_dir=tmp_path) as sb:
        sb.client("kinesis").put_record(
            StreamName="persist-stream", Data=b"after", PartitionKey="k"
        )
        entries = deliveries(
            sb, lambda e: len(e) >= 2 and settled(e), source="persist-stream", kind="kinesis"
        )
        assert [e["detail"]["batch_size"] for e in entries] == [1, 1]  # "before" only once
        cw = sb.client("cloudwatch")
        cw.put_metric_data(Namespace="Lab", MetricData=[{"MetricName": "Errors", "Value": 2.0}])
        sb.advance_time(60)
        (parent,) = cw.describe_alarms(
            AlarmNames=["persist-parent"], AlarmTypes=["CompositeAlarm"]
        )["CompositeAlarms"]
        assert parent["AlarmRule"] == "ALARM(persist-child)" and parent["StateValue"] == "ALARM"
