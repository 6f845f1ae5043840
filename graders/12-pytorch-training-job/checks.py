"""Checks for 12-pytorch-training-job: they read S3, the training job and its artifact.

The job checked is the newest training job whose name starts with ``churn-pytorch`` (job names
cannot be reused, so every attempt gets a new one). Its ``model.tar.gz`` is opened here; the
learner's ``preprocess.json`` is applied by this file's own copy of ``prepare`` (the contract
the lab gives), and ``model.pt`` is loaded with ``torch.jit.load`` in a separate process (an
artifact is learner code). It scores customers of a public check seed and, when grading,
customers generated from the course secret.
"""

import functools
import io
import json
import math
import re

import numpy as np
import pandas as pd
from botocore.exceptions import ClientError

from crosstrain import datasets
from crosstrain.labs.checkkit import untar
from crosstrain.labs.checks import Fail, check
from crosstrain.labs.learnercode import LearnerCodeError

BUCKET = "churn-training"
CHANNELS = {
    "train": f"s3://{BUCKET}/pytorch/data/train/",
    "validation": f"s3://{BUCKET}/pytorch/data/validation/",
}
CODE_KEY = "pytorch/code/sourcedir.tar.gz"
CODE_URI = f"s3://{BUCKET}/{CODE_KEY}"
OUTPUT_PATH = f"s3://{BUCKET}/pytorch/jobs"
MODELS_BUCKET = "churn-models"
MODEL_KEY, METADATA_KEY = "pytorch/model.tar.gz", "pytorch/metadata.json"
JOB_PREFIX = "churn-pytorch"
LOG_GROUP = "/aws/sagemaker/TrainingJobs"
HYPERPARAMETERS = ("epochs", "lr", "hidden-units")
METRIC = "validation:auc"
PUBLIC_SEED, CHECK_CUSTOMERS = 7, 2000  # learners' checks score this seed's customers
MIN_AUC = 0.75  # the reference network scores about 0.79; ignoring the features scores 0.5
HONEST_TOLERANCE = 0.003  # reported vs measured validation AUC (printed to 4 decimals)
LEAK, LABEL, ID = datasets.LEAK_COLUMN, datasets.LABEL, "customer_id"
FEATURES = list(datasets.FEATURES)


# ---------------------------------------------------------------- S3 and the job


def bucket_names(ctx) -> list[str]:
    return [b["Name"] for b in ctx.client("s3").list_buckets()["Buckets"]]


def split_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def keys_under(ctx, bucket: str, prefix: str) -> list[str]:
    if bucket not in bucket_names(ctx):
        return []
    pages = ctx.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def read(ctx, bucket: str, key: str) -> bytes | None:
    try:
        return ctx.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError:
        return None


def channel_frame(ctx, channel: str) -> pd.DataFrame | None:
    """Every CSV object under the channel's prefix as one frame (``None`` when there is none)."""
    bucket, prefix = split_uri(CHANNELS[channel])
    keys = [k for k in keys_under(ctx, bucket, prefix) if k.endswith(".csv")]
    if not keys:
        return None
    frames = []
    for key in keys:
        try:
            frames.append(pd.read_csv(io.BytesIO(read(ctx, bucket, key) or b"")))
        except (ValueError, pd.errors.ParserError) as exc:
            raise Fail(f"s3://{bucket}/{key} is not a readable CSV: {exc}") from None
    return pd.concat(frames, ignore_index=True)


def jobs(ctx) -> list[dict]:
    sm = ctx.client("sagemaker")
    found = [
        job
        for page in sm.get_paginator("list_training_jobs").paginate()
        for job in page["TrainingJobSummaries"]
        if job["TrainingJobName"].startswith(JOB_PREFIX)
    ]
    return sorted(found, key=lambda job: job["CreationTime"])


def describe(ctx, name: str) -> dict:
    return ctx.client("sagemaker").describe_training_job(TrainingJobName=name)


def latest_job(ctx) -> dict:
    found = jobs(ctx)
    if not found:
        raise Fail(f"there is no training job whose name starts with {JOB_PREFIX}")
    return describe(ctx, found[-1]["TrainingJobName"])


def decode(value: str):
    """A hyperparameter as the job received it (the SDK JSON-quotes values)."""
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def final_metrics(job: dict) -> dict[str, float]:
    return {m["MetricName"]: m["Value"] for m in job.get("FinalMetricDataList") or []}


