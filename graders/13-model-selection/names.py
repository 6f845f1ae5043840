"""Lab 13's names and numbers: where the learner's artifacts live, the bars the checks hold them
to, and the longer hint texts (a sibling module of checks.py)."""

BUCKET, PREFIX = "churn-models", "model-selection/"
COMPARISON_KEY = f"{PREFIX}comparison.json"
TRIALS_KEY = f"{PREFIX}trials.json"
MODEL_KEY, CARD_KEY = f"{PREFIX}model.joblib", f"{PREFIX}model_card.json"
RANKING_METRICS = ("average_precision", "roc_auc")
PUBLIC_SEED, CHECK_CUSTOMERS = 7, 2000
MAX_BUDGET = 120  # seconds: the most a search in this lab may be given
MIN_TRIALS = 3  # a loaded machine runs few trials in a short budget
MARGIN = 0.04  # ROC AUC the chosen model must gain over the baseline on new customers
# How much better the validation score may look than the model does on new customers (average
# precision moves more than ROC AUC between samples of 2,000 customers).
HONEST_GAP = {"average_precision": 0.10, "roc_auc": 0.06}
SAME = 1e-4  # a validation score this close to the test score was measured on the test split
SLOW = 150


PIPELINE_HINT = (
    "Store the whole fitted Pipeline (preparation and model) with joblib, so the artifact takes "
    "the raw feature columns the data card lists."
)


UNBOUNDED = (
    "Give the search a budget and keep to it: study.optimize(objective, timeout=SECONDS, "
    "n_trials=N) (FLAML: time_budget=SECONDS), and write both in the log's budget. Without one a "
    f"search runs as long as anyone lets it; here it gets at most {MAX_BUDGET} s."
)
