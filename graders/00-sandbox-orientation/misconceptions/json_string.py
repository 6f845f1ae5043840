"""The handler returns json.dumps(...): the caller gets a JSON string inside JSON."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "deploy-function"
HINT = "string"
SOURCE = """import json


def handler(event, context):
    revenue = round(float(event["plan_price"]) * int(event["months"]), 2)
    return json.dumps({"revenue": revenue})
"""


def apply(ctx):
    load_module(Path(__file__).with_name("_deploy.py")).deploy(ctx, SOURCE)
