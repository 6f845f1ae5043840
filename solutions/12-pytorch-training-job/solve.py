"""Solves for 12-pytorch-training-job: inputs in S3, a script-mode training job, a published model.

The helpers here are reused by the grader's misconception cases (loaded with ``load_module``).
"""

import contextlib
import functools
import io
import json
import tarfile
import time

from crosstrain import datasets
from crosstrain.labs.solves import solve, teardown

BUCKET = "churn-training"
TRAIN_KEY = "pytorch/data/train/train.csv"
VALIDATION_KEY = "pytorch/data/validation/validation.csv"
CHANNELS = {
    "train": f"s3://{BUCKET}/pytorch/data/train/",
    "validation": f"s3://{BUCKET}/pytorch/data/validation/",
}
CODE_KEY = "pytorch/code/sourcedir.tar.gz"
CODE_URI = f"s3://{BUCKET}/{CODE_KEY}"
OUTPUT_PATH = f"s3://{BUCKET}/pytorch/jobs"
MODELS_BUCKET = "churn-models"
MODEL_KEY, METADATA_KEY = "pytorch/model.tar.gz", "pytorch/metadata.json"
JOB_PREFIX = "churn-pytorch"
ROLE = "churn-sagemaker"
HYPERPARAMETERS = {"epochs": "8", "lr": "0.003", "hidden-units": "32"}
METRICS = [
    {"Name": "validation:auc", "Regex": r"validation:auc=([0-9.]+)"},
    {"Name": "validation:loss", "Regex": r"validation:loss=([0-9.]+)"},
    {"Name": "train:loss", "Regex": r"train:loss=([0-9.]+)"},
]
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "sagemaker.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


@functools.lru_cache(maxsize=1)
def split() -> tuple:
    """The learner's customers without the leaky column: 80 % train, 20 % validation."""
    from sklearn.model_selection import train_test_split

    frame = datasets.training_frame(datasets.generate(datasets.LEARNER_SEED), include_leak=True)
    frame = frame.drop(columns=datasets.LEAK_COLUMN)
    return tuple(
        train_test_split(frame, test_size=0.2, stratify=frame[datasets.LABEL], random_state=42)
    )


def ensure_bucket(s3, name: str) -> None:
    if name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=name)


def upload_data(s3, train, validation) -> None:
    ensure_bucket(s3, BUCKET)
    for key, frame in ((TRAIN_KEY, train), (VALIDATION_KEY, validation)):
        s3.put_object(Bucket=BUCKET, Key=key, Body=frame.to_csv(index=False).encode())


