"""Checks for 12-pytorch-training-job: they read S3, the training job and its artifact.

The job checked is the newest training job whose name starts with ``churn-pytorch`` (job names
cannot be reused, so every attempt gets a new one). Its ``model.tar.gz`` is opened here; the
learner's ``preprocess.json`` is applied by ``artifact.py``'s own copy of ``prepare`` (the contract
the lab gives), and ``model.pt`` is loaded with ``torch.jit.load`` in a separate process (an
artifact is learner code). It scores customers of a public check seed and, when grading,
customers generated from the course secret.

Steps 1 and 3 are here, step 2 in ``training_checks.py``; what they read of the sandbox is in
``job.py``, the artifact and its scoring in ``artifact.py``.
"""

import json

from botocore.exceptions import ClientError

from crosstrain.labs.checkkit import untar
from crosstrain.labs.checks import Fail, check

from .job import (
    BUCKET,
    CHANNELS,
    CODE_KEY,
    CODE_URI,
    FEATURES,
    ID,
    LABEL,
    LEAK,
    METADATA_KEY,
    METRIC,
    MODEL_KEY,
    MODELS_BUCKET,
    bucket_names,
    channel_frame,
    describe,
    final_metrics,
    keys_under,
    read,
    split_uri,
)
from .training_checks import (  # noqa: F401 - step 2
    job_completed,
    job_configured,
    metric_honest,
    metric_reported,
    model_loads,
    model_scores,
)

# ---------------------------------------------------------------- step 1: inputs


@check(
    "inputs",
    points=2,
    hint=f"Upload the training part of the frame as CSV under {CHANNELS['train']} and the "
    f"validation part under {CHANNELS['validation']}: columns customer_id, the 18 features and "
    "churned.",
    hints={
        "leak": f"Drop {LEAK} before you upload: it is filled in after a customer asks to cancel, "
        "so it is empty for everyone on the day the model predicts. Data a job must not use "
        "should not be in its channel at all.",
        "validation": "Split the customers first (train_test_split(frame, test_size=0.2, "
        "stratify=frame['churned'], random_state=42)), then upload the two parts to the two "
        "prefixes. The validation customers must not be in the training data, or the validation "
        "metric says nothing about new customers.",
    },
)
def data_channels(ctx):
    frames = {channel: channel_frame(ctx, channel) for channel in CHANNELS}
    if frames["train"] is None:
        bucket, prefix = split_uri(CHANNELS["train"])
        held = keys_under(ctx, bucket, "")
        shown = ", ".join(held[:5]) or ("nothing" if bucket in bucket_names(ctx) else "no bucket")
        raise Fail(f"there is no CSV under {CHANNELS['train']} (s3://{bucket} holds: {shown})")
    for channel, frame in frames.items():
        if frame is not None and LEAK in frame.columns:
            raise Fail(f"the {channel} data has the column {LEAK}", hint="leak")
    train, validation = frames["train"], frames["validation"]
    if validation is None:
        raise Fail(f"there is no CSV under {CHANNELS['validation']}", hint="validation")
    for channel, frame in frames.items():
        missing = [c for c in [ID, *FEATURES, LABEL] if c not in frame.columns]
        if missing:
            raise Fail(f"the {channel} data has no column {', '.join(missing)}")
    shared = set(train[ID]) & set(validation[ID])
    if shared:
        raise Fail(
            f"{len(shared)} of the {validation[ID].nunique()} validation customers are also in "
            f"the training data (e.g. {sorted(shared)[0]})",
            hint="validation",
        )
    total = len(train) + len(validation)
    share = len(validation) / total
    if total < 2000 or not 0.1 <= share <= 0.4:
        raise Fail(
            f"train has {len(train)} rows and validation {len(validation)} ({share:.0%}); use "
            "all the customers, about 20 % of them for validation"
        )
    return (
        f"train: {len(train)} customers (churn rate {train[LABEL].mean():.1%}); validation: "
        f"{len(validation)} ({validation[LABEL].mean():.1%}); none in both; no {LEAK}"
    )


