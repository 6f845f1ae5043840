"""Tenure, fee and age treated as categories and target-encoded on the whole frame before the
split: each customer's encoding holds their own label, cross-validation looks excellent, and on
new customers the model is worse than the baseline."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "model-card"
HINT = "leak"
HIGH_CARDINALITY = ["tenure_months", "monthly_fee", "age"]


def apply(ctx):
    import warnings

    from sklearn.compose import ColumnTransformer
    from sklearn.frozen import FrozenEstimator
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_validate
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler, TargetEncoder

    from crosstrain import datasets

    ref = load_module(Path(__file__).with_name("_cases.py")).solves(ctx)
    d = ref.data()
    frame = datasets.training_frame(datasets.generate(datasets.LEARNER_SEED))
    # The mistake: fitted on every row (test part included) before any split.
    encoder = TargetEncoder(target_type="binary", random_state=0).fit(
        frame[HIGH_CARDINALITY].fillna(-1).to_numpy(), frame["churned"]
    )  # fitted on an array: in the pipeline it receives the imputer's array
    prepare = ColumnTransformer(
        [
            (
                "target",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value=-1), FrozenEstimator(encoder)
                ),
                HIGH_CARDINALITY,
            ),
            (
                "numeric",
                make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                ref.NUMERIC,
            ),
            ("categorical", OneHotEncoder(handle_unknown="ignore"), ref.CATEGORICAL),
        ]
    )
    model = Pipeline([("prepare", prepare), ("model", LogisticRegression(max_iter=1000))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cv = cross_validate(model, d["X_train"], d["y_train"], cv=d["folds"], scoring=ref.METRIC)
        model.fit(d["X_train"], d["y_train"])
    card = dict(ref.final()["card"])
    card["selected_by"] = dict(card["selected_by"], score=round(float(cv["test_score"].mean()), 4))
    from sklearn.metrics import average_precision_score

    score = average_precision_score(d["y_test"], model.predict_proba(d["X_test"])[:, 1])
    card["test"] = dict(card["test"], score=round(float(score), 4))
    ref.put_model(ctx, model)
    ref.put_json(ctx, ref.CARD_KEY, card)
