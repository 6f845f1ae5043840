"""What a script-mode training container gives the script, as the SageMaker training toolkit does.

A job folder laid out like the container's ``/opt/ml`` (:func:`layout`); the source tar.gz named
by ``sagemaker_submit_directory`` and every input channel's S3 prefix downloaded into it
(:func:`fetch_code`, :func:`fetch_channels`); ``input/config/*.json`` (:func:`write_config`); the
user's hyperparameters as ``--name value`` arguments (:func:`arguments`) and the conventional
``SM_*`` environment (:func:`sm_environment`). A :class:`JobError` says why a job cannot run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from crosstrain.sandbox.services.sagemaker.common import (
    ArtifactError,
    download,
    download_prefix,
    unpack,
)

HOST = "algo-1"
RESOURCE = {"current_host": HOST, "hosts": [HOST], "network_interface_name": "eth0"}


def resource_config(instance_type: str) -> dict:
    """``resourceconfig.json`` as a one-instance job's container has it."""
    group = "homogeneousCluster"
    return {
        "current_host": HOST,
        "current_instance_type": instance_type,
        "current_group_name": group,
        "hosts": [HOST],
        "instance_groups": [
            {"instance_group_name": group, "instance_type": instance_type, "hosts": [HOST]}
        ],
        "network_interface_name": "eth0",
    }


class JobError(Exception):
    """The job cannot run; the message becomes its ``FailureReason``."""


def decode_hyperparameter(value: str):
    """``'"train.py"'`` -> ``'train.py'``, ``'0.1'`` -> ``0.1`` (the SDK JSON-quotes values)."""
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def as_text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def as_arg(value) -> str:
    """A hyperparameter as a command-line value: text as is, numbers as str, the rest as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def arguments(hps: dict) -> list[str]:
    """``["--name", "value", ...]`` for the user's hyperparameters, sorted by name."""
    return [part for k in sorted(hps) for part in (f"--{k}", as_arg(hps[k]))]


def layout(folder: Path) -> dict[str, Path]:
    """Make ``folder/opt/ml`` as a training container has it; the folders by role."""
    ml = folder / "opt" / "ml"
    paths = {
        "code": ml / "code",
        "data": ml / "input" / "data",
        "config": ml / "input" / "config",
        "model": ml / "model",
        "output": ml / "output",
        "output_data": ml / "output" / "data",
        "intermediate": ml / "output" / "intermediate",
    }
    for path in paths.values():
        path.mkdir(parents=True, exist_ok=True)
    return paths


def fetch_code(s3, program: str, submit: str, code_dir: Path, folder: Path) -> None:
    """Unpack the source tar.gz at ``submit`` into ``code_dir``; it must hold ``program``."""
    try:
        unpack(download(s3, submit, folder / "sourcedir.tar.gz"), code_dir)
    except ArtifactError as exc:
        raise JobError(
            f"ClientError: the source code (sagemaker_submit_directory): {exc}"
        ) from None
    if not (code_dir / program).is_file():
        raise JobError(
            f"ClientError: {program} is not in {submit} (the archive holds "
            f"{sorted(p.name for p in code_dir.iterdir())})"
        )


def fetch_channels(s3, input_data_config: list[dict], data_dir: Path, region: str) -> dict:
    """Copy every input channel's S3 prefix to ``data_dir/<channel>``."""
    channels = {}
    for channel in input_data_config:
        name = channel["ChannelName"]
        uri = ((channel.get("DataSource") or {}).get("S3DataSource") or {}).get("S3Uri")
        if not uri:
            raise JobError(f"ClientError: channel {name} has no S3DataSource.S3Uri")
        try:
            count = download_prefix(s3, uri, data_dir / name)
        except ArtifactError as exc:
            raise JobError(f"ClientError: {exc}") from None
        if count == 0:
            raise JobError(
                f'ClientError: No S3 objects found under S3 URL "{uri}" given in input data '
                f"source. Please ensure that the bucket exists in the selected region "
                f"({region}), that objects exist under that S3 prefix, and that the role "
                "has permission to read them."
            )
        channels[name] = data_dir / name
    return channels


def input_config(input_data_config: list[dict]) -> dict:
    """``inputdataconfig.json``: each channel's settings by channel name."""
    return {
        c["ChannelName"]: {k: v for k, v in c.items() if k != "ChannelName"}
        for c in input_data_config
    }


def write_config(
    config_dir: Path, hps: dict, input_data_config: list[dict], instance_type: str = "ml.m5.large"
) -> None:
    """Write ``hyperparameters.json``, ``inputdataconfig.json`` and ``resourceconfig.json``."""
    (config_dir / "hyperparameters.json").write_text(
        json.dumps({k: as_text(v) for k, v in hps.items()})
    )
    (config_dir / "inputdataconfig.json").write_text(json.dumps(input_config(input_data_config)))
    (config_dir / "resourceconfig.json").write_text(json.dumps(resource_config(instance_type)))


def sm_environment(
    job_name: str,
    paths: dict[str, Path],
    channels: dict[str, Path],
    hps: dict,
    program: str,
    submit: str,
    args: list[str],
    input_data_config: list[dict],
) -> dict[str, str]:
    """The ``SM_*`` variables the training toolkit sets (``SM_TRAINING_ENV`` holds them all)."""
    cpus = os.cpu_count() or 1
    training_env = {
        "job_name": job_name,
        "hyperparameters": hps,
        "channel_input_dirs": {name: str(path) for name, path in channels.items()},
        "model_dir": str(paths["model"]),
        "output_data_dir": str(paths["output_data"]),
        "output_dir": str(paths["output"]),
        "input_dir": str(paths["data"].parent),
        "input_config_dir": str(paths["config"]),
        "current_host": HOST,
        "hosts": [HOST],
        "num_cpus": cpus,
        "num_gpus": 0,
        "module_dir": submit,
        "user_entry_point": program,
    }
    env = {
        "SM_MODEL_DIR": str(paths["model"]),
        "SM_OUTPUT_DIR": str(paths["output"]),
        "SM_OUTPUT_DATA_DIR": str(paths["output_data"]),
        "SM_OUTPUT_INTERMEDIATE_DIR": str(paths["intermediate"]),
        "SM_INPUT_DIR": str(paths["data"].parent),
        "SM_INPUT_CONFIG_DIR": str(paths["config"]),
        "SM_CHANNELS": json.dumps(sorted(channels)),
        "SM_HPS": json.dumps(hps),
        "SM_USER_ARGS": json.dumps(args),
        "SM_USER_ENTRY_POINT": program,
        "SM_MODULE_DIR": submit,
        "SM_MODULE_NAME": Path(program).stem,
        "SM_CURRENT_HOST": HOST,
        "SM_HOSTS": json.dumps([HOST]),
        "SM_NUM_CPUS": str(cpus),
        "SM_NUM_GPUS": "0",
        "SM_LOG_LEVEL": "20",
        "SM_NETWORK_INTERFACE_NAME": "eth0",
        "SM_RESOURCE_CONFIG": json.dumps(RESOURCE),
        "SM_INPUT_DATA_CONFIG": json.dumps(input_config(input_data_config)),
        "SM_TRAINING_ENV": json.dumps(training_env),
    }
    for name, path in channels.items():
        env[f"SM_CHANNEL_{name.upper()}"] = str(path)
    for name, value in hps.items():
        env[f"SM_HP_{name.upper()}"] = as_text(value)
    return env
