"""Memory raised by hand with update_function_configuration: the stack no longer describes it."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "change-set"
HINT = "drift"


def apply(ctx):
    lab = load_module(Path(__file__).with_name("_lab.py")).solves(ctx)
    ctx.client("lambda").update_function_configuration(
        FunctionName=lab.outputs(ctx)["FunctionName"], MemorySize=1024
    )
