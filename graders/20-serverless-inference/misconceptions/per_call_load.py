"""The handler downloads and unpickles the model on every request instead of once per worker."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "deploy-function"
HINT = "per-call"


def apply(ctx):
    helpers = load_module(Path(__file__).with_name("_lab.py"))
    lab = helpers.solves(ctx)
    source = lab.handler_source(ctx, validation=False, logging=False)
    source = lab.replace(source, "MODEL = load_model(MODEL_URI)\n", "")
    source = lab.replace(source, "MODEL.predict_proba", "load_model(MODEL_URI).predict_proba")
    lab.upload_code(ctx, source, write=False)
    lab.deploy(ctx)
