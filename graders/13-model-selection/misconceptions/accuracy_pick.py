"""The comparison picks by accuracy: on churn, where 4 customers in 5 stay, a model that calls
nobody already scores 0.80, and accuracy barely separates the families."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "compare"
HINT = "accuracy"


def apply(ctx):
    from sklearn.model_selection import cross_validate

    ref = load_module(Path(__file__).with_name("_cases.py")).solves(ctx)
    d, models = ref.data(), []
    for name, make in ref.FAMILIES.items():
        cv = cross_validate(make(), d["X_train"], d["y_train"], cv=d["folds"], scoring="accuracy")
        scores = [round(float(s), 4) for s in cv["test_score"]]
        models.append(
            {
                "name": name,
                "cv": ref.describe(d["folds"]),
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
        {"metric": "accuracy", "budget_seconds": 60, "models": models, "chosen": chosen},
    )
