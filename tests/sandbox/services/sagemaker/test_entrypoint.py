"""Training jobs with a ContainerEntrypoint (the SageMaker Python SDK v3's ModelTrainer): the
command runs as in the container, with ``/opt/ml`` mapped to the job's folder and the sandbox's
Python as ``python3``."""

from __future__ import annotations

import io
import tarfile

from support import wait_for

ROLE = "arn:aws:iam::000000000000:role/sagemaker"
BUCKET = "model-trainer"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
# The launcher, in the sm_drivers channel: reads the container's files by absolute path.
LAUNCH = """#!/bin/bash
set -e
SM_PYTHON_CMD=$(command -v python3)
cat /opt/ml/input/config/hyperparameters.json
cd /opt/ml/input/data/code
$SM_PYTHON_CMD train.py
"""
TRAIN = """
import json, os
hps = json.load(open("/opt/ml/input/config/hyperparameters.json"))
rows = open("/opt/ml/input/data/train/rows.csv").read().split()
with open("/opt/ml/model/summary.json", "w") as fh:
    json.dump({"rows": len(rows), "hps": hps}, fh)
print("trained on", len(rows), "rows", flush=True)
"""
FAILS = """#!/bin/bash
echo "the launcher could not find its driver" > /opt/ml/output/failure
exit 3
"""


def channel(name: str, prefix: str) -> dict:
    source = {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/{prefix}"}
    return {"ChannelName": name, "DataSource": {"S3DataSource": source}}


def start(sandbox, name: str, launcher: str) -> dict:
    s3, sm = sandbox.client("s3"), sandbox.client("sagemaker")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=f"{name}/drivers/sm_train.sh", Body=launcher)
    s3.put_object(Bucket=BUCKET, Key=f"{name}/code/train.py", Body=TRAIN)
    s3.put_object(Bucket=BUCKET, Key=f"{name}/data/rows.csv", Body="1\n2\n3\n")
    sm.create_training_job(
        TrainingJobName=name,
        RoleArn=ROLE,
        AlgorithmSpecification={
            "TrainingImage": IMAGE,
            "TrainingInputMode": "File",
            "ContainerEntrypoint": ["/bin/bash"],
            "ContainerArguments": [
                "-c",
                "chmod +x /opt/ml/input/data/sm_drivers/sm_train.sh "
                "&& /opt/ml/input/data/sm_drivers/sm_train.sh",
            ],
        },
        HyperParameters={"epochs": "3", "lr": '"0.1"'},
        InputDataConfig=[
            channel("train", f"{name}/data"),
            channel("code", f"{name}/code"),
            channel("sm_drivers", f"{name}/drivers"),
        ],
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/output"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        StoppingCondition={"MaxRuntimeInSeconds": 120},
    )
    return wait_for(
        lambda: sm.describe_training_job(TrainingJobName=name),
        lambda d: d["TrainingJobStatus"] not in ("InProgress", "Stopping"),
    )


def test_the_entrypoint_runs_with_opt_ml_mapped(sandbox):
    import json

    described = start(sandbox, "v3job", LAUNCH)

    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    key = "output/v3job/output/model.tar.gz"
    data = sandbox.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        summary = json.loads(archive.extractfile("summary.json").read())
    assert summary == {"rows": 3, "hps": {"epochs": "3", "lr": '"0.1"'}}  # as sent, as on AWS


def test_a_failing_entrypoint_reports_the_failure_file(sandbox):
    described = start(sandbox, "v3fail", FAILS)

    assert described["TrainingJobStatus"] == "Failed"
    assert "the launcher could not find its driver" in described["FailureReason"]
    assert "ExitCode 3" in described["FailureReason"]
