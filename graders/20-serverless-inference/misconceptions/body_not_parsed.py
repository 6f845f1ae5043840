"""Tested by direct invoke with the customers at the top of the event, it fails behind the API,
where the request is a JSON string in event["body"]."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "http-api"
HINT = "crash"


def apply(ctx):
    helpers = load_module(Path(__file__).with_name("_lab.py"))
    lab = helpers.solves(ctx)
    helpers.redeploy_variant(
        ctx, lab.NAIVE_PARSE, 'customers = event["customers"]', validation=False, logging=False
    )
    lab.create_api(ctx)
