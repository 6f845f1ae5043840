"""The zip holds the folder: function/handler.py, so Lambda finds no handler.py at its root."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "package-artifacts"
HINT = "zip-layout"


def apply(ctx):
    lab = load_module(Path(__file__).with_name("_lab.py")).solves(ctx)
    s3 = ctx.client("s3")
    lab.ensure_bucket(s3)
    s3.put_object(Bucket=lab.BUCKET, Key=lab.MODEL_KEY, Body=lab.train_model())
    source = lab.handler_source(ctx, validation=False, logging=False)
    s3.put_object(Bucket=lab.BUCKET, Key=lab.CODE_KEY, Body=lab.code_zip(source, "function/"))
