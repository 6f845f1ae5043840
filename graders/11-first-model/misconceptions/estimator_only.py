"""Preprocessing done outside the pipeline (fitted on every row, before the split) and only the
classifier stored: the artifact cannot take raw features, and the scaler saw the test rows."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "model-artifact"
HINT = "pipeline"


def apply(ctx):
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    cases = load_module(Path(__file__).with_name("_cases.py"))
    ref = cases.solves(ctx)
    train, test = cases.training_data(ctx)
    prepare = ref.build_pipeline().named_steps["prepare"]
    prepare.fit(pd.concat([train, test]))  # fitted on every row, test rows included
    model = LogisticRegression(max_iter=1000).fit(prepare.transform(train), train["churned"])
    cases.store_model(ctx, model)  # the mistake: the classifier alone
