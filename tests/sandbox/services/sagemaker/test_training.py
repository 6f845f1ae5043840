"""SageMaker training jobs in script mode: the script runs and its model lands in S3."""

from __future__ import annotations

import io
import json
import tarfile

import joblib
import numpy as np
import pytest
from support import tgz, wait_for

ROLE = "arn:aws:iam::123456789012:role/sagemaker"
BUCKET = "training"
X = np.random.default_rng(3).normal(size=(50, 4))
Y = (X[:, 0] - X[:, 2] > 0).astype(int)

TRAIN = """
import argparse, json, os, sys
import joblib, numpy as np
from sklearn.linear_model import LogisticRegression

parser = argparse.ArgumentParser()
parser.add_argument("--C", type=float, default=1.0)
parser.add_argument("--max-iter", type=int, default=100)
args = parser.parse_args()
data = np.loadtxt(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "part/train.csv"), delimiter=",")
model = LogisticRegression(C=args.C, max_iter=args.max_iter).fit(data[:, 1:], data[:, 0])
for epoch in range(3):
    print(f"epoch={epoch} loss={1.0 / (epoch + 2):.4f}")
print(f"train accuracy: {model.score(data[:, 1:], data[:, 0]):.4f}")
joblib.dump(model, os.path.join(os.environ["SM_MODEL_DIR"], "model.joblib"))
seen = {key: value for key, value in os.environ.items() if key.startswith(("SM_", "AWS_"))}
seen["argv"] = sys.argv[1:]
with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "seen.json"), "w") as fh:
    json.dump(seen, fh)
"""

FAILING = """
def load():
    raise ValueError("column 'label' is missing from train.csv")
print("about to fail")
load()
"""

WRITES_FAILURE = """
import os, sys
with open(os.path.join(os.environ["SM_OUTPUT_DIR"], "failure"), "w") as fh:
    fh.write("the train channel has no label column")
sys.exit(2)
"""

SLEEPY = """
import time
print("sleeping", flush=True)
time.sleep(60)
"""


def members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        return {m.name: archive.extractfile(m).read() for m in archive.getmembers() if m.isfile()}


@pytest.fixture
def s3(sandbox):
    client = sandbox.client("s3")
    client.create_bucket(Bucket=BUCKET)
    rows = "\n".join(",".join(str(v) for v in [y, *x]) for y, x in zip(Y, X, strict=True))
    client.put_object(Bucket=BUCKET, Key="data/train/part/train.csv", Body=rows)
    return client


@pytest.fixture
def sm(sandbox, s3):
    return sandbox.client("sagemaker")


def start_job(s3, sm, name: str, script: str, *, max_runtime: int = 120, **extra) -> None:
    s3.put_object(Bucket=BUCKET, Key=f"code/{name}.tar.gz", Body=tgz({"train.py": script}))
    hyperparameters = {
        "sagemaker_program": '"train.py"',  # JSON-quoted, as the SageMaker Python SDK sends them
        "sagemaker_submit_directory": f'"s3://{BUCKET}/code/{name}.tar.gz"',
        "C": "0.5",
        "max-iter": "200",
    }
    sm.create_training_job(
        TrainingJobName=name,
        RoleArn=ROLE,
        AlgorithmSpecification={
            "TrainingImage": "sklearn",
            "TrainingInputMode": "File",
            "MetricDefinitions": extra.pop("metric_definitions", []),
        },
        HyperParameters=hyperparameters,
        InputDataConfig=[
            {
                "ChannelName": "train",
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/data/train"}
                },
            }
        ],
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/output"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        StoppingCondition={"MaxRuntimeInSeconds": max_runtime},
        **extra,
    )


def finished(sm, name: str) -> dict:
    return wait_for(
        lambda: sm.describe_training_job(TrainingJobName=name),
        lambda d: d["TrainingJobStatus"] not in ("InProgress", "Stopping"),
    )


def test_job_runs_the_script_and_uploads_the_model(s3, sm):
    start_job(s3, sm, "fit", TRAIN)
    assert sm.describe_training_job(TrainingJobName="fit")["TrainingJobStatus"] == "InProgress"

    described = finished(sm, "fit")

    assert described["TrainingJobStatus"] == "Completed"
    artifact = f"s3://{BUCKET}/output/fit/output/model.tar.gz"
    assert described["ModelArtifacts"]["S3ModelArtifacts"] == artifact
    archive = members(
        s3.get_object(Bucket=BUCKET, Key="output/fit/output/model.tar.gz")["Body"].read()
    )
    model = joblib.load(io.BytesIO(archive["model.joblib"]))
    assert model.C == 0.5 and model.max_iter == 200
    assert model.score(X, Y) > 0.8
    transitions = [t["Status"] for t in described["SecondaryStatusTransitions"]]
    assert transitions == ["Starting", "Downloading", "Training", "Uploading", "Completed"]


