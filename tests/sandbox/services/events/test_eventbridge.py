"""EventBridge: rules with patterns on default and custom buses, targets, transformers,
schedules fired by advancing the sandbox clock, and the refusals AWS makes at PutRule."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from events_support import allow, deliveries, deploy, drain, log_text, queue, settled


def put(sandbox, detail: dict, source="shop.orders", detail_type="Order Placed", bus=None):
    entry = {"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail)}
    if bus:
        entry["EventBusName"] = bus
    answer = sandbox.client("events").put_events(Entries=[entry])
    assert answer["FailedEntryCount"] == 0


def test_pattern_routes_matching_events_to_a_queue(sandbox):
    url, arn = queue(sandbox, "big-orders")
    events = sandbox.client("events")
    pattern = {
        "source": ["shop.orders"],
        "detail": {"total": [{"numeric": [">", 100]}], "country": [{"anything-but": "XX"}]},
    }
    events.put_rule(Name="big", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="big", Targets=[{"Id": "q", "Arn": arn}])
    put(sandbox, {"total": 50, "country": "FR"})
    put(sandbox, {"total": 500, "country": "XX"})
    put(sandbox, {"total": 500, "country": "FR", "id": "o-1"})
    (message,) = drain(sandbox, url, 1)
    event = json.loads(message["Body"])
    assert event["detail"]["id"] == "o-1" and event["detail-type"] == "Order Placed"
    assert event["time"].endswith("Z")


def test_custom_bus_and_input_transformer(sandbox):
    url, arn = queue(sandbox, "transformed")
    events = sandbox.client("events")
    events.create_event_bus(Name="ml")
    events.put_rule(
        Name="scored", EventBusName="ml", EventPattern=json.dumps({"source": ["ml.scoring"]})
    )
    events.put_targets(
        Rule="scored",
        EventBusName="ml",
        Targets=[
            {
                "Id": "q",
                "Arn": arn,
                "InputTransformer": {
                    "InputPathsMap": {"model": "$.detail.model", "auc": "$.detail.auc"},
                    "InputTemplate": '{"text": "model <model> scored <auc>", "auc": <auc>}',
                },
            }
        ],
    )
    put(sandbox, {"model": "m1", "auc": 0.91}, source="ml.scoring", bus="ml")
    put(sandbox, {"model": "m2", "auc": 0.5}, source="ml.scoring")  # default bus: no rule
    (message,) = drain(sandbox, url, 1)
    assert json.loads(message["Body"]) == {"text": "model m1 scored 0.91", "auc": 0.91}


def test_lambda_target_with_permission(sandbox):
    fn = deploy(
        sandbox, "eb-fn", "import json\ndef handler(e, c):\n    print('EV', json.dumps(e))\n"
    )
    allow(sandbox, "eb-fn", "events.amazonaws.com")
    events = sandbox.client("events")
    events.put_rule(Name="to-fn", EventPattern=json.dumps({"source": ["shop.orders"]}))
    events.put_targets(Rule="to-fn", Targets=[{"Id": "f", "Arn": fn, "Input": '{"fixed": 1}'}])
    put(sandbox, {"total": 1})
    deliveries(sandbox, settled, target="eb-fn")
    assert 'EV {"fixed": 1}' in log_text(sandbox, "eb-fn")


def test_schedule_fires_when_the_clock_is_advanced(sandbox):
    url, arn = queue(sandbox, "nightly")
    events = sandbox.client("events")
    events.put_rule(Name="retrain", ScheduleExpression="rate(1 hour)")
    events.put_targets(Rule="retrain", Targets=[{"Id": "q", "Arn": arn}])
    answer = sandbox.advance_time(3 * 3600 + 1)
    assert answer["schedules_fired"] == 3
    messages = drain(sandbox, url, 3)
    event = json.loads(messages[0]["Body"])
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["resources"][0].endswith(":rule/retrain")


def test_disabled_schedule_does_not_fire(sandbox):
    url, arn = queue(sandbox, "paused")
    events = sandbox.client("events")
    events.put_rule(Name="paused", ScheduleExpression="cron(0 12 * * ? *)")
    events.put_targets(Rule="paused", Targets=[{"Id": "q", "Arn": arn}])
    events.disable_rule(Name="paused")
    assert sandbox.advance_time(2 * 86400)["schedules_fired"] == 0


@pytest.mark.parametrize(
    "kwargs,code",
    [
        ({"ScheduleExpression": "rate(1 minutes)"}, "ValidationException"),
        ({"ScheduleExpression": "cron(0 12 * * *)"}, "ValidationException"),
        ({"EventPattern": '{"source": "aws.s3"}'}, "InvalidEventPatternException"),
        (
            {"EventPattern": '{"detail": {"n": [{"numeric": ["~", 1]}]}}'},
            "InvalidEventPatternException",
        ),
    ],
)
def test_bad_rules_are_refused(sandbox, kwargs, code):
    with pytest.raises(ClientError) as caught:
        sandbox.client("events").put_rule(Name="bad", **kwargs)
    assert caught.value.response["Error"]["Code"] == code


def test_target_that_does_not_exist_fails_at_delivery_and_goes_to_its_dlq(sandbox):
    dlq_url, dlq_arn = queue(sandbox, "rule-dlq")
    events = sandbox.client("events")
    events.put_rule(Name="ghost", EventPattern=json.dumps({"source": ["shop.orders"]}))
    events.put_targets(
        Rule="ghost",
        Targets=[
            {
                "Id": "q",
                "Arn": "arn:aws:sqs:us-east-1:123456789012:no-such-queue",
                "DeadLetterConfig": {"Arn": dlq_arn},
            }
        ],
    )
    put(sandbox, {"total": 1})
    (entry,) = deliveries(sandbox, settled, target="no-such-queue")
    assert entry["result"] == "failed" and "NonExistentQueue" in entry["error"]
    (message,) = drain(sandbox, dlq_url, 1)
    assert json.loads(message["Body"])["source"] == "shop.orders"
