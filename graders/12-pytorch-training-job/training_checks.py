"""Checks of 12-pytorch-training-job's step 2: the job is configured, completes, reports its
metric, and its model loads, scores well and was reported honestly."""

import re

from crosstrain.labs.checks import Fail, check

from .artifact import auc, scored
from .job import (
    CHANNELS,
    CHECK_CUSTOMERS,
    CODE_URI,
    HONEST_TOLERANCE,
    HYPERPARAMETERS,
    JOB_PREFIX,
    METRIC,
    MIN_AUC,
    OUTPUT_PATH,
    decode,
    failure_summary,
    final_metrics,
    job_log,
    latest_job,
)

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
