"""The scoring role allows s3:PutObject on arn:aws:s3:::churn-lp-data/scores, without /*: that
ARN names no object, so every score the function writes is denied."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "scope-roles"
HINT = "object-arn"


def apply(ctx):
    helpers = load_module(Path(__file__).with_name("_lab.py"))
    scoring = helpers.policy(
        ("sagemaker:InvokeEndpoint", helpers.ENDPOINT_ARN),
        ("s3:PutObject", f"arn:aws:s3:::{helpers.BUCKET}/scores"),
    )
    helpers.solves(ctx).scope(ctx, policies={"scoring": scoring})
