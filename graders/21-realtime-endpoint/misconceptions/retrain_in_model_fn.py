"""model_fn trains a fresh model from the data instead of loading the packaged model.joblib.

Every new instance starts slowly, the endpoint needs the training data, and it serves a model
nobody evaluated.
"""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "deploy-endpoint"
HINT = "retrain"

LOAD = """    model = joblib.load(os.path.join(model_dir, "model.joblib"))
    print(f"loaded {type(model[-1]).__name__} from {model_dir}", flush=True)
    return model
"""
RETRAIN = """    from crosstrain import datasets
    from sklearn.compose import make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    data = datasets.training_frame(datasets.generate(datasets.LEARNER_SEED, n_customers=800))
    model = make_pipeline(
        make_column_transformer(
            (make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), NUMERIC),
            (
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
                ),
                CATEGORICAL,
            ),
        ),
        LogisticRegression(max_iter=1000),
    )
    return model.fit(data[FEATURES], data["churned"])
"""


def apply(ctx):
    load_module(Path(__file__).with_name("_lab.py")).deploy_variant(ctx, (LOAD, RETRAIN))
