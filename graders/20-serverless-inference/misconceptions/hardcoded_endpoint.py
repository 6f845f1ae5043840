"""The handler pins boto3 to http://localhost:4566: it breaks on any other port and on AWS."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "deploy-function"
HINT = "endpoint"


def apply(ctx):
    helpers = load_module(Path(__file__).with_name("_lab.py"))
    lab = helpers.solves(ctx)
    lab.deploy(ctx)
    helpers.redeploy_variant(
        ctx,
        'boto3.client("s3")',
        'boto3.client("s3", endpoint_url="http://localhost:4566")',
        validation=False,
        logging=False,
    )
