"""The scoring role keeps s3:* on * "because the function writes to S3": it may now read the
training data, delete any object and empty every bucket of the account."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "scope-roles"
HINT = "wildcard"


def apply(ctx):
    helpers = load_module(Path(__file__).with_name("_lab.py"))
    scoring = helpers.policy(("sagemaker:InvokeEndpoint", helpers.ENDPOINT_ARN), ("s3:*", "*"))
    helpers.solves(ctx).scope(ctx, policies={"scoring": scoring})
