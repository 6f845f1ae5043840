"""The newest job's artifact: its ``preprocess.json`` checked and applied here (the lab's contract),
its ``model.pt`` scored by the learner-code service (never loaded in this process) on the check
sets and the validation channel."""

import functools
import io
import json
import math

import numpy as np
import pandas as pd

from crosstrain import datasets
from crosstrain.labs.checkkit import untar
from crosstrain.labs.checks import Fail
from crosstrain.labs.learnercode import LearnerCodeError

from .job import (
    CHECK_CUSTOMERS,
    FEATURES,
    LABEL,
    PUBLIC_SEED,
    channel_frame,
    latest_job,
    read,
    split_uri,
)

# ---------------------------------------------------------------- the artifact


def spec_problems(spec) -> list[str]:
    """What keeps ``spec`` (preprocess.json) from being the contract ``prepare`` reads."""
    if not isinstance(spec, dict):
        return [f"it holds a {type(spec).__name__}, not a JSON object"]
    missing = [k for k in ("numeric", "median", "mean", "std", "categorical") if k not in spec]
    if missing:
        return [f"it has no {', '.join(missing)} (it has {', '.join(sorted(spec)) or 'nothing'})"]
    problems = []
    numeric, categorical = spec["numeric"], spec["categorical"]
    if not isinstance(numeric, list) or not all(isinstance(n, str) for n in numeric):
        return ["numeric must be a list of column names"]
    if not isinstance(categorical, dict) or not all(
        isinstance(v, list) and all(isinstance(c, str) for c in v) for v in categorical.values()
    ):
        return ["categorical must map each column to the list of its categories"]
    for stat in ("median", "mean", "std"):
        values = spec[stat]
        bad = [
            n
            for n in numeric
            if not isinstance(values, dict)
            or not isinstance(values.get(n), int | float)
            or not math.isfinite(values[n])
        ]
        if bad:
            problems.append(f"{stat} has no number for {', '.join(bad[:3])}")
    unknown = [c for c in [*numeric, *categorical] if c not in FEATURES]
    if unknown:
        problems.append(f"it reads columns that are not features of the data card: {unknown}")
    if not numeric and not categorical:
        problems.append("it lists no column at all")
    return problems


def prepare(frame: pd.DataFrame, spec: dict) -> np.ndarray:
    """The lab's ``prepare`` (train.py): customers -> float32 matrix, as ``spec`` says."""
    columns = []
    for name in spec["numeric"]:
        values = pd.to_numeric(frame[name], errors="coerce").astype("float64")
        values = values.fillna(spec["median"][name])
        columns.append((values - spec["mean"][name]) / (spec["std"][name] or 1.0))
    for name, categories in spec["categorical"].items():
        values = frame[name].astype("object")
        columns.extend((values == category).astype("float64") for category in categories)
    return np.column_stack(columns).astype(np.float32)


@functools.lru_cache(maxsize=4)
def check_frame(seed: int) -> pd.DataFrame:
    """Customers of ``seed`` with the features of the data card and the label."""
    return datasets.training_frame(datasets.generate(seed, n_customers=CHECK_CUSTOMERS))


def check_sets(ctx) -> list[tuple[str, int]]:
    found = [("check data", PUBLIC_SEED)]
    if ctx.hidden:
        found.append(("hidden data", datasets.hidden_seed(ctx.hidden.secret.decode())))
    return found


# Runs in the submission's confinement (the learner-code service), never in the checker.
SCORER = """
import json, sys
import numpy as np
import torch

torch.set_num_threads(1)
model_path, *inputs = sys.argv[1:]
info = {}
try:
    model = torch.jit.load(model_path, map_location="cpu")
except Exception as exc:
    text = str(exc).strip().splitlines()
    first = text[0].split(". ")[0] if text else ""
    info["load_error"] = f"{type(exc).__name__}: {first}"[:300]
else:
    info["train_mode"] = [
        f"{module.original_name} at {name or 'the top'}"
        for name, module in model.named_modules()
        if module.training
        and any(k in module.original_name.lower() for k in ("dropout", "batchnorm"))
    ]
    info["outputs"] = []
    try:
        for path in inputs:
            x = torch.from_numpy(np.load(path))
            runs = []
            for seed in (1, 2):
                torch.manual_seed(seed)
                with torch.no_grad():
                    y = model(x)
                if not isinstance(y, torch.Tensor):
                    raise TypeError(f"it returned a {type(y).__name__}, not a tensor")
                runs.append(y.detach().to(torch.float64))
            shape = list(runs[0].shape)
            flat = runs[0].reshape(-1) if runs[0].dim() in (1, 2) else runs[0]
            info["outputs"].append({
                "shape": shape,
                "scores": flat.tolist() if shape in ([len(x)], [len(x), 1]) else None,
                "max_diff": float((runs[0] - runs[1]).abs().max()) if runs[0].numel() else 0.0,
            })
    except Exception as exc:
        text = str(exc).strip().splitlines()
        info["forward_error"] = f"{type(exc).__name__}: {text[-1] if text else ''}"[:300]
answer(info)
"""


