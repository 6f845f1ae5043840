"""DynamoDB stream event source mappings: changes reach the function in order; failures retry,
then go to the on-failure destination."""

from __future__ import annotations

import json

from events_support import deliveries, deploy, drain, log_text, queue, settled

RECORDS = """
import json
def handler(event, context):
    for r in event["Records"]:
        print("CHANGE", r["eventName"], json.dumps(r["dynamodb"]["Keys"]))
"""


def table(sandbox, name: str) -> str:
    answer = sandbox.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return answer["TableDescription"]["LatestStreamArn"]


def test_changes_reach_the_function_in_order(sandbox):
    stream = table(sandbox, "orders")
    deploy(sandbox, "on-change", RECORDS)
    sandbox.client("lambda").create_event_source_mapping(
        EventSourceArn=stream, FunctionName="on-change", StartingPosition="TRIM_HORIZON"
    )
    ddb = sandbox.client("dynamodb")
    ddb.put_item(TableName="orders", Item={"id": {"S": "o1"}})
    ddb.put_item(TableName="orders", Item={"id": {"S": "o1"}, "n": {"N": "2"}})
    ddb.delete_item(TableName="orders", Key={"id": {"S": "o1"}})
    deliveries(
        sandbox,
        lambda e: settled(e) and sum(x["detail"]["batch_size"] for x in e) == 3,
        source="orders",
    )
    changes = [
        line.split()[1]
        for line in log_text(sandbox, "on-change").splitlines()
        if line.startswith("CHANGE")
    ]
    assert changes == ["INSERT", "MODIFY", "REMOVE"]


def test_failing_batch_retries_then_goes_to_the_on_failure_destination(sandbox):
    stream = table(sandbox, "fragile")
    url, arn = queue(sandbox, "stream-failures")
    deploy(sandbox, "breaks", "def handler(e, c):\n    raise ValueError('schema drift')\n")
    sandbox.client("lambda").create_event_source_mapping(
        EventSourceArn=stream,
        FunctionName="breaks",
        StartingPosition="TRIM_HORIZON",
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": arn}},
    )
    sandbox.client("dynamodb").put_item(TableName="fragile", Item={"id": {"S": "x"}})
    (message,) = drain(sandbox, url, 1)
    body = json.loads(message["Body"])
    assert body["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert body["DDBStreamBatchInfo"]["batchSize"] == 1
    entries = sandbox.events(source="fragile", kind="dynamodb")
    assert [e["result"] for e in entries] == ["failed", "failed"]
    assert entries[0]["error"] == "ValueError: schema drift"
