"""The search's objective fits on the training part and scores the test part: the model chosen
is the one that happens to do best on those 1,000 customers, and its 'test' score is no test."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "model-card"
HINT = "test-tuning"


def apply(ctx):
    import optuna
    from sklearn.metrics import average_precision_score

    ref = load_module(Path(__file__).with_name("_cases.py")).solves(ctx)
    d = ref.data()

    def objective(trial) -> float:  # the mistake: scored on the test part
        params = {
            "family": "logistic_regression",
            "C": trial.suggest_float("C", 1e-3, 10.0, log=True),
            "class_weight": trial.suggest_categorical("class_weight", ["none", "balanced"]),
        }
        model = ref.build(params).fit(d["X_train"], d["y_train"])
        return float(average_precision_score(d["y_test"], model.predict_proba(d["X_test"])[:, 1]))

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(objective, n_trials=8)
    params = {"family": "logistic_regression", **study.best_params}
    model = ref.build(params).fit(d["X_train"], d["y_train"])
    card = dict(ref.final()["card"])
    card["params"] = params
    card["selected_by"] = {
        "metric": ref.METRIC,
        "validation": "test part",
        "score": study.best_value,
    }
    card["test"] = dict(card["test"], score=round(study.best_value, 4))
    ref.put_model(ctx, model)
    ref.put_json(ctx, ref.CARD_KEY, card)
