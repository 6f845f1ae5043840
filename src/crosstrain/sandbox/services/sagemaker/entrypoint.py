"""Training jobs that name a container entrypoint, as the SageMaker Python SDK v3 sends them.

``ModelTrainer`` (SDK v3) does not use classic script mode: it uploads the user's source as a
``code`` channel and its own launcher as an ``sm_drivers`` channel, and sets
``AlgorithmSpecification.ContainerEntrypoint`` / ``ContainerArguments`` to
``/bin/bash -c "... /opt/ml/input/data/sm_drivers/sm_train.sh"``. The sandbox runs that command
as the container would, with the sandbox's Python as ``python3`` (no image is pulled), in the
job's folder laid out like ``/opt/ml``: the absolute path ``/opt/ml`` is mapped to the job's
folder in the command and in the text files of the code channels (``code``, ``sm_drivers``),
since a process outside a container cannot mount its own ``/opt/ml``. ``pip install`` in a job
only checks (``PIP_DRY_RUN``): requirements come from the sandbox's Python, never installed.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

CONTAINER_ROOT = "/opt/ml"
CODE_CHANNELS = ("code", "sm_drivers")
MAX_TEXT_FILE = 2 * 1024 * 1024
PIP_SHIM = '#!/bin/sh\nexec "{python}" -m pip "$@"\n'
PYTHON_SHIM = '#!/bin/sh\nexec "{python}" "$@"\n'


def wanted(params: dict) -> bool:
    """Whether the job names a container entrypoint (then it runs that, not script mode)."""
    return bool((params.get("AlgorithmSpecification") or {}).get("ContainerEntrypoint"))


def mapped(text: str, folder: Path) -> str:
    """``text`` with the container's ``/opt/ml`` pointing into the job's folder."""
    return text.replace(CONTAINER_ROOT, f"{folder}{CONTAINER_ROOT}")


def command(params: dict, folder: Path) -> list[str]:
    """The entrypoint and its arguments, paths mapped."""
    spec = params.get("AlgorithmSpecification") or {}
    parts = [*spec.get("ContainerEntrypoint", []), *(spec.get("ContainerArguments") or [])]
    return [mapped(str(part), folder) for part in parts]


def map_code_channels(channels: dict[str, Path], folder: Path) -> None:
    """Map ``/opt/ml`` in the text files of the code channels (scripts, drivers, JSON)."""
    for name in CODE_CHANNELS:
        root = channels.get(name)
        if root is None:
            continue
        for path in root.rglob("*"):
            if not path.is_file() or path.stat().st_size > MAX_TEXT_FILE:
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            if CONTAINER_ROOT in text:
                path.write_text(mapped(text, folder), encoding="utf-8")


def python_shims(folder: Path) -> Path:
    """A ``bin`` folder whose ``python3``/``python``/``pip3``/``pip`` are the sandbox's Python
    (what the container's image would have on its ``PATH``)."""
    shims = folder / "bin"
    shims.mkdir(exist_ok=True)
    # Scripts, not symlinks: a symlinked venv interpreter would lose its venv's packages.
    for name, template in (("python3", PYTHON_SHIM), ("python", PYTHON_SHIM), ("pip3", PIP_SHIM),
                           ("pip", PIP_SHIM)):  # fmt: skip
        script = shims / name
        script.write_text(template.format(python=sys.executable))
        script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return shims


def environment(folder: Path, base: dict[str, str]) -> dict[str, str]:
    """``base`` with the shims first on ``PATH`` (no ``PYTHONPATH``: the launcher sets its own)."""
    env = {k: v for k, v in base.items() if k != "PYTHONPATH"}
    env["PATH"] = os.pathsep.join([str(python_shims(folder)), base.get("PATH", "")])
    # A launcher's `pip install -r requirements.txt` must not change the sandbox's own Python:
    # pip only checks (what is already installed passes; anything missing fails the job).
    env.update(PIP_DRY_RUN="1", PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env
