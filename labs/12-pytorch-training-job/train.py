"""Train the churn model in a SageMaker training job (script mode) and export it for serving.

SageMaker runs ``python train.py --epochs 12 --hidden-units 32 --lr 0.003`` (one argument per
hyperparameter) with each channel's files in ``SM_CHANNEL_<NAME>``. Whatever the script leaves
in ``SM_MODEL_DIR`` becomes ``model.tar.gz`` in the job's output path, and every line it prints
goes to the job's log, where the MetricDefinitions' regexes look for metrics.

The artifact holds two files, the contract with whoever serves the model:

- ``model.pt``: a TorchScript module. Given the prepared features (a float32 tensor, one row per
  customer) it returns each customer's churn probability. ``torch.jit.load`` loads it without
  this file's code.
- ``preprocess.json``: how to prepare a customer, learned from the training rows only (see
  ``prepare`` below: the checker and the serving code prepare customers the same way).
"""

import argparse
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

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
LABEL = "churned"


def read_channel(name: str) -> pd.DataFrame:
    """Every CSV file of the channel ``name``, as one frame."""
    folder = Path(os.environ[f"SM_CHANNEL_{name.upper()}"])
    files = sorted(folder.rglob("*.csv"))
    if not files:
        raise FileNotFoundError(f"channel {name} ({folder}) holds no .csv file")
    return pd.concat([pd.read_csv(f) for f in files], ignore_index=True)


def prepare(frame: pd.DataFrame, spec: dict) -> np.ndarray:
    """Customers -> a float32 matrix, exactly as ``spec`` (preprocess.json) says. Do not change.

    Numeric columns, in ``spec["numeric"]`` order: a missing value becomes the column's median,
    then ``(value - mean) / std``. Then each categorical column of ``spec["categorical"]``, in
    order, one-hot over its listed categories (a missing or unknown category is all zeros).
    """
    columns = []
    for name in spec["numeric"]:
        values = pd.to_numeric(frame[name], errors="coerce").astype("float64")
        values = values.fillna(spec["median"][name])
        columns.append((values - spec["mean"][name]) / (spec["std"][name] or 1.0))
    for name, categories in spec["categorical"].items():
        values = frame[name].astype("object")
        columns.extend((values == category).astype("float64") for category in categories)
    return np.column_stack(columns).astype(np.float32)


def roc_auc(labels: torch.Tensor, scores: torch.Tensor) -> float:
    """ROC AUC: the chance that a random churner scores above a random stayer (ties count half)."""
    ranks = pd.Series(scores.numpy()).rank().to_numpy()
    churner = labels.numpy() == 1
    n_pos, n_neg = churner.sum(), (~churner).sum()
    return float((ranks[churner].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def fit_spec(train: pd.DataFrame) -> dict:
    """What ``prepare`` needs, learned from the training rows only (never the validation rows)."""
    # YOUR CODE HERE
    raise NotImplementedError()


def build_model(n_inputs: int, hidden_units: int, dropout: float) -> nn.Module:
    """A small MLP: prepared features in, one logit (log-odds of churn) out per customer."""
    # YOUR CODE HERE
    raise NotImplementedError()


def train(model: nn.Module, data: dict, args: argparse.Namespace) -> None:
    """Fit ``model`` on data["train"]; after each epoch print the metrics of data["validation"]."""
    X_train, y_train = data["train"]
    X_val, y_val = data["validation"]
    # YOUR CODE HERE
    raise NotImplementedError()


def export(model: nn.Module, spec: dict, model_dir: str) -> None:
    """Save model.pt (TorchScript, returning probabilities) and preprocess.json to model_dir."""
    # YOUR CODE HERE
    raise NotImplementedError()
    with open(os.path.join(model_dir, "preprocess.json"), "w") as fh:
        json.dump(spec, fh, indent=2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.003)
    parser.add_argument("--hidden-units", type=int, default=32)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "model"))
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)  # a tiny model: threads cost more than they save

    frames = {"train": read_channel("train"), "validation": read_channel("validation")}
    spec = fit_spec(frames["train"])
    data = {
        name: (
            torch.from_numpy(prepare(frame, spec)),
            torch.tensor(frame[LABEL].to_numpy(), dtype=torch.float32),
        )
        for name, frame in frames.items()
    }
    sizes = ", ".join(f"{name} {len(frame)} rows" for name, frame in frames.items())
    print(f"{sizes}; {data['train'][0].shape[1]} prepared features")
    model = build_model(data["train"][0].shape[1], args.hidden_units, args.dropout)
    train(model, data, args)
    export(model, spec, args.model_dir)
    print(f"saved {sorted(os.listdir(args.model_dir))} to {args.model_dir}")


if __name__ == "__main__":
    main()
