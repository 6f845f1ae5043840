"""moto's ASL interpreter as the sandbox wires it: clock-driven waits and retries, service
calls through the client factory, SageMaker tasks, errors as AWS shapes them."""

import json
import time

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from crosstrain.sandbox.services.events.schedule import Clock
from crosstrain.sandbox.services.stepfunctions import engine

ROLE = "arn:aws:iam::123456789012:role/sfn"
REGION = "us-east-1"


@pytest.fixture
def sfn():
    clock = Clock()
    calls = []

    def factory(service, region):
        calls.append(service)
        return boto3.client(service, region_name=region)

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        engine.install(clock, factory)
        client = boto3.client("stepfunctions", region_name=REGION)
        client.clock, client.calls = clock, calls
        yield client
    engine.install(Clock(), None)


def run(client, definition, payload=None, *, settle=None, name="m"):
    arn = client.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)[
        "stateMachineArn"
    ]
    execution = client.start_execution(
        stateMachineArn=arn, name=f"x{time.time_ns()}", input=json.dumps(payload or {})
    )["executionArn"]
    if settle:
        settle()
    return finish(client, execution)


def finish(client, execution, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described = client.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING":
            return described, execution
        time.sleep(0.02)
    raise AssertionError(f"execution still RUNNING: {described}")


def history_types(client, execution):
    return [e["type"] for e in client.get_execution_history(executionArn=execution)["events"]]


def test_wait_finishes_when_the_sandbox_clock_is_advanced(sfn):
    definition = {
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Seconds": 3600, "Next": "D"}, "D": {"Type": "Succeed"}},
    }
    arn = sfn.create_state_machine(name="w", definition=json.dumps(definition), roleArn=ROLE)[
        "stateMachineArn"
    ]
    execution = sfn.start_execution(stateMachineArn=arn, name="w1", input="{}")["executionArn"]
    time.sleep(0.3)
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    sfn.clock.advance(3600)
    described, _ = finish(sfn, execution)
    assert described["status"] == "SUCCEEDED"


def test_wait_until_a_timestamp_uses_the_sandbox_clock(sfn):
    sfn.clock.advance(10 * 86400)  # the sandbox is ten days ahead of the wall clock
    soon = sfn.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    definition = {
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Timestamp": soon, "End": True}},
    }
    described, _ = run(sfn, definition)
    assert described["status"] == "SUCCEEDED"


def test_intrinsics_choice_map_and_parallel(sfn):
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Pass",
                "Parameters": {
                    "greeting.$": "States.Format('hello {}', $.name)",
                    "items.$": "States.Array(1, 2, 3)",
                    "sum.$": "States.MathAdd($.n, 1)",
                },
                "Next": "C",
            },
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.sum", "NumericGreaterThan": 2, "Next": "Par"}],
                "Default": "No",
            },
            "Par": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "M",
                        "States": {
                            "M": {
                                "Type": "Map",
                                "ItemsPath": "$.items",
                                "ItemProcessor": {
                                    "StartAt": "I",
                                    "States": {"I": {"Type": "Pass", "End": True}},
                                },
                                "End": True,
                            }
                        },
                    },
                    {"StartAt": "G", "States": {"G": {"Type": "Pass", "End": True}}},
                ],
                "ResultSelector": {"mapped.$": "$[0]", "second.$": "$[1]"},
                "OutputPath": "$",
                "End": True,
            },
            "No": {"Type": "Fail", "Error": "TooSmall", "Cause": "n was small"},
        },
    }
    described, _ = run(sfn, definition, {"name": "ada", "n": 2})
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {
        "mapped": [1, 2, 3],
        "second": {"greeting": "hello ada", "items": [1, 2, 3], "sum": 3},
    }


def test_fail_state_carries_error_and_cause(sfn):
    definition = {
        "StartAt": "F",
        "States": {"F": {"Type": "Fail", "Error": "Model.BelowBar", "Cause": "auc 0.61"}},
    }
    described, execution = run(sfn, definition)
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED",
        "Model.BelowBar",
        "auc 0.61",
    )
    assert history_types(sfn, execution)[-1] == "ExecutionFailed"


