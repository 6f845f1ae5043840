"""The starter's handler deployed unchanged: invoking it raises NotImplementedError."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "deploy-function"
HINT = "crash"


def apply(ctx):
    source = ctx.starter_file("function/handler.py").read_text()
    load_module(Path(__file__).with_name("_deploy.py")).deploy(ctx, source)
