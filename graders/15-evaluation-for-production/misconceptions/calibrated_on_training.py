"""The calibrator fitted on the training rows: there the boosted trees are far surer of
themselves than on new customers, so the calibration map is wrong where it matters."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "calibration"
HINT = "calibration-data"


def apply(ctx):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    ref = load_module(Path(__file__).with_name("_cases.py")).solves(ctx)
    d = ref.data()
    wrapper = CalibratedClassifierCV(FrozenEstimator(d["model"]), method="sigmoid")
    wrapper.fit(d["train"][ref.FEATURES], d["train"]["churned"])  # the mistake: training rows
    ref.put_model(ctx, wrapper)
    ref.put_json(ctx, ref.REPORT_KEY, ref.calibrated()["report"])
