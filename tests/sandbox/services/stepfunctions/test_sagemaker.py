"""A Step Functions training step waits (.sync) for a SageMaker training job that really runs."""

from __future__ import annotations

import json
import time

from support import tgz

ROLE = "arn:aws:iam::123456789012:role/pipeline"

TRAIN = """
import os, joblib
from sklearn.dummy import DummyClassifier
print("training")
model = DummyClassifier().fit([[0], [1]], [0, 1])
joblib.dump(model, os.path.join(os.environ["SM_MODEL_DIR"], "m.joblib"))
"""

FAILS = """
raise SystemExit("no training data")
"""


def definition(job_field: str) -> dict:
    return {
        "StartAt": "Train",
        "States": {
            "Train": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
                "Parameters": {
                    "TrainingJobName.$": job_field,
                    "RoleArn": ROLE,
                    "AlgorithmSpecification": {
                        "TrainingImage": "sklearn",
                        "TrainingInputMode": "File",
                    },
                    "HyperParameters": {
                        "sagemaker_program": '"train.py"',
                        "sagemaker_submit_directory.$": "$.code",
                    },
                    "OutputDataConfig": {"S3OutputPath": "s3://pipeline/output"},
                    "ResourceConfig": {
                        "InstanceType": "ml.m5.large",
                        "InstanceCount": 1,
                        "VolumeSizeInGB": 1,
                    },
                    "StoppingCondition": {"MaxRuntimeInSeconds": 120},
                },
                "ResultSelector": {
                    "status.$": "$.TrainingJobStatus",
                    "model.$": "$.ModelArtifacts.S3ModelArtifacts",
                },
                "End": True,
            }
        },
    }


def run(sandbox, script: str, job: str) -> dict:
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="pipeline")
    s3.put_object(Bucket="pipeline", Key=f"code/{job}.tar.gz", Body=tgz({"train.py": script}))
    sfn = sandbox.client("stepfunctions")
    arn = sfn.create_state_machine(
        name=f"train-{job}", definition=json.dumps(definition("$.job")), roleArn=ROLE
    )["stateMachineArn"]
    code = json.dumps(f"s3://pipeline/code/{job}.tar.gz")
    execution = sfn.start_execution(
        stateMachineArn=arn, input=json.dumps({"job": job, "code": code})
    )["executionArn"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.2)
    raise AssertionError("the training step never finished")


def test_training_step_waits_for_the_real_job(sandbox):
    described = run(sandbox, TRAIN, "fit-1")
    assert described["status"] == "SUCCEEDED", described.get("cause")
    output = json.loads(described["output"])
    assert output["status"] == "Completed"
    key = output["model"].removeprefix("s3://pipeline/")
    assert sandbox.client("s3").head_object(Bucket="pipeline", Key=key)["ContentLength"] > 0


def test_a_failed_job_fails_the_step_with_its_description(sandbox):
    described = run(sandbox, FAILS, "fit-2")
    assert described["status"] == "FAILED"
    assert described["error"] == "States.TaskFailed"
    assert json.loads(described["cause"])["TrainingJobStatus"] == "Failed"
