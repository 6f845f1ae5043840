"""model.pt published alone, taken out of the job's model.tar.gz.

There is no model.tar.gz to deploy and no preprocess.json next to the model.
"""

import io
import json
import tarfile
from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "publish-model"
HINT = "archive"


def apply(ctx):
    ref = load_module(Path(__file__).with_name("_cases.py")).solves(ctx)
    job = ref.latest_completed(ctx)
    s3 = ctx.client("s3")
    bucket, key = job["ModelArtifacts"]["S3ModelArtifacts"].removeprefix("s3://").split("/", 1)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as archive:
        model = archive.extractfile("model.pt").read()
    ref.ensure_bucket(s3, ref.MODELS_BUCKET)
    s3.put_object(Bucket=ref.MODELS_BUCKET, Key="pytorch/model.pt", Body=model)
    metrics = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    metadata = {"training_job": job["TrainingJobName"], "validation_auc": metrics["validation:auc"]}
    s3.put_object(Bucket=ref.MODELS_BUCKET, Key=ref.METADATA_KEY, Body=json.dumps(metadata))
