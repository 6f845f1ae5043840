"""The "canary" config holds only v2: the update sends all traffic to the new model at once."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "canary-update"
HINT = "canary"


def apply(ctx):
    lab = load_module(Path(__file__).with_name("_lab.py")).solves(ctx)
    lab.package(ctx, "v2")
    lab.recreate_model(ctx, "v2")
    lab.recreate_config(ctx, lab.CONFIG_CANARY, {"v2": 1.0})
    lab.deploy(ctx, lab.CONFIG_CANARY)
