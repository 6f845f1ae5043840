"""The endpoint is deleted and created again on the canary config, instead of updated.

Every request fails until the new endpoint is InService (minutes on AWS).
"""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "canary-update"
HINT = "recreated"


def apply(ctx):
    lab = load_module(Path(__file__).with_name("_lab.py")).solves(ctx)
    lab.package(ctx, "v2")
    lab.recreate_model(ctx, "v2")
    lab.recreate_config(ctx, lab.CONFIG_CANARY, lab.CANARY_WEIGHTS)
    sm = ctx.client("sagemaker")
    sm.delete_endpoint(EndpointName=lab.ENDPOINT)
    sm.create_endpoint(EndpointName=lab.ENDPOINT, EndpointConfigName=lab.CONFIG_CANARY)
    lab.wait(ctx, lab.CONFIG_CANARY)