def source_archive(files: dict[str, str]) -> bytes:
    """A sourcedir.tar.gz holding ``files`` (name -> text) at its root."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), int(time.time())
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def upload_source(s3, source: str) -> None:
    ensure_bucket(s3, BUCKET)
    s3.put_object(Bucket=BUCKET, Key=CODE_KEY, Body=source_archive({"train.py": source}))


def role_arn(iam) -> str:
    try:
        return iam.get_role(RoleName=ROLE)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        return iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"][
            "Arn"
        ]


def job_name() -> str:
    """A new name for every job (names cannot be reused): the prefix, the time, milliseconds."""
    now = time.time()
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now))
    return f"{JOB_PREFIX}-{stamp}-{int(now * 1000) % 1000:03d}"


def start_job(ctx, *, channels=CHANNELS, hyperparameters=HYPERPARAMETERS, metrics=METRICS) -> str:
    """Create a training job as the lab asks (the arguments let the cases get it wrong)."""
    name = job_name()
    ctx.client("sagemaker").create_training_job(
        TrainingJobName=name,
        RoleArn=role_arn(ctx.client("iam")),
        AlgorithmSpecification={
            "TrainingImage": "pytorch-training",
            "TrainingInputMode": "File",
            "MetricDefinitions": metrics,
        },
        HyperParameters={
            "sagemaker_program": "train.py",
            "sagemaker_submit_directory": CODE_URI,
            **hyperparameters,
        },
        InputDataConfig=[
            {
                "ChannelName": channel,
                "ContentType": "text/csv",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": uri,
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
            }
            for channel, uri in channels.items()
        ],
        OutputDataConfig={"S3OutputPath": OUTPUT_PATH},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )
    return name


def wait_job(ctx, name: str, timeout: float = 300) -> dict:
    """Poll until the job is no longer running; its description."""
    sm = ctx.client("sagemaker")
    deadline = time.monotonic() + timeout
    while True:
        job = sm.describe_training_job(TrainingJobName=name)
        if job["TrainingJobStatus"] not in ("InProgress", "Stopping"):
            return job
        if time.monotonic() > deadline:
            raise TimeoutError(f"training job {name} still {job['TrainingJobStatus']}")
        time.sleep(0.5)


def publish(ctx, job: dict) -> None:
    """Copy the job's model.tar.gz to the models bucket, with metadata naming the job."""
    s3 = ctx.client("s3")
    ensure_bucket(s3, MODELS_BUCKET)
    source = job["ModelArtifacts"]["S3ModelArtifacts"].removeprefix("s3://")
    bucket, key = source.split("/", 1)
    s3.copy_object(Bucket=MODELS_BUCKET, Key=MODEL_KEY, CopySource={"Bucket": bucket, "Key": key})
    metrics = {m["MetricName"]: m["Value"] for m in job.get("FinalMetricDataList", [])}
    metadata = {
        "training_job": job["TrainingJobName"],
        "source": job["ModelArtifacts"]["S3ModelArtifacts"],
        "validation_auc": metrics.get("validation:auc"),
        "hyperparameters": {
            k: v for k, v in job["HyperParameters"].items() if not k.startswith("sagemaker_")
        },
    }
    s3.put_object(
        Bucket=MODELS_BUCKET, Key=METADATA_KEY, Body=json.dumps(metadata, indent=2).encode()
    )


@solve("inputs", files=["train.py"])
def inputs(ctx):
    source = ctx.solution_file("train.py").read_text()
    ctx.write("train.py", source)
    s3 = ctx.client("s3")
    upload_data(s3, *split())
    upload_source(s3, source)


@solve("training-job")
def training_job(ctx):
    job = wait_job(ctx, start_job(ctx))
    if job["TrainingJobStatus"] != "Completed":
        raise RuntimeError(f"{job['TrainingJobName']}: {job.get('FailureReason')}")


def latest_completed(ctx) -> dict:
    sm = ctx.client("sagemaker")
    jobs = [
        j
        for page in sm.get_paginator("list_training_jobs").paginate()
        for j in page["TrainingJobSummaries"]
        if j["TrainingJobName"].startswith(JOB_PREFIX) and j["TrainingJobStatus"] == "Completed"
    ]
    if not jobs:
        raise RuntimeError("no completed training job to publish; run the training-job solve")
    newest = max(jobs, key=lambda j: j["CreationTime"])
    return sm.describe_training_job(TrainingJobName=newest["TrainingJobName"])


@solve("publish-model")
def publish_model(ctx):
    publish(ctx, latest_completed(ctx))


def empty_bucket(s3, bucket: str, prefix: str = "") -> None:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=item["Key"])


@teardown
def remove_resources(ctx):
    """Stop running jobs; delete the training bucket, this lab's models and the role."""
    s3, sm, iam = ctx.client("s3"), ctx.client("sagemaker"), ctx.client("iam")
    for page in sm.get_paginator("list_training_jobs").paginate(StatusEquals="InProgress"):
        for job in page["TrainingJobSummaries"]:
            if job["TrainingJobName"].startswith(JOB_PREFIX):
                with contextlib.suppress(sm.exceptions.ClientError):
                    sm.stop_training_job(TrainingJobName=job["TrainingJobName"])
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    if BUCKET in names:
        empty_bucket(s3, BUCKET)
        s3.delete_bucket(Bucket=BUCKET)
    if MODELS_BUCKET in names:
        empty_bucket(s3, MODELS_BUCKET, "pytorch/")  # other labs keep their models here
        if not s3.list_objects_v2(Bucket=MODELS_BUCKET, MaxKeys=1).get("KeyCount"):
            s3.delete_bucket(Bucket=MODELS_BUCKET)
    with contextlib.suppress(iam.exceptions.NoSuchEntityException):
        iam.delete_role(RoleName=ROLE)