def test_script_gets_the_conventional_environment_and_arguments(s3, sm, sandbox):
    start_job(s3, sm, "env", TRAIN, Environment={"STAGE": "test"})
    assert finished(sm, "env")["TrainingJobStatus"] == "Completed"

    output = s3.get_object(Bucket=BUCKET, Key="output/env/output/output.tar.gz")["Body"].read()
    seen = json.loads(members(output)["seen.json"])

    assert seen["argv"] == ["--C", "0.5", "--max-iter", "200"]
    assert json.loads(seen["SM_HPS"]) == {"C": 0.5, "max-iter": 200}
    assert seen["SM_HP_C"] == "0.5"
    assert json.loads(seen["SM_CHANNELS"]) == ["train"]
    assert seen["SM_CHANNEL_TRAIN"].endswith("/input/data/train")
    assert seen["SM_MODEL_DIR"].endswith("/model")
    assert seen["SM_OUTPUT_DATA_DIR"].endswith("/output/data")
    assert seen["AWS_ENDPOINT_URL"] == sandbox.endpoint_url


def test_trained_model_deploys_and_answers_like_itself(s3, sm, sandbox):
    start_job(s3, sm, "deployme", TRAIN)
    artifact = finished(sm, "deployme")["ModelArtifacts"]["S3ModelArtifacts"]
    archive = members(s3.get_object(Bucket=BUCKET, Key=artifact.split("/", 3)[3])["Body"].read())
    model = joblib.load(io.BytesIO(archive["model.joblib"]))

    sm.create_model(ModelName="trained", ExecutionRoleArn=ROLE,
                    PrimaryContainer={"Image": "sklearn", "ModelDataUrl": artifact})  # fmt: skip
    sm.create_endpoint_config(
        EndpointConfigName="trained",
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "trained",
                             "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
    )  # fmt: skip
    sm.create_endpoint(EndpointName="trained", EndpointConfigName="trained")
    status = wait_for(
        lambda: sm.describe_endpoint(EndpointName="trained")["EndpointStatus"],
        lambda s: s != "Creating",
    )
    held_out = np.random.default_rng(11).normal(size=(20, 4))
    answer = sandbox.client("sagemaker-runtime").invoke_endpoint(
        EndpointName="trained",
        ContentType="text/csv",
        Body="\n".join(",".join(str(v) for v in row) for row in held_out),
    )

    assert status == "InService"
    assert json.loads(answer["Body"].read()) == model.predict(held_out).tolist()


def test_a_script_that_raises_fails_the_job_with_the_error(s3, sm):
    start_job(s3, sm, "boom", FAILING)
    described = finished(sm, "boom")

    assert described["TrainingJobStatus"] == "Failed"
    reason = described["FailureReason"]
    assert reason.startswith("AlgorithmError: ExecuteUserScriptError:")
    assert "ValueError: column 'label' is missing from train.csv" in reason
    assert "ExitCode 1" in reason
    assert "ModelArtifacts" not in described


def test_the_failure_file_becomes_the_failure_reason(s3, sm):
    start_job(s3, sm, "explained", WRITES_FAILURE)
    described = finished(sm, "explained")
    assert described["TrainingJobStatus"] == "Failed"
    assert 'ErrorMessage "the train channel has no label column"' in described["FailureReason"]


def test_metric_definitions_fill_final_metric_data(s3, sm, sandbox):
    definitions = [
        {"Name": "train:loss", "Regex": r"loss=([0-9.]+)"},
        {"Name": "train:accuracy", "Regex": r"train accuracy: ([0-9.]+)"},
    ]
    start_job(s3, sm, "metrics", TRAIN, metric_definitions=definitions)
    described = finished(sm, "metrics")

    final = {m["MetricName"]: m["Value"] for m in described["FinalMetricDataList"]}
    assert final["train:loss"] == pytest.approx(0.25)
    assert 0.8 < final["train:accuracy"] <= 1.0
    assert described["AlgorithmSpecification"]["MetricDefinitions"] == definitions


def log_text(sandbox) -> str:
    logs = sandbox.client("logs")
    try:
        events = logs.filter_log_events(logGroupName="/aws/sagemaker/TrainingJobs")["events"]
    except logs.exceptions.ResourceNotFoundException:
        return ""
    return "\n".join(event["message"] for event in events)


def test_logs_go_to_cloudwatch(s3, sm, sandbox):
    start_job(s3, sm, "logged", TRAIN)
    finished(sm, "logged")

    logs = sandbox.client("logs")
    group = "/aws/sagemaker/TrainingJobs"
    streams = [
        s["logStreamName"] for s in logs.describe_log_streams(logGroupName=group)["logStreams"]
    ]
    text = log_text(sandbox)

    assert len(streams) == 1 and streams[0].startswith("logged/algo-1-")
    assert "epoch=2 loss=0.2500" in text


