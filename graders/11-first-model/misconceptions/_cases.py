"""Shared by the cases (not a case): the reference solve module and storing artifacts."""

import io
import json

import joblib

from crosstrain.labs.catalog import load_module


def solves(ctx):
    return load_module(ctx.solution_file("solve.py"))


def store_model(ctx, model) -> None:
    ref = solves(ctx)
    s3 = ctx.client("s3")
    ref.ensure_bucket(s3)
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    s3.put_object(Bucket=ref.BUCKET, Key=ref.MODEL_KEY, Body=buffer.getvalue())


def store_metadata(ctx, meta: dict) -> None:
    ref = solves(ctx)
    body = json.dumps(meta, indent=2).encode()
    ctx.client("s3").put_object(Bucket=ref.BUCKET, Key=ref.METADATA_KEY, Body=body)


def training_data(ctx):
    """The learner's frame (with the leaky column) split as the reference splits it."""
    from sklearn.model_selection import train_test_split

    from crosstrain import datasets

    frame = datasets.training_frame(datasets.generate(datasets.LEARNER_SEED), include_leak=True)
    train, test = train_test_split(
        frame, test_size=0.2, stratify=frame[datasets.LABEL], random_state=42
    )
    return train, test
