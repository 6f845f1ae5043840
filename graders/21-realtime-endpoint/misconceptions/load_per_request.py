"""model_fn returns the folder and predict_fn unpickles model.joblib on every request."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "deploy-endpoint"
HINT = "per-request"

LOAD = """    model = joblib.load(os.path.join(model_dir, "model.joblib"))
    print(f"loaded {type(model[-1]).__name__} from {model_dir}", flush=True)
    return model
"""
PREDICT = "    return model.predict_proba(frame)[:, 1]\n"


def apply(ctx):
    load_module(Path(__file__).with_name("_lab.py")).deploy_variant(
        ctx,
        (LOAD, "    return model_dir  # loaded when a request comes\n"),
        (PREDICT, '    model = joblib.load(os.path.join(model, "model.joblib"))\n' + PREDICT),
    )