@check(
    "inputs",
    points=1,
    hint=f"Pack train.py into a gzipped tar and upload it to {CODE_URI}.",
    hints={
        "layout": "SageMaker unpacks the archive and runs sagemaker_program from its root: add "
        "the file as archive.add('train.py', arcname='train.py'), not the folder that holds it.",
    },
)
def source_archive(ctx):
    data = read(ctx, BUCKET, CODE_KEY)
    if data is None:
        held = keys_under(ctx, BUCKET, "pytorch/code/")
        raise Fail(f"there is no {CODE_URI} (pytorch/code/ holds: {', '.join(held) or 'nothing'})")
    try:
        files = untar(data)
    except ValueError as exc:
        raise Fail(f"{CODE_URI} is {exc}", hint="layout") from None
    if "train.py" in files:
        return f"{CODE_URI} holds {', '.join(sorted(files))}, train.py at the root"
    nested = [name for name in files if name.endswith("/train.py")]
    if nested:
        raise Fail(f"{CODE_URI} holds {nested[0]}, not train.py at its root", hint="layout")
    raise Fail(f"{CODE_URI} holds {sorted(files) or 'nothing'}, no train.py")


# ---------------------------------------------------------------- step 3: publish-model


@check(
    "publish-model",
    points=2,
    hint=f"Copy the job's model.tar.gz (ModelArtifacts.S3ModelArtifacts) unchanged to "
    f"s3://{MODELS_BUCKET}/{MODEL_KEY} and write s3://{MODELS_BUCKET}/{METADATA_KEY} with "
    f"training_job (its name) and validation_auc (its {METRIC}).",
    hints={
        "archive": "Publish the job's model.tar.gz as it is: SageMaker endpoints and the serving "
        "labs download a model.tar.gz and unpack it; a bare model.pt lacks preprocess.json and "
        "the layout they expect.",
    },
)
def model_published(ctx):
    data = read(ctx, MODELS_BUCKET, MODEL_KEY)
    if data is None:
        held = keys_under(ctx, MODELS_BUCKET, "pytorch/")
        shown = ", ".join(held) or "nothing"
        bare = any(key.endswith((".pt", ".pth")) for key in held)
        raise Fail(
            f"there is no s3://{MODELS_BUCKET}/{MODEL_KEY} (pytorch/ holds: {shown})",
            hint="archive" if bare else None,
        )
    body = read(ctx, MODELS_BUCKET, METADATA_KEY)
    try:
        meta = json.loads(body) if body is not None else None
    except ValueError:
        meta = None
    if not isinstance(meta, dict) or not isinstance(meta.get("training_job"), str):
        raise Fail(f"s3://{MODELS_BUCKET}/{METADATA_KEY} is missing or names no training_job")
    name = meta["training_job"]
    try:
        job = describe(ctx, name)
    except ClientError:
        raise Fail(f"metadata names the training job {name!r}, which does not exist") from None
    if job["TrainingJobStatus"] != "Completed":
        raise Fail(f"metadata names {name}, which is {job['TrainingJobStatus']}")
    source = read(ctx, *split_uri((job.get("ModelArtifacts") or {}).get("S3ModelArtifacts", "")))
    if source != data:
        raise Fail(f"the published model.tar.gz is not {name}'s artifact (the bytes differ)")
    reported = final_metrics(job).get(METRIC)
    claimed = meta.get("validation_auc")
    if not isinstance(claimed, int | float) or reported is None or abs(claimed - reported) > 1e-4:
        raise Fail(f"metadata says validation_auc {claimed!r}; {name} reported {reported}")
    return f"s3://{MODELS_BUCKET}/{MODEL_KEY} is {name}'s artifact ({METRIC} {reported:.4f})"
