"""What the checks of 12-pytorch-training-job read from the sandbox: the lab's names, S3 objects and
channels, the newest training job, its metrics and its log."""

import io
import json
import re

import pandas as pd
from botocore.exceptions import ClientError

from crosstrain import datasets
from crosstrain.labs.checks import Fail

BUCKET = "churn-training"
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
LOG_GROUP = "/aws/sagemaker/TrainingJobs"
HYPERPARAMETERS = ("epochs", "lr", "hidden-units")
METRIC = "validation:auc"
PUBLIC_SEED, CHECK_CUSTOMERS = 7, 2000  # learners' checks score this seed's customers
MIN_AUC = 0.75  # the reference network scores about 0.79; ignoring the features scores 0.5
HONEST_TOLERANCE = 0.003  # reported vs measured validation AUC (printed to 4 decimals)
LEAK, LABEL, ID = datasets.LEAK_COLUMN, datasets.LABEL, "customer_id"
FEATURES = list(datasets.FEATURES)


# ---------------------------------------------------------------- S3 and the job


def bucket_names(ctx) -> list[str]:
    return [b["Name"] for b in ctx.client("s3").list_buckets()["Buckets"]]


def split_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def keys_under(ctx, bucket: str, prefix: str) -> list[str]:
    if bucket not in bucket_names(ctx):
        return []
    pages = ctx.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def read(ctx, bucket: str, key: str) -> bytes | None:
    try:
        return ctx.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError:
        return None


def channel_frame(ctx, channel: str) -> pd.DataFrame | None:
    """Every CSV object under the channel's prefix as one frame (``None`` when there is none)."""
    bucket, prefix = split_uri(CHANNELS[channel])
    keys = [k for k in keys_under(ctx, bucket, prefix) if k.endswith(".csv")]
    if not keys:
        return None
    frames = []
    for key in keys:
        try:
            frames.append(pd.read_csv(io.BytesIO(read(ctx, bucket, key) or b"")))
        except (ValueError, pd.errors.ParserError) as exc:
            raise Fail(f"s3://{bucket}/{key} is not a readable CSV: {exc}") from None
    return pd.concat(frames, ignore_index=True)


def jobs(ctx) -> list[dict]:
    sm = ctx.client("sagemaker")
    found = [
        job
        for page in sm.get_paginator("list_training_jobs").paginate()
        for job in page["TrainingJobSummaries"]
        if job["TrainingJobName"].startswith(JOB_PREFIX)
    ]
    return sorted(found, key=lambda job: job["CreationTime"])


def describe(ctx, name: str) -> dict:
    return ctx.client("sagemaker").describe_training_job(TrainingJobName=name)


def latest_job(ctx) -> dict:
    found = jobs(ctx)
    if not found:
        raise Fail(f"there is no training job whose name starts with {JOB_PREFIX}")
    return describe(ctx, found[-1]["TrainingJobName"])


def decode(value: str):
    """A hyperparameter as the job received it (the SDK JSON-quotes values)."""
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def final_metrics(job: dict) -> dict[str, float]:
    return {m["MetricName"]: m["Value"] for m in job.get("FinalMetricDataList") or []}


def job_log(ctx, name: str) -> list[str]:
    logs = ctx.client("logs")
    try:
        streams = logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix=f"{name}/")
    except ClientError:
        return []
    lines = []
    for stream in streams.get("logStreams", []):
        events = logs.get_log_events(
            logGroupName=LOG_GROUP, logStreamName=stream["logStreamName"], startFromHead=True
        )
        lines.extend(event["message"] for event in events["events"])
    return lines


def failure_summary(reason: str) -> str:
    """The exception and where it was raised, from a FailureReason holding a traceback."""
    match = re.search(r'ErrorMessage "(.*)"\s*Command', reason, re.S)
    lines = [line.strip() for line in (match.group(1) if match else "").splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return " ".join(reason.split())[-400:]
    frames = [
        found
        for line in lines
        for found in re.findall(r'File "[^"]*?([^/"]+)", line (\d+), in (\S+)', line)
    ]
    where = f" (raised in {frames[-1][2]}, {frames[-1][0]} line {frames[-1][1]})" if frames else ""
    return f"{lines[-1][:300]}{where}"