def test_dynamodb_task_goes_through_the_client_factory(sfn):
    ddb = boto3.client("dynamodb", region_name=REGION)
    ddb.create_table(
        TableName="scores",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    definition = {
        "StartAt": "Put",
        "States": {
            "Put": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:putItem",
                "Parameters": {
                    "TableName": "scores",
                    "Item": {"id": {"S.$": "$.id"}, "score": {"N": "0.9"}},
                },
                "ResultPath": None,
                "End": True,
            }
        },
    }
    described, _ = run(sfn, definition, {"id": "u1"})
    assert described["status"] == "SUCCEEDED"
    assert "dynamodb" in sfn.calls
    assert ddb.get_item(TableName="scores", Key={"id": {"S": "u1"}})["Item"]["score"] == {
        "N": "0.9"
    }


def test_retry_interval_waits_on_the_clock_then_catch(sfn):
    definition = {
        "StartAt": "Get",
        "States": {
            "Get": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:getItem",
                "Parameters": {"TableName": "missing", "Key": {"id": {"S": "x"}}},
                "Retry": [
                    {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 600, "MaxAttempts": 1}
                ],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    arn = sfn.create_state_machine(name="r", definition=json.dumps(definition), roleArn=ROLE)[
        "stateMachineArn"
    ]
    execution = sfn.start_execution(stateMachineArn=arn, name="r1", input="{}")["executionArn"]
    time.sleep(0.5)
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    sfn.clock.advance(600)
    described, _ = finish(sfn, execution)
    assert described["status"] == "SUCCEEDED"
    err = json.loads(described["output"])["err"]
    assert err["Error"].startswith("DynamoDB.")
    assert history_types(sfn, execution).count("TaskScheduled") == 2


def test_sagemaker_training_job_sync_and_create_endpoint(sfn):
    definition = {
        "StartAt": "Train",
        "States": {
            "Train": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
                "Parameters": {
                    "TrainingJobName.$": "$.job",
                    "AlgorithmSpecification": {
                        "TrainingImage": "img",
                        "TrainingInputMode": "File",
                    },
                    "RoleArn": ROLE,
                    "OutputDataConfig": {"S3OutputPath": "s3://b/out"},
                    "ResourceConfig": {
                        "InstanceType": "ml.m5.large",
                        "InstanceCount": 1,
                        "VolumeSizeInGB": 1,
                    },
                    "StoppingCondition": {"MaxRuntimeInSeconds": 60},
                },
                "ResultSelector": {"status.$": "$.TrainingJobStatus"},
                "ResultPath": "$.train",
                "Next": "Model",
            },
            "Model": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createModel",
                "Parameters": {
                    "ModelName": "m",
                    "ExecutionRoleArn": ROLE,
                    "PrimaryContainer": {"Image": "img", "ModelDataUrl": "s3://b/out/model.tar.gz"},
                },
                "ResultPath": None,
                "Next": "Cfg",
            },
            "Cfg": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createEndpointConfig",
                "Parameters": {
                    "EndpointConfigName": "cfg",
                    "ProductionVariants": [
                        {
                            "VariantName": "v",
                            "ModelName": "m",
                            "InstanceType": "ml.m5.large",
                            "InitialInstanceCount": 1,
                        }
                    ],
                },
                "ResultPath": None,
                "Next": "Endpoint",
            },
            "Endpoint": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createEndpoint",
                "Parameters": {"EndpointName": "ep", "EndpointConfigName": "cfg"},
                "ResultSelector": {"arn.$": "$.EndpointArn"},
                "ResultPath": "$.endpoint",
                "End": True,
            },
        },
    }
    described, _ = run(sfn, definition, {"job": "j1"})
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert output["train"] == {"status": "Completed"}
    assert output["endpoint"]["arn"].endswith(":endpoint/ep")
    assert "sagemaker" in sfn.calls


def test_unknown_sagemaker_action_is_refused_at_creation(sfn):
    definition = {
        "StartAt": "T",
        "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::sagemaker:dance", "End": True}
        },
    }
    with pytest.raises(ClientError, match="sagemaker:dance not recognized"):
        sfn.create_state_machine(name="bad", definition=json.dumps(definition), roleArn=ROLE)
