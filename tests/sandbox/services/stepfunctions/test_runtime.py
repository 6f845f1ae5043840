"""Step Functions in the sandbox: Lambda tasks run in crosstrain's Lambda runtime, executions
are readable with GetExecutionHistory, failures carry error and cause, Wait uses the clock."""

from __future__ import annotations

import json
import time

from events_support import deploy, queue

ROLE = "arn:aws:iam::123456789012:role/states"


def machine(sandbox, name: str, definition: dict) -> str:
    return sandbox.client("stepfunctions").create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]


def finished(sandbox, execution: str, timeout: float = 60) -> dict:
    sfn = sandbox.client("stepfunctions")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.05)
    raise AssertionError(f"still running: {described}")


PIPELINE = {
    "StartAt": "Train",
    "States": {
        "Train": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "train", "Payload.$": "$"},
            "ResultSelector": {"auc.$": "$.Payload.auc"},
            "ResultPath": "$.model",
            "Next": "Gate",
        },
        "Gate": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.model.auc", "NumericGreaterThanEquals": 0.8, "Next": "Ok"}],
            "Default": "Reject",
        },
        "Ok": {"Type": "Succeed"},
        "Reject": {"Type": "Fail", "Error": "Model.BelowBar", "Cause": "auc under 0.8"},
    },
}

TRAIN = """
def handler(event, context):
    return {"auc": event["quality"]}
"""


def test_lambda_task_runs_the_handler_and_choice_gates(sandbox):
    deploy(sandbox, "train", TRAIN)
    arn = machine(sandbox, "pipeline", PIPELINE)
    sfn = sandbox.client("stepfunctions")
    good = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"quality": 0.9}))
    bad = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"quality": 0.5}))
    described = finished(sandbox, good["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["model"] == {"auc": 0.9}
    failed = finished(sandbox, bad["executionArn"])
    assert (failed["status"], failed["error"], failed["cause"]) == (
        "FAILED",
        "Model.BelowBar",
        "auc under 0.8",
    )


def test_execution_history_and_names(sandbox):
    deploy(sandbox, "train", TRAIN)
    arn = machine(sandbox, "pipeline", PIPELINE)
    sfn = sandbox.client("stepfunctions")
    first = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"quality": 1}))
    second = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"quality": 1}))
    assert first["executionArn"] != second["executionArn"]  # a UUID name each, as on AWS
    finished(sandbox, first["executionArn"])
    events = sfn.get_execution_history(executionArn=first["executionArn"])["events"]
    kinds = [e["type"] for e in events]
    assert kinds[0] == "ExecutionStarted" and kinds[-1] == "ExecutionSucceeded"
    assert "LambdaFunctionScheduled" in kinds or "TaskScheduled" in kinds
    assert "TaskSucceeded" in kinds or "LambdaFunctionSucceeded" in kinds


def test_function_error_is_the_task_error_and_catch_sees_it(sandbox):
    deploy(sandbox, "boom", "def handler(e, c):\n    raise ValueError('no data')\n")
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "boom"},
                "Catch": [
                    {"ErrorEquals": ["ValueError"], "ResultPath": "$.error", "Next": "Handled"}
                ],
                "End": True,
            },
            "Handled": {"Type": "Pass", "End": True},
        },
    }
    arn = machine(sandbox, "catcher", definition)
    started = sandbox.client("stepfunctions").start_execution(stateMachineArn=arn, input="{}")
    described = finished(sandbox, started["executionArn"])
    assert described["status"] == "SUCCEEDED"
    error = json.loads(described["output"])["error"]
    assert error["Error"] == "ValueError"
    assert json.loads(error["Cause"])["errorMessage"] == "no data"


def test_wait_state_finishes_when_the_sandbox_clock_moves(sandbox):
    definition = {
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Seconds": 86400, "End": True}},
    }
    arn = machine(sandbox, "waits", definition)
    started = sandbox.client("stepfunctions").start_execution(stateMachineArn=arn, input="{}")
    time.sleep(0.5)
    sfn = sandbox.client("stepfunctions")
    assert sfn.describe_execution(executionArn=started["executionArn"])["status"] == "RUNNING"
    sandbox.advance_time(86400)
    assert finished(sandbox, started["executionArn"])["status"] == "SUCCEEDED"


def test_sqs_integration_and_eventbridge_target(sandbox):
    url, qarn = queue(sandbox, "from-states")
    definition = {
        "StartAt": "Send",
        "States": {
            "Send": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage",
                "Parameters": {"QueueUrl": url, "MessageBody.$": "$.detail"},
                "End": True,
            }
        },
    }
    arn = machine(sandbox, "sender", definition)
    events = sandbox.client("events")
    events.put_rule(Name="start", EventPattern=json.dumps({"source": ["lab.start"]}))
    events.put_targets(Rule="start", Targets=[{"Id": "sm", "Arn": arn, "RoleArn": ROLE}])
    events.put_events(
        Entries=[{"Source": "lab.start", "DetailType": "go", "Detail": json.dumps({"n": 1})}]
    )
    sqs = sandbox.client("sqs")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=url).get("Messages", [])
        if got:
            break
        time.sleep(0.1)
    assert json.loads(got[0]["Body"]) == {"n": 1}


def test_sns_publish_task_reaches_a_subscribed_queue(sandbox):
    from events_support import drain

    url, qarn = queue(sandbox, "states-news")
    sns = sandbox.client("sns")
    topic = sns.create_topic(Name="states-news")["TopicArn"]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=qarn, Attributes={"RawMessageDelivery": "true"}
    )
    definition = {
        "StartAt": "Announce",
        "States": {
            "Announce": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sns:publish",
                "Parameters": {"TopicArn": topic, "Message.$": "States.Format('auc {}', $.auc)"},
                "End": True,
            }
        },
    }
    arn = machine(sandbox, "announcer", definition)
    execution = sandbox.client("stepfunctions").start_execution(
        stateMachineArn=arn, input=json.dumps({"auc": 0.91})
    )["executionArn"]
    assert finished(sandbox, execution)["status"] == "SUCCEEDED"
    (message,) = drain(sandbox, url, 1)
    assert message["Body"] == "auc 0.91"
