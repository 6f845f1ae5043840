"""What a learner sets on SageMaker survives ``sandbox down`` / ``up`` (learner mode, a state dir).

One test per kind of state: endpoint variant weights and instance counts, endpoint configs (and
the config an endpoint was updated to), and finished training job records with their logs.
"""

from __future__ import annotations

import json

import pytest
from support import tgz, wait_for

from crosstrain import sandbox as sandboxes

ROLE = "arn:aws:iam::000000000000:role/sagemaker"
BUCKET = "persist"
LABELLED = """
import json, os
def model_fn(model_dir):
    return open(os.path.join(model_dir, "label.txt")).read()
def transform_fn(model, data, content_type, accept):
    return json.dumps({"label": model}), "application/json"
"""
TRAIN = """
import os
print("epoch=0 loss=0.2500", flush=True)
with open(os.path.join(os.environ["SM_MODEL_DIR"], "weights.txt"), "w") as fh:
    fh.write("w")
"""


def labelled_model(sb, label: str) -> None:
    sb.client("s3").put_object(
        Bucket=BUCKET,
        Key=f"{label}/model.tar.gz",
        Body=tgz({"label.txt": label, "code/inference.py": LABELLED}),
    )
    sb.client("sagemaker").create_model(
        ModelName=label,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": "custom", "ModelDataUrl": f"s3://{BUCKET}/{label}/model.tar.gz"},
    )


def config(sm, name: str, variants: dict[str, tuple[str, float, int]]) -> None:
    """``variants``: variant name -> (model, weight, instance count)."""
    sm.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": variant,
                "ModelName": model,
                "InitialInstanceCount": count,
                "InstanceType": "ml.m5.large",
                "InitialVariantWeight": weight,
            }
            for variant, (model, weight, count) in variants.items()
        ],
    )


def settled(sm, name: str) -> dict:
    return wait_for(
        lambda: sm.describe_endpoint(EndpointName=name),
        lambda d: d["EndpointStatus"] not in ("Creating", "Updating"),
    )


def labels(sb, name: str, times: int = 20) -> set[str]:
    runtime = sb.client("sagemaker-runtime")
    answers = [
        runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body="1")
        for _ in range(times)
    ]
    return {json.loads(a["Body"].read())["label"] for a in answers}


@pytest.fixture
def state(tmp_path):
    return tmp_path / "state"


def test_variant_weights_and_instance_counts_survive_a_restart(state):
    with sandboxes.start(state_dir=state) as first:
        first.client("s3").create_bucket(Bucket=BUCKET)
        sm = first.client("sagemaker")
        labelled_model(first, "blue")
        labelled_model(first, "green")
        config(sm, "split", {"Blue": ("blue", 1.0, 1), "Green": ("green", 1.0, 1)})
        sm.create_endpoint(EndpointName="split", EndpointConfigName="split")
        settled(sm, "split")
        sm.update_endpoint_weights_and_capacities(
            EndpointName="split",
            DesiredWeightsAndCapacities=[
                {"VariantName": "Blue", "DesiredWeight": 0.0},
                {"VariantName": "Green", "DesiredWeight": 1.0, "DesiredInstanceCount": 2},
            ],
        )
        assert labels(first, "split") == {"green"}
        first.flush()

    with sandboxes.start(state_dir=state) as second:
        seen = labels(second, "split")
        variants = second.client("sagemaker").describe_endpoint(EndpointName="split")
        pools = second.health()["runtimes"]["sagemaker"]["endpoints"]["split"]

    assert seen == {"green"}  # the weight the learner set, not the config's initial one
    current = {
        v["VariantName"]: (v["CurrentWeight"], v["CurrentInstanceCount"])
        for v in variants["ProductionVariants"]
    }
    assert current == {"Blue": (0.0, 1), "Green": (1.0, 2)}
    assert pools["Green"]["max"] == 2


def test_endpoint_configs_and_an_updated_endpoint_survive_a_restart(state):
    with sandboxes.start(state_dir=state) as first:
        first.client("s3").create_bucket(Bucket=BUCKET)
        sm = first.client("sagemaker")
        labelled_model(first, "blue")
        labelled_model(first, "green")
        config(sm, "v1", {"AllTraffic": ("blue", 1.0, 1)})
        config(sm, "v2", {"AllTraffic": ("green", 1.0, 1)})
        sm.create_endpoint(EndpointName="ep", EndpointConfigName="v1")
        settled(sm, "ep")
        sm.update_endpoint(EndpointName="ep", EndpointConfigName="v2")
        assert settled(sm, "ep")["EndpointConfigName"] == "v2"
        first.flush()

    with sandboxes.start(state_dir=state) as second:
        sm = second.client("sagemaker")
        names = [c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]]
        v1 = sm.describe_endpoint_config(EndpointConfigName="v1")["ProductionVariants"]
        described = sm.describe_endpoint(EndpointName="ep")
        seen = labels(second, "ep", times=3)

    assert sorted(names) == ["v1", "v2"]
    assert v1[0]["ModelName"] == "blue"
    assert described["EndpointConfigName"] == "v2"
    assert seen == {"green"}


def test_a_finished_training_job_record_survives_a_restart(state):
    with sandboxes.start(state_dir=state) as first:
        s3, sm = first.client("s3"), first.client("sagemaker")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="data/train.csv", Body="1,0\n")
        s3.put_object(Bucket=BUCKET, Key="code/src.tar.gz", Body=tgz({"train.py": TRAIN}))
        sm.create_training_job(
            TrainingJobName="kept",
            RoleArn=ROLE,
            AlgorithmSpecification={
                "TrainingImage": "sklearn",
                "TrainingInputMode": "File",
                "MetricDefinitions": [{"Name": "loss", "Regex": r"loss=([0-9.]+)"}],
            },
            HyperParameters={
                "sagemaker_program": '"train.py"',
                "sagemaker_submit_directory": f'"s3://{BUCKET}/code/src.tar.gz"',
                "epochs": "3",
            },
            InputDataConfig=[
                {
                    "ChannelName": "train",
                    "DataSource": {
                        "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/data"}
                    },
                }
            ],
            OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/output"},
            ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
            StoppingCondition={"MaxRuntimeInSeconds": 120},
        )
        before = wait_for(
            lambda: sm.describe_training_job(TrainingJobName="kept"),
            lambda d: d["TrainingJobStatus"] in ("Completed", "Failed"),
        )
        assert before["TrainingJobStatus"] == "Completed", before.get("FailureReason")
        first.flush()

    with sandboxes.start(state_dir=state) as second:
        sm = second.client("sagemaker")
        after = sm.describe_training_job(TrainingJobName="kept")
        listed = sm.list_training_jobs()["TrainingJobSummaries"]
        logs = second.client("logs").filter_log_events(logGroupName="/aws/sagemaker/TrainingJobs")

    for key in (
        "TrainingJobStatus",
        "SecondaryStatus",
        "ModelArtifacts",
        "FinalMetricDataList",
        "SecondaryStatusTransitions",
        "HyperParameters",
        "TrainingEndTime",
    ):
        assert after[key] == before[key], key
    assert after["FinalMetricDataList"][0]["MetricName"] == "loss"
    assert [j["TrainingJobName"] for j in listed] == ["kept"]
    assert any("epoch=0 loss=0.2500" in e["message"] for e in logs["events"])
