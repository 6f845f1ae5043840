"""The export uploaded as it came, cancellation_reason included.

The column that gives the label away travels into the training channel.
"""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "inputs"
HINT = "leak"


def apply(ctx):
    from sklearn.model_selection import train_test_split

    from crosstrain import datasets

    ref = load_module(Path(__file__).with_name("_cases.py")).solves(ctx)
    frame = datasets.training_frame(datasets.generate(datasets.LEARNER_SEED), include_leak=True)
    train, validation = train_test_split(
        frame, test_size=0.2, stratify=frame["churned"], random_state=42
    )
    s3 = ctx.client("s3")
    ref.upload_data(s3, train, validation)  # the mistake: the leaky column is still there
    ref.upload_source(s3, ctx.solution_file("train.py").read_text())