@functools.lru_cache(maxsize=4)
def run_model(learner, model_bytes: bytes, matrices: tuple[bytes, ...]) -> dict:
    """Load model.pt and score each matrix (``.npy`` bytes) twice, in the learner-code service
    (TorchScript is loaded there, never here)."""
    files = {"model.pt": model_bytes} | {f"x{i}.npy": data for i, data in enumerate(matrices)}
    args = ["model.pt", *(f"x{i}.npy" for i in range(len(matrices)))]
    try:
        info = learner.run(SCORER, files=files, args=args, timeout=90)
    except LearnerCodeError as exc:
        return {"forward_error": f"it could not be loaded and scored in isolation: {exc}"}
    return info if plain_outputs(info, len(matrices)) else {"forward_error": "no usable answer"}


def plain_outputs(info, sets: int) -> bool:
    """Whether the scorer's answer has the shape the checks read (it comes from the learner's
    process: its shape is checked, not trusted)."""
    if not isinstance(info, dict):
        return False
    if "load_error" in info or "forward_error" in info:
        return all(isinstance(info.get(k, ""), str) for k in ("load_error", "forward_error"))
    outputs = info.get("outputs")
    return (
        isinstance(info.get("train_mode"), list)
        and isinstance(outputs, list)
        and len(outputs) == sets
        and all(
            isinstance(o, dict)
            and isinstance(o.get("shape"), list)
            and isinstance(o.get("max_diff"), int | float)
            and (o.get("scores") is None or isinstance(o.get("scores"), list))
            for o in outputs
        )
    )


def npy(matrix: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, matrix)
    return buffer.getvalue()


def artifact(ctx) -> tuple[dict, dict[str, bytes]]:
    """The newest job (which must be Completed) and the files of its model.tar.gz."""
    job = latest_job(ctx)
    name, status = job["TrainingJobName"], job["TrainingJobStatus"]
    if status != "Completed":
        raise Fail(f"the newest job, {name}, is {status}: it has no model yet")
    uri = (job.get("ModelArtifacts") or {}).get("S3ModelArtifacts", "")
    data = read(ctx, *split_uri(uri))
    if data is None:
        raise Fail(f"{name}'s artifact {uri} is not in S3 any more")
    try:
        return job, untar(data)
    except ValueError as exc:
        raise Fail(f"{name}'s artifact {uri} is {exc}") from None


def scored(ctx) -> dict:
    """What the newest job's model does on the check sets and the validation channel."""
    job, files = artifact(ctx)
    name = job["TrainingJobName"]
    found = sorted(files)
    if "model.pt" not in files or "preprocess.json" not in files:
        raise Fail(
            f"{name}'s model.tar.gz holds {found or 'nothing'}; it needs model.pt and "
            "preprocess.json at its root (save both to SM_MODEL_DIR)"
        )
    try:
        spec = json.loads(files["preprocess.json"])
    except ValueError:
        raise Fail(f"{name}'s preprocess.json is not JSON") from None
    problems = spec_problems(spec)
    if problems:
        raise Fail(f"{name}'s preprocess.json: " + "; ".join(problems))
    sets = [(where, check_frame(seed)) for where, seed in check_sets(ctx)]
    validation = channel_frame(ctx, "validation")
    if validation is not None and set(FEATURES) | {LABEL} <= set(validation.columns):
        sets.append(("the validation channel", validation))
    matrices = tuple(npy(prepare(frame, spec)) for _, frame in sets)
    result = run_model(ctx.learner, files["model.pt"], matrices)
    return {
        "job": job,
        "name": name,
        "spec": spec,
        "result": result,
        "sets": [(where, frame[LABEL].to_numpy()) for where, frame in sets],
    }


def auc(y, scores) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, scores))