def test_stop_training_job_stops_the_script(s3, sm, sandbox):
    start_job(s3, sm, "stopme", SLEEPY)
    wait_for(lambda: log_text(sandbox), lambda text: "sleeping" in text)

    sm.stop_training_job(TrainingJobName="stopme")

    described = finished(sm, "stopme")
    assert described["TrainingJobStatus"] == "Stopped"
    assert described["SecondaryStatus"] == "Stopped"


def test_max_runtime_stops_the_job(s3, sm):
    start_job(s3, sm, "slow", SLEEPY, max_runtime=1)
    described = finished(sm, "slow")
    assert described["TrainingJobStatus"] == "Stopped"
    assert described["SecondaryStatus"] == "MaxRuntimeExceeded"


def test_a_job_without_a_script_fails_with_a_hint(s3, sm):
    sm.create_training_job(
        TrainingJobName="builtin",
        RoleArn=ROLE,
        AlgorithmSpecification={"TrainingImage": "xgboost:1", "TrainingInputMode": "File"},
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/output"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        StoppingCondition={"MaxRuntimeInSeconds": 60},
    )
    described = finished(sm, "builtin")
    assert described["TrainingJobStatus"] == "Failed"
    assert "sagemaker_program" in described["FailureReason"]


def test_a_job_cut_short_by_a_sandbox_restart_fails(tmp_path):
    from crosstrain import sandbox as sandboxes

    state = tmp_path / "state"
    with sandboxes.start(state_dir=state) as first:
        s3, sm = first.client("s3"), first.client("sagemaker")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="data/train/part/train.csv", Body="1,0\n")
        start_job(s3, sm, "cut", SLEEPY)
        wait_for(lambda: log_text(first), lambda text: "sleeping" in text)
        first.flush()

    with sandboxes.start(state_dir=state) as second:
        described = second.client("sagemaker").describe_training_job(TrainingJobName="cut")

    assert described["TrainingJobStatus"] == "Failed"
    assert "the sandbox stopped while this job ran" in described["FailureReason"]


def script_less_job(sm, name: str) -> None:
    """A job that fails at once (no sagemaker_program): cheap to make in numbers."""
    sm.create_training_job(
        TrainingJobName=name,
        RoleArn=ROLE,
        AlgorithmSpecification={"TrainingImage": "xgboost:1", "TrainingInputMode": "File"},
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/output"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        StoppingCondition={"MaxRuntimeInSeconds": 60},
    )
    finished(sm, name)


def test_list_training_jobs_sorts_filters_then_pages(s3, sm):
    for name in ("bravo", "alpha", "charlie", "delta"):
        script_less_job(sm, name)
    start_job(s3, sm, "echo-running", SLEEPY)

    def names(**kwargs) -> list[str]:
        listed = sm.list_training_jobs(**kwargs)["TrainingJobSummaries"]
        return [s["TrainingJobName"] for s in listed]

    assert names() == ["bravo", "alpha", "charlie", "delta", "echo-running"]  # creation order
    assert names(SortBy="Name", SortOrder="Descending") == [
        "echo-running", "delta", "charlie", "bravo", "alpha",
    ]  # fmt: skip
    first = sm.list_training_jobs(SortBy="Name", MaxResults=2, StatusEquals="Failed")
    assert [s["TrainingJobName"] for s in first["TrainingJobSummaries"]] == ["alpha", "bravo"]
    rest = names(SortBy="Name", MaxResults=2, StatusEquals="Failed", NextToken=first["NextToken"])
    assert rest == ["charlie", "delta"]  # filtered before paging: the running job is not counted
    assert names(NameContains="ar") == ["charlie"]
    sm.stop_training_job(TrainingJobName="echo-running")


def test_list_training_jobs_rejects_a_bad_sort_key(sm):
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError, match="sortBy"):
        sm.list_training_jobs(SortBy="Colour")


def test_delete_training_job_forgets_a_finished_job_only(s3, sm):
    from botocore.exceptions import ClientError

    script_less_job(sm, "done")
    start_job(s3, sm, "busy", SLEEPY)
    with pytest.raises(ClientError, match="only a Completed, Failed or Stopped job"):
        sm.delete_training_job(TrainingJobName="busy")

    sm.delete_training_job(TrainingJobName="done")

    listed = [s["TrainingJobName"] for s in sm.list_training_jobs()["TrainingJobSummaries"]]
    assert listed == ["busy"]
    with pytest.raises(ClientError, match="does not exist"):
        sm.delete_training_job(TrainingJobName="done")
    sm.stop_training_job(TrainingJobName="busy")
