"""The SageMaker Python SDK runs unchanged against the sandbox, both generations.

``sdk/v2_sklearn.py`` (``sagemaker<3``: ``SKLearn`` estimator, ``.deploy()``,
``predictor.predict()``, ``SKLearnModel(...).deploy()``) and ``sdk/v3_model_trainer.py``
(``sagemaker>=3``: ``ModelTrainer``, sagemaker-core ``Model``/``EndpointConfig``/``Endpoint``,
``ModelBuilder``) are a learner's scripts in plain SDK code. The two SDK generations cannot share a
venv, and neither belongs in the core install: ``make test`` builds ``.venv-sdk2`` and
``.venv-sdk3`` (the SDK only) and each script runs there, against the sandbox this test started,
configured only the way the SDK documents (``AWS_ENDPOINT_URL``, ``default_bucket=``, the SDK's
own config file to opt out of telemetry).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]
SCRIPTS = Path(__file__).parent / "sdk"
VENVS = {
    "v2": ("CROSSTRAIN_SDK2_PYTHON", ".venv-sdk2", "v2_sklearn.py"),
    "v3": ("CROSSTRAIN_SDK3_PYTHON", ".venv-sdk3", "v3_model_trainer.py"),
}
SDK_CONFIG = """SchemaVersion: '1.0'
SageMaker:
  PythonSDK:
    Modules:
      TelemetryOptOut: true
"""
PROBE_LABELS = [1.0, 0.0, 1.0, 0.0]  # the probe points are far from the class boundary


def sdk_python(generation: str) -> str:
    variable, venv, _ = VENVS[generation]
    python = os.environ.get(variable) or str(ROOT / venv / "bin" / "python")
    if not Path(python).exists():
        pytest.skip(f"no {venv}: `make test` builds it (the SageMaker SDK {generation} only)")
    return python


def run_script(generation: str, sandbox, tmp_path: Path) -> tuple[dict, str]:
    """Run the generation's script against ``sandbox``: its last line of output, as JSON, and
    everything it printed."""
    config = tmp_path / "sagemaker-config.yaml"
    config.write_text(SDK_CONFIG)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAGEMAKER_"))}
    env.update(sandbox.env())
    env.update(SAGEMAKER_USER_CONFIG_OVERRIDE=str(config), SAGEMAKER_SUPPRESS_V2_WARNING="1")
    script = SCRIPTS / VENVS[generation][2]
    done = subprocess.run(
        [sdk_python(generation), str(script), str(tmp_path / "work")],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    last = done.stdout.strip().splitlines()[-1]
    return json.loads(last[last.index("{") :]), done.stdout


@pytest.mark.slow
def test_sdk_v2_sklearn_estimator_trains_deploys_and_predicts(sandbox, tmp_path):
    seen, printed = run_script("v2", sandbox, tmp_path)

    assert seen["sagemaker"].startswith("2.")
    assert seen["status"] == "Completed"
    assert "sagemaker-scikit-learn" in seen["image"]  # the image URI was accepted, not pulled
    assert seen["model_data"].startswith("s3://sdk-v2-demo/")
    assert seen["metrics"][0]["MetricName"] == "train:accuracy"
    assert seen["metrics"][0]["Value"] > 0.9
    assert seen["estimator_predictions"] == PROBE_LABELS
    assert seen["model_predictions"] == PROBE_LABELS
    assert "train_accuracy=" in printed  # fit() streamed the job's CloudWatch log


@pytest.mark.slow
def test_sdk_v3_model_trainer_core_resources_and_model_builder(sandbox, tmp_path):
    seen, _ = run_script("v3", sandbox, tmp_path)

    assert seen["status"] == "Completed"
    assert "sagemaker-scikit-learn" in seen["image"]
    assert seen["model_data"].startswith("s3://sdk-v3-demo/")
    assert seen["core_predictions"] == PROBE_LABELS
    assert seen["builder_predictions"] == PROBE_LABELS
