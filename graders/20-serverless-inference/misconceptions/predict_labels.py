"""The handler returns model.predict (0 or 1) where the business needs a churn probability."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "http-api"
HINT = "probability"


def apply(ctx):
    helpers = load_module(Path(__file__).with_name("_lab.py"))
    helpers.redeploy_variant(
        ctx,
        "MODEL.predict_proba(frame)[:, 1]",
        "MODEL.predict(frame)",
        validation=False,
        logging=False,
    )
    helpers.solves(ctx).create_api(ctx)
