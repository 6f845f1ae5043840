"""A random forest scored on the rows it was fitted on: every 'fold' reports an AUC near 1.0,
while new customers get about 0.8."""

from pathlib import Path

import sklearn

from crosstrain.labs.catalog import load_module

STEP = "evaluation"
HINT = "optimistic"


def apply(ctx):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import Pipeline

    cases = load_module(Path(__file__).with_name("_cases.py"))
    ref = cases.solves(ctx)
    train, test = cases.training_data(ctx)
    forest = RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=1)
    model = Pipeline([("prepare", ref.build_pipeline().named_steps["prepare"]), ("model", forest)])
    model.fit(train[ref.FEATURES], train["churned"])
    cases.store_model(ctx, model)
    seen = roc_auc_score(train["churned"], model.predict_proba(train[ref.FEATURES])[:, 1])
    unseen = roc_auc_score(test["churned"], model.predict_proba(test[ref.FEATURES])[:, 1])
    cases.store_metadata(
        ctx,
        {
            "features": ref.FEATURES,
            "cv_auc": [round(float(seen), 4)] * 5,  # the mistake: scored on the training rows
            "cv_auc_mean": round(float(seen), 4),
            "holdout": {"auc": round(float(unseen), 4)},
            "sklearn_version": sklearn.__version__,
        },
    )
