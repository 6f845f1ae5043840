"""Asynchronous invokes: AWS's retry policy on the sandbox clock, destinations, DLQs, loops."""

from __future__ import annotations

import json

from events_support import allow, deliveries, deploy, drain, log_text, queue, settled

FAILS = """
def handler(event, context):
    raise KeyError("Records")
"""

OK = """
def handler(event, context):
    return {"seen": event}
"""


def invoke_async(sandbox, name, event):
    answer = sandbox.client("lambda").invoke(
        FunctionName=name, InvocationType="Event", Payload=json.dumps(event)
    )
    assert answer["StatusCode"] == 202
    return answer


def test_event_invoke_runs_the_handler(sandbox):
    deploy(sandbox, "async-ok", OK)
    invoke_async(sandbox, "async-ok", {"n": 1})
    (entry,) = deliveries(sandbox, settled, target="async-ok")
    assert entry["result"] == "delivered" and entry["source"] == "lambda:Invoke"


def test_failures_are_retried_twice_then_go_to_the_dead_letter_queue(sandbox):
    dlq_url, dlq_arn = queue(sandbox, "async-dlq")
    deploy(sandbox, "async-fails", FAILS, DeadLetterConfig={"TargetArn": dlq_arn})
    invoke_async(sandbox, "async-fails", {"n": 7})
    deliveries(sandbox, lambda e: e and e[0]["result"] == "retrying", target="async-fails")
    sandbox.advance_time(60)  # first retry after one minute
    deliveries(sandbox, lambda e: e and e[0]["attempts"] == 2, target="async-fails")
    sandbox.advance_time(120)  # second retry two minutes later
    (entry,) = deliveries(sandbox, settled, target="async-fails")
    assert entry["result"] == "failed" and entry["retries"] == 2
    assert entry["error"] == "KeyError: 'Records'"
    (message,) = drain(sandbox, dlq_url, 1)
    assert json.loads(message["Body"]) == {"n": 7}
    assert message["MessageAttributes"]["ErrorMessage"]["StringValue"] == "KeyError: 'Records'"
    assert log_text(sandbox, "async-fails").count("START RequestId") == 3


def test_maximum_retry_attempts_and_on_failure_destination(sandbox):
    url, arn = queue(sandbox, "on-failure")
    deploy(sandbox, "no-retry", FAILS)
    sandbox.client("lambda").put_function_event_invoke_config(
        FunctionName="no-retry",
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": arn}},
    )
    invoke_async(sandbox, "no-retry", {"k": "v"})
    (message,) = drain(sandbox, url, 1)
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["requestPayload"] == {"k": "v"}
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorType"] == "KeyError"


def test_on_success_destination_gets_the_response(sandbox):
    url, arn = queue(sandbox, "on-success")
    deploy(sandbox, "succeeds", OK)
    sandbox.client("lambda").put_function_event_invoke_config(
        FunctionName="succeeds", DestinationConfig={"OnSuccess": {"Destination": arn}}
    )
    invoke_async(sandbox, "succeeds", {"x": 1})
    (message,) = drain(sandbox, url, 1)
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "Success"
    assert record["responsePayload"] == {"seen": {"x": 1}}


def test_event_older_than_the_maximum_age_is_dropped_to_the_destination(sandbox):
    url, arn = queue(sandbox, "too-old")
    deploy(sandbox, "ages", FAILS)
    sandbox.client("lambda").put_function_event_invoke_config(
        FunctionName="ages",
        MaximumEventAgeInSeconds=60,
        DestinationConfig={"OnFailure": {"Destination": arn}},
    )
    invoke_async(sandbox, "ages", {})
    deliveries(sandbox, lambda e: e and e[0]["result"] == "retrying", target="ages")
    sandbox.advance_time(61)
    (message,) = drain(sandbox, url, 1)
    assert json.loads(message["Body"])["requestContext"]["condition"] == "EventAgeExceeded"


def test_a_hanging_function_does_not_block_other_deliveries(sandbox):
    deploy(sandbox, "hangs", "import time\ndef handler(e, c):\n    time.sleep(30)\n", Timeout=5)
    deploy(sandbox, "quick", OK)
    invoke_async(sandbox, "hangs", {})
    invoke_async(sandbox, "quick", {})
    (entry,) = deliveries(sandbox, settled, timeout=4, target="quick")
    assert entry["result"] == "delivered"


def test_a_recursive_loop_is_stopped_and_reported(sandbox):
    source = """
    import boto3
    def handler(event, context):
        key = event["Records"][0]["s3"]["object"]["key"]
        boto3.client("s3").put_object(Bucket="loop-bucket", Key=key + "x", Body=b"again")
    """
    arn = deploy(sandbox, "loops", source)
    allow(sandbox, "loops", "s3.amazonaws.com")
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="loop-bucket")
    s3.put_bucket_notification_configuration(
        Bucket="loop-bucket",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    s3.put_object(Bucket="loop-bucket", Key="k", Body=b"start")
    entries = deliveries(
        sandbox,
        lambda e: any(x["result"] == "loop-detected" for x in e),
        timeout=90,
        source="loop-bucket",
    )
    stopped = [e for e in entries if e["result"] == "loop-detected"]
    assert "recursive loop stopped" in stopped[0]["error"]
    assert len(entries) <= 17  # bounded: ~16 invocations, then stopped
