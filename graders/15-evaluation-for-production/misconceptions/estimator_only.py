"""The calibrator wraps the boosted trees alone, fitted on features encoded outside the
pipeline: the stored artifact cannot take the raw customer features serving will send."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "calibration"
HINT = "pipeline"


def apply(ctx):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    ref = load_module(Path(__file__).with_name("_cases.py")).solves(ctx)
    d = ref.data()
    prepare, trees = d["model"].named_steps["prepare"], d["model"].named_steps["model"]
    wrapper = CalibratedClassifierCV(FrozenEstimator(trees), method="sigmoid")
    wrapper.fit(prepare.transform(d["calib"][ref.FEATURES]), d["calib"]["churned"])
    ref.put_model(ctx, wrapper)  # the mistake: the preparation is not in the artifact
    ref.put_json(ctx, ref.REPORT_KEY, ref.calibrated()["report"])
