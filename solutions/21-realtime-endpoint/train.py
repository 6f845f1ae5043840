"""The two versions of the churn model this lab serves. Train them unchanged: the checks compare
your endpoint's answers with these recipes.

- v1: logistic regression on imputed, scaled numbers and one-hot categories (as in lab 11).
- v2: gradient-boosted trees on the same 18 features; a little better (AUC about 0.80 against
  0.78 on held-out customers), so the business wants it live, carefully.
"""

from sklearn.compose import make_column_transformer
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

CATEGORICAL = ["plan", "contract_type", "payment_method", "region"]
NUMERIC = [
    "tenure_months",
    "age",
    "monthly_fee",
    "list_price",
    "fee_vs_list",
    "failed_payments_12m",
    "months_of_usage",
    "active_days_3m",
    "sessions_3m",
    "data_gb_3m",
    "usage_change",
    "tickets_12m",
    "open_tickets",
    "satisfaction_mean",
]
FEATURES = CATEGORICAL + NUMERIC  # the order of the columns in a CSV request


def training_data():
    """One row per customer of the learner's dataset, with the label ``churned``."""
    from crosstrain import datasets

    return datasets.training_frame(datasets.generate(datasets.LEARNER_SEED))


def categories():
    return make_pipeline(
        SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
    )


def train_v1(frame):
    """Model v1: logistic regression."""
    model = make_pipeline(
        make_column_transformer(
            (make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), NUMERIC),
            (categories(), CATEGORICAL),
        ),
        LogisticRegression(max_iter=1000),
    )
    return model.fit(frame[FEATURES], frame["churned"])


def train_v2(frame):
    """Model v2: gradient-boosted trees (no scaling needed)."""
    model = make_pipeline(
        make_column_transformer(
            (SimpleImputer(strategy="median"), NUMERIC),
            (categories(), CATEGORICAL),
        ),
        GradientBoostingClassifier(n_estimators=80, max_depth=3, random_state=0),
    )
    return model.fit(frame[FEATURES], frame["churned"])
