"""Revenue computed as a yearly price (x 12) instead of price x months."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "deploy-function"
HINT = "answer"
SOURCE = """def handler(event, context):
    return {"revenue": round(float(event["plan_price"]) * 12, 2)}
"""


def apply(ctx):
    load_module(Path(__file__).with_name("_deploy.py")).deploy(ctx, SOURCE)
