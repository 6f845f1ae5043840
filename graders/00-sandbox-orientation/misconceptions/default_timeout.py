"""Deployed without setting the timeout: Lambda's default is 3 s, the step asks for 10 s."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "deploy-function"
HINT = "config"
SOURCE = """def handler(event, context):
    return {"revenue": round(float(event["plan_price"]) * int(event["months"]), 2)}
"""


def apply(ctx):
    load_module(Path(__file__).with_name("_deploy.py")).deploy(ctx, SOURCE, Timeout=3)