def job_log(ctx, name: str) -> list[str]:
    logs = ctx.client("logs")
    try:
        streams = logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix=f"{name}/")
    except ClientError:
        return []
    lines = []
    for stream in streams.get("logStreams", []):
        events = logs.get_log_events(
            logGroupName=LOG_GROUP, logStreamName=stream["logStreamName"], startFromHead=True
        )
        lines.extend(event["message"] for event in events["events"])
    return lines


def failure_summary(reason: str) -> str:
    """The exception and where it was raised, from a FailureReason holding a traceback."""
    match = re.search(r'ErrorMessage "(.*)"\s*Command', reason, re.S)
    lines = [line.strip() for line in (match.group(1) if match else "").splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return " ".join(reason.split())[-400:]
    frames = [
        found
        for line in lines
        for found in re.findall(r'File "[^"]*?([^/"]+)", line (\d+), in (\S+)', line)
    ]
    where = f" (raised in {frames[-1][2]}, {frames[-1][0]} line {frames[-1][1]})" if frames else ""
    return f"{lines[-1][:300]}{where}"


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


# ---------------------------------------------------------------- step 1: inputs


@check(
    "inputs",
    points=2,
    hint=f"Upload the training part of the frame as CSV under {CHANNELS['train']} and the "
    f"validation part under {CHANNELS['validation']}: columns customer_id, the 18 features and "
    "churned.",
    hints={
        "leak": f"Drop {LEAK} before you upload: it is filled in after a customer asks to cancel, "
        "so it is empty for everyone on the day the model predicts. Data a job must not use "
        "should not be in its channel at all.",
        "validation": "Split the customers first (train_test_split(frame, test_size=0.2, "
        "stratify=frame['churned'], random_state=42)), then upload the two parts to the two "
        "prefixes. The validation customers must not be in the training data, or the validation "
        "metric says nothing about new customers.",
    },
)
def data_channels(ctx):
    frames = {channel: channel_frame(ctx, channel) for channel in CHANNELS}
    if frames["train"] is None:
        bucket, prefix = split_uri(CHANNELS["train"])
        held = keys_under(ctx, bucket, "")
        shown = ", ".join(held[:5]) or ("nothing" if bucket in bucket_names(ctx) else "no bucket")
        raise Fail(f"there is no CSV under {CHANNELS['train']} (s3://{bucket} holds: {shown})")
    for channel, frame in frames.items():
        if frame is not None and LEAK in frame.columns:
            raise Fail(f"the {channel} data has the column {LEAK}", hint="leak")
    train, validation = frames["train"], frames["validation"]
    if validation is None:
        raise Fail(f"there is no CSV under {CHANNELS['validation']}", hint="validation")
    for channel, frame in frames.items():
        missing = [c for c in [ID, *FEATURES, LABEL] if c not in frame.columns]
        if missing:
            raise Fail(f"the {channel} data has no column {', '.join(missing)}")
    shared = set(train[ID]) & set(validation[ID])
    if shared:
        raise Fail(
            f"{len(shared)} of the {validation[ID].nunique()} validation customers are also in "
            f"the training data (e.g. {sorted(shared)[0]})",
            hint="validation",
        )
    total = len(train) + len(validation)
    share = len(validation) / total
    if total < 2000 or not 0.1 <= share <= 0.4:
        raise Fail(
            f"train has {len(train)} rows and validation {len(validation)} ({share:.0%}); use "
            "all the customers, about 20 % of them for validation"
        )
    return (
        f"train: {len(train)} customers (churn rate {train[LABEL].mean():.1%}); validation: "
        f"{len(validation)} ({validation[LABEL].mean():.1%}); none in both; no {LEAK}"
    )


@check(
    "inputs",
    points=1,
    hint=f"Pack train.py into a gzipped tar and upload it to {CODE_URI}.",
    hints={
        "layout": "SageMaker unpacks the archive and runs sagemaker_program from its root: add "
        "the file as archive.add('train.py', arcname='train.py'), not the folder that holds it.",
    },
)
def source_archive(ctx):
    data = read(ctx, BUCKET, CODE_KEY)
    if data is None:
        held = keys_under(ctx, BUCKET, "pytorch/code/")
        raise Fail(f"there is no {CODE_URI} (pytorch/code/ holds: {', '.join(held) or 'nothing'})")
    try:
        files = untar(data)
    except ValueError as exc:
        raise Fail(f"{CODE_URI} is {exc}", hint="layout") from None
    if "train.py" in files:
        return f"{CODE_URI} holds {', '.join(sorted(files))}, train.py at the root"
    nested = [name for name in files if name.endswith("/train.py")]
    if nested:
        raise Fail(f"{CODE_URI} holds {nested[0]}, not train.py at its root", hint="layout")
    raise Fail(f"{CODE_URI} holds {sorted(files) or 'nothing'}, no train.py")


# ---------------------------------------------------------------- step 2: training-job


@check(
    "training-job",
    points=1,
    hint=f"Create a training job named {JOB_PREFIX}-<something new each time> with "
    "sagemaker.create_training_job, as step 2 shows.",
    hints={
        "config": "Give the job what step 2 lists: sagemaker_program train.py and "
        f"sagemaker_submit_directory {CODE_URI} plus epochs, lr and hidden-units as "
        "hyperparameters; the channels train and validation on their S3 prefixes; a "
        f"MetricDefinition named {METRIC}; the output path {OUTPUT_PATH}. A job cannot be "
        "changed: create a new one under a new name.",
    },
)
def job_configured(ctx):
    job = latest_job(ctx)
    name, problems = job["TrainingJobName"], []
    hps = {k: decode(v) for k, v in (job.get("HyperParameters") or {}).items()}
    if hps.get("sagemaker_program") != "train.py":
        problems.append(f"sagemaker_program is {hps.get('sagemaker_program')!r}, not 'train.py'")
    if hps.get("sagemaker_submit_directory") != CODE_URI:
        problems.append(f"sagemaker_submit_directory is {hps.get('sagemaker_submit_directory')!r}")
    for hp in HYPERPARAMETERS:
        if not isinstance(hps.get(hp), int | float) or isinstance(hps.get(hp), bool):
            problems.append(f"hyperparameter {hp} is {hps.get(hp, 'missing')!r}, not a number")
    channels = {
        c["ChannelName"]: c.get("DataSource", {}).get("S3DataSource", {}).get("S3Uri", "")
        for c in job.get("InputDataConfig") or []
    }
    for channel, uri in CHANNELS.items():
        if channel not in channels:
            problems.append(f"there is no {channel} channel (channels: {sorted(channels)})")
        elif channels[channel].rstrip("/") != uri.rstrip("/"):
            problems.append(f"channel {channel} reads {channels[channel]}, not {uri}")
    definitions = (job.get("AlgorithmSpecification") or {}).get("MetricDefinitions") or []
    regex = {d.get("Name"): d.get("Regex", "") for d in definitions}.get(METRIC)
    if regex is None:
        names = [d.get("Name") for d in definitions]
        problems.append(f"no MetricDefinition is named {METRIC} (names: {names or 'none'})")
    else:
        try:
            if re.compile(regex).groups < 1:
                problems.append(f"the {METRIC} regex {regex!r} has no (group) to capture a value")
        except re.error as exc:
            problems.append(f"the {METRIC} regex {regex!r} does not compile: {exc}")
    output = (job.get("OutputDataConfig") or {}).get("S3OutputPath", "")
    if output.rstrip("/") != OUTPUT_PATH:
        problems.append(f"the output path is {output!r}, not {OUTPUT_PATH}")
    if problems:
        raise Fail(f"{name}: " + "; ".join(problems), hint="config")
    shown = ", ".join(f"{hp}={hps[hp]}" for hp in HYPERPARAMETERS)
    return f"{name}: {shown}; channels train and validation; metric {METRIC}"


@check(
    "training-job",
    points=1,
    hint="Wait for the job: poll describe_training_job until TrainingJobStatus is no longer "
    "InProgress.",
    hints={
        "failed": "Read FailureReason and the job's log (/aws/sagemaker/TrainingJobs): fix "
        "train.py, upload the archive again and start a new job. Running train.py on your "
        "machine first, with SM_CHANNEL_TRAIN, SM_CHANNEL_VALIDATION and SM_MODEL_DIR set, is "
        "quicker than a job.",
    },
)
def job_completed(ctx):
    job = latest_job(ctx)
    name, status = job["TrainingJobName"], job["TrainingJobStatus"]
    if status == "Failed":
        reason = failure_summary(job.get("FailureReason") or "no reason given")
        raise Fail(f"{name} Failed: {reason}", hint="failed")
    if status == "Stopped":
        why = job.get("SecondaryStatus", "")
        limit = " (it ran past MaxRuntimeInSeconds)" if why == "MaxRuntimeExceeded" else ""
        raise Fail(f"{name} was Stopped{limit}", hint="failed")
    if status != "Completed":
        raise Fail(f"{name} is {status} ({job.get('SecondaryStatus', '')})")
    return f"{name} Completed in {job.get('TrainingTimeInSeconds', '?')} s"


@check(
    "training-job",
    points=1,
    hint=f"Print the validation AUC after each epoch as {METRIC}=0.8123 and give the job a "
    f"MetricDefinition named {METRIC} whose regex captures the number.",
    hints={
        "regex": "The MetricDefinition's regex must match what train.py prints, character for "
        "character: with the regex validation:auc=([0-9.]+) print f'validation:auc={auc:.4f}' "
        "(no spaces around =). Test it first: re.search(regex, line).group(1) on a line of the "
        "job's log.",
    },
)
def metric_reported(ctx):
    job = latest_job(ctx)
    name, status = job["TrainingJobName"], job["TrainingJobStatus"]
    if status != "Completed":
        raise Fail(f"the newest job, {name}, is {status}: no final metrics yet")
    metrics = final_metrics(job)
    if METRIC not in metrics:
        definitions = (job.get("AlgorithmSpecification") or {}).get("MetricDefinitions") or []
        regex = {d.get("Name"): d.get("Regex") for d in definitions}.get(METRIC)
        printed = [line for line in job_log(ctx, name) if "auc" in line.lower()]
        seen = f"; the log has lines like {printed[-1].strip()!r}" if printed else ""
        raise Fail(
            f"{name}'s FinalMetricDataList has {sorted(metrics) or 'no metric'}; the regex "
            f"{regex!r} of {METRIC} matched no line of its log{seen}",
            hint="regex",
        )
    value = metrics[METRIC]
    if not 0.5 < value <= 1:
        raise Fail(f"{name} reports {METRIC} = {value}, which is not an AUC", hint="regex")
    return f"{name} reports {METRIC} = {value:.4f}"


@check(
    "training-job",
    points=1,
    hint="In train.py, save model.pt with torch.jit.script(model).save(...) and preprocess.json "
    "to SM_MODEL_DIR; model.pt takes prepare()'s float32 matrix and returns one churn "
    "probability per customer (end with a sigmoid).",
    hints={
        "torchscript": "Save the model with TorchScript: torch.jit.script(model).save(path). "
        "torch.save(model.state_dict(), path) stores only the weights: whoever loads them needs "
        "your Python class, and torch.jit.load cannot read them.",
    },
)
def model_loads(ctx):
    found = scored(ctx)
    name, result = found["name"], found["result"]
    if "load_error" in result:
        raise Fail(
            f"{name}'s model.pt does not load with torch.jit.load: {result['load_error']}",
            hint="torchscript",
        )
    if "forward_error" in result:
        raise Fail(f"{name}'s model.pt fails on prepared customers ({result['forward_error']})")
    first = result["outputs"][0]
    scores = first["scores"]
    if scores is None:
        raise Fail(
            f"given {CHECK_CUSTOMERS} prepared customers, {name}'s model returns shape "
            f"{first['shape']}; return one probability per customer, shape [n] or [n, 1]"
        )
    low, high = min(scores), max(scores)
    if low < 0 or high > 1:
        raise Fail(f"{name}'s model returns values from {low:.2f} to {high:.2f}, not probabilities")
    n_in = len(found["spec"]["numeric"]) + sum(map(len, found["spec"]["categorical"].values()))
    return (
        f"{name}'s model.pt loads with torch.jit.load, reads {n_in} prepared features and "
        f"returns probabilities ({low:.3f} to {high:.3f})"
    )


@check(
    "training-job",
    points=2,
    hint=f"Train until the model's ROC AUC on new customers is at least {MIN_AUC}: use all 18 "
    "features, scale the numeric ones, weigh the churners (pos_weight) and train for a few "
    "epochs.",
    hints={
        "eval": "Call model.eval() before you export: in training mode Dropout zeroes random "
        "units on every call, so the same customer gets a different score each time. Evaluate "
        "the validation set in eval mode too.",
    },
)
def model_scores(ctx):
    found = scored(ctx)
    name, result = found["name"], found["result"]
    if "outputs" not in result or "forward_error" in result:
        raise Fail(f"{name}'s model.pt cannot score customers yet (see the check above)")
    if result["train_mode"]:
        raise Fail(
            f"{name}'s model was saved in training mode: {', '.join(result['train_mode'])} "
            "would change every customer's score from one call to the next",
            hint="eval",
        )
    seen = []
    for (where, y), output in zip(found["sets"], result["outputs"], strict=True):
        if output["max_diff"] > 1e-6:
            raise Fail(
                f"scoring the same customers twice gave scores up to {output['max_diff']:.3f} "
                "apart",
                hint="eval",
            )
        if where == "the validation channel" or output["scores"] is None:
            continue
        score = auc(y, output["scores"])
        if score < MIN_AUC:
            raise Fail(f"{name}'s ROC AUC on {where} ({len(y)} customers) is {score:.3f}")
        seen.append(f"{score:.3f} on {where}")
    return f"{name}'s ROC AUC: " + "; ".join(seen)


@check(
    "training-job",
    points=1,
    hint=f"Report {METRIC} of the model you export, measured on the validation channel's rows "
    "after the last epoch, prepared as preprocess.json says.",
    hints={
        "optimistic": f"The job reports a better {METRIC} than its model reaches on the "
        "validation channel: compute the metric on data['validation'], which the model never "
        "trained on. Scores on the training rows keep improving while the model memorises them.",
    },
)
def metric_honest(ctx):
    found = scored(ctx)
    name, result = found["name"], found["result"]
    reported = final_metrics(found["job"]).get(METRIC)
    if reported is None:
        raise Fail(f"{name} reports no {METRIC} (see the check above)")
    sets = dict(found["sets"])
    if "the validation channel" not in sets or "outputs" not in result:
        raise Fail(f"the validation channel or {name}'s model cannot be scored yet")
    output = result["outputs"][-1]
    if len(result["outputs"]) != len(found["sets"]) or output["scores"] is None:
        raise Fail(f"{name}'s model does not return one score per customer")
    measured = auc(sets["the validation channel"], output["scores"])
    gap = reported - measured
    seen = f"{name} reports {METRIC} = {reported:.4f}; on the validation channel it scores "
    if gap > HONEST_TOLERANCE:
        raise Fail(seen + f"{measured:.4f}", hint="optimistic")
    if gap < -HONEST_TOLERANCE:
        raise Fail(
            seen + f"{measured:.4f}: the metric is not the exported model's on these rows as "
            "preprocess.json prepares them"
        )
    return seen + f"{measured:.4f}"


# ---------------------------------------------------------------- step 3: publish-model


@check(
    "publish-model",
    points=2,
    hint=f"Copy the job's model.tar.gz (ModelArtifacts.S3ModelArtifacts) unchanged to "
    f"s3://{MODELS_BUCKET}/{MODEL_KEY} and write s3://{MODELS_BUCKET}/{METADATA_KEY} with "
    f"training_job (its name) and validation_auc (its {METRIC}).",
    hints={
        "archive": "Publish the job's model.tar.gz as it is: SageMaker endpoints and the serving "
        "labs download a model.tar.gz and unpack it; a bare model.pt lacks preprocess.json and "
        "the layout they expect.",
    },
)
def model_published(ctx):
    data = read(ctx, MODELS_BUCKET, MODEL_KEY)
    if data is None:
        held = keys_under(ctx, MODELS_BUCKET, "pytorch/")
        shown = ", ".join(held) or "nothing"
        bare = any(key.endswith((".pt", ".pth")) for key in held)
        raise Fail(
            f"there is no s3://{MODELS_BUCKET}/{MODEL_KEY} (pytorch/ holds: {shown})",
            hint="archive" if bare else None,
        )
    body = read(ctx, MODELS_BUCKET, METADATA_KEY)
    try:
        meta = json.loads(body) if body is not None else None
    except ValueError:
        meta = None
    if not isinstance(meta, dict) or not isinstance(meta.get("training_job"), str):
        raise Fail(f"s3://{MODELS_BUCKET}/{METADATA_KEY} is missing or names no training_job")
    name = meta["training_job"]
    try:
        job = describe(ctx, name)
    except ClientError:
        raise Fail(f"metadata names the training job {name!r}, which does not exist") from None
    if job["TrainingJobStatus"] != "Completed":
        raise Fail(f"metadata names {name}, which is {job['TrainingJobStatus']}")
    source = read(ctx, *split_uri((job.get("ModelArtifacts") or {}).get("S3ModelArtifacts", "")))
    if source != data:
        raise Fail(f"the published model.tar.gz is not {name}'s artifact (the bytes differ)")
    reported = final_metrics(job).get(METRIC)
    claimed = meta.get("validation_auc")
    if not isinstance(claimed, int | float) or reported is None or abs(claimed - reported) > 1e-4:
        raise Fail(f"metadata says validation_auc {claimed!r}; {name} reported {reported}")
    return f"s3://{MODELS_BUCKET}/{MODEL_KEY} is {name}'s artifact ({METRIC} {reported:.4f})"
