"""Each model cross-validated on its own shuffle (cv=StratifiedKFold(5, shuffle=True) made
afresh, unseeded, per model): the differences between models are partly the folds'."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "compare"
HINT = "same-folds"


def apply(ctx):
    from sklearn.model_selection import StratifiedKFold, cross_validate

    ref = load_module(Path(__file__).with_name("_cases.py")).solves(ctx)
    d, models = ref.data(), []
    for name, make in ref.FAMILIES.items():
        folds = StratifiedKFold(n_splits=5, shuffle=True)  # the mistake: new, unseeded folds
        cv = cross_validate(make(), d["X_train"], d["y_train"], cv=folds, scoring=ref.METRIC)
        scores = [round(float(s), 4) for s in cv["test_score"]]
        models.append(
            {
                "name": name,
                "cv": ref.describe(folds),
                "cv_scores": scores,
                "cv_mean": round(sum(scores) / len(scores), 4),
                "fit_seconds": round(float(cv["fit_time"].sum()), 2),
                "predict_ms_per_1000": 10.0,
            }
        )
    chosen = max(models, key=lambda m: m["cv_mean"])["name"]
    ref.put_json(
        ctx,
        ref.COMPARISON_KEY,
        {"metric": ref.METRIC, "budget_seconds": 60, "models": models, "chosen": chosen},
    )
