"""One SageMaker training job run to its end: the script in a subprocess, its progress in moto.

:meth:`JobRunner.run` prepares the job's folder (:mod:`.scriptmode`), runs
``python <sagemaker_program> --name value ...`` with ``AWS_ENDPOINT_URL`` pointing at the
sandbox, streams its output to CloudWatch Logs ``/aws/sagemaker/TrainingJobs`` and matches it
against the job's ``MetricDefinitions``, enforces ``StopTrainingJob`` and ``MaxRuntimeInSeconds``
(SIGTERM, then SIGKILL), and uploads the packed model folder on success. Every step shows in
moto's job as AWS shows it: ``SecondaryStatus`` transitions, then ``Completed``, ``Failed`` (with
the end of the error in ``FailureReason``) or ``Stopped``, with the final metrics.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from crosstrain.sandbox.core.environment import worker_env
from crosstrain.sandbox.core.router import Router
from crosstrain.sandbox.core.telemetry import metric, put_log_lines, put_metrics
from crosstrain.sandbox.services.sagemaker import entrypoint, scriptmode
from crosstrain.sandbox.services.sagemaker.common import pack, sagemaker_backend, split_s3_uri
from crosstrain.sandbox.services.sagemaker.scriptmode import JobError

log = logging.getLogger("crosstrain.sandbox.sagemaker.training")

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
STOP_GRACE_SECONDS = 2.0
FLUSH_SECONDS = 0.25  # how often logs are written and stop / time limit checked
MAX_REASON = 1024  # FailureReason's length limit in the API
# Runs the script as the process's own program, after asking Linux to SIGKILL it when the
# sandbox dies (the setting survives execv): no orphan training scripts.
_EXEC_WITH_PDEATHSIG = (
    "import ctypes, os, sys\n"
    "ctypes.CDLL('libc.so.6').prctl(1, 9)\n"
    "if os.getppid() != int(sys.argv[1]): os._exit(1)\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n"
)


@dataclass
class Job:
    account: str
    region: str
    name: str
    params: dict
    folder: Path
    stream: str
    stop: threading.Event = field(default_factory=threading.Event)
    process: subprocess.Popen | None = None
    transitions: list[dict] = field(default_factory=list)
    metrics: dict[str, tuple[float, float]] = field(default_factory=dict)  # name -> (value, ts)
    pending: list[str] = field(default_factory=list)  # log lines not written yet
    stderr_tail: collections.deque = field(default_factory=lambda: collections.deque(maxlen=40))
    lock: threading.Lock = field(default_factory=threading.Lock)
    reason: str = ""  # why it stopped: "" (it ended), "Stopped" or "MaxRuntimeExceeded"


def kill(job: Job) -> None:
    """Stop the job's script: SIGTERM to its process group, then SIGKILL."""
    process = job.process
    if process is None or process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, STOP_GRACE_SECONDS), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


class JobRunner:
    """Runs jobs' scripts and records their progress in moto's jobs and CloudWatch.

    ``s3`` gives the sandbox's S3 client. Once :attr:`closing` is set (the sandbox is stopping)
    nothing more is recorded: the jobs stay as the saved state has them, for the next start.
    """

    def __init__(self, router: Router, s3: Callable[[], object]):
        self.router = router
        self.s3 = s3
        self.closing = False

    def run(self, job: Job) -> None:
        """Run ``job`` to its end; any failure becomes the job's, never the sandbox's."""
        try:
            self._execute(job)
        except JobError as exc:
            self.finish(job, "Failed", str(exc))
        except Exception as exc:  # noqa: BLE001 - a job never takes the sandbox down
            log.exception("training job %s failed in the sandbox", job.name)
            self.finish(job, "Failed", f"InternalServerError: {type(exc).__name__}: {exc}")

    def _execute(self, job: Job) -> None:
        if entrypoint.wanted(job.params):
            self._execute_entrypoint(job)
            return
        hps = {
            k: scriptmode.decode_hyperparameter(v)
            for k, v in (job.params.get("HyperParameters") or {}).items()
        }
        program = hps.get("sagemaker_program")
        submit = hps.get("sagemaker_submit_directory")
        if not program or not submit:
            raise JobError(
                "ClientError: crosstrain runs script-mode training jobs: set the "
                "hyperparameters sagemaker_program (the script) and sagemaker_submit_directory "
                "(s3://.../sourcedir.tar.gz), as the SageMaker Python SDK's estimators do, or "
                "AlgorithmSpecification.ContainerEntrypoint, as its ModelTrainer does."
            )
        program, submit = str(program), str(submit)
        paths = scriptmode.layout(job.folder)
        self.transition(job, "Downloading", "Downloading input data")
        scriptmode.fetch_code(self.s3(), program, submit, paths["code"], job.folder)
        inputs = job.params.get("InputDataConfig") or []
        channels = scriptmode.fetch_channels(self.s3(), inputs, paths["data"], job.region)
        user_hps = {k: v for k, v in hps.items() if not k.startswith("sagemaker_")}
        args = scriptmode.arguments(user_hps)
        scriptmode.write_config(paths["config"], user_hps, inputs)
        env = {
            **self._base_environment(job, paths["code"]),
            **scriptmode.sm_environment(
                job.name, paths, channels, user_hps, program, submit, args, inputs
            ),
            **{str(k): str(v) for k, v in (job.params.get("Environment") or {}).items()},
        }
        command = [sys.executable, program, *args]
        self.transition(job, "Training", "Training image download completed. Training in progress.")
        code = self._supervise(job, command, env, paths["code"])
        self._wrap_up(job, code, command, paths)

    def _execute_entrypoint(self, job: Job) -> None:
        """Run the job's ContainerEntrypoint as its container would (see :mod:`.entrypoint`)."""
        paths = scriptmode.layout(job.folder)
        self.transition(job, "Downloading", "Downloading input data")
        inputs = job.params.get("InputDataConfig") or []
        channels = scriptmode.fetch_channels(self.s3(), inputs, paths["data"], job.region)
        entrypoint.map_code_channels(channels, job.folder)
        instance = (job.params.get("ResourceConfig") or {}).get("InstanceType") or "ml.m5.large"
        hps = job.params.get("HyperParameters") or {}
        scriptmode.write_config(paths["config"], hps, inputs, instance)
        env = {
            **entrypoint.environment(job.folder, self._base_environment(job, paths["code"])),
            **{str(k): str(v) for k, v in (job.params.get("Environment") or {}).items()},
        }
        command = entrypoint.command(job.params, job.folder)
        self.transition(job, "Training", "Training image download completed. Training in progress.")
        code = self._supervise(job, command, env, job.folder)
        self._wrap_up(job, code, command, paths)

    def _base_environment(self, job: Job, code_dir: Path) -> dict[str, str]:
        """What every script gets besides ``SM_*``: a minimal environment and the sandbox's AWS."""
        return {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", str(job.folder)),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(code_dir),
            **worker_env(
                self.router, job.params.get("RoleArn"), "sagemaker.amazonaws.com", job.name
            ),
            "AWS_REGION": job.region,
            "AWS_DEFAULT_REGION": job.region,
            "TRAINING_JOB_NAME": job.name,
            "TRAINING_JOB_ARN": f"arn:aws:sagemaker:{job.region}:{job.account}:training-job/"
            f"{job.name}",
        }

    def _supervise(self, job: Job, command: list[str], env: dict, cwd: Path) -> int:
        """Run the script, stream its output, enforce stop and ``MaxRuntimeInSeconds``."""
        if job.stop.is_set():  # stopped while its inputs were downloading
            return -signal.SIGTERM
        limit = (job.params.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds") or 86400
        self.note(job, f"Invoking script with the following command:\n{shlex.join(command)}")
        job.process = subprocess.Popen(
            [sys.executable, "-c", _EXEC_WITH_PDEATHSIG, str(os.getpid()), *command],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        readers = [
            threading.Thread(target=self._read, args=(job, job.process.stdout, False), daemon=True),
            threading.Thread(target=self._read, args=(job, job.process.stderr, True), daemon=True),
        ]
        for reader in readers:
            reader.start()
        deadline = time.monotonic() + float(limit)
        while True:
            try:
                code = job.process.wait(timeout=FLUSH_SECONDS)
                break
            except subprocess.TimeoutExpired:
                self.flush(job)
            if time.monotonic() > deadline:
                job.reason = "MaxRuntimeExceeded"
            if job.stop.is_set() or job.reason:
                kill(job)
        for reader in readers:
            reader.join(timeout=5)
        self.flush(job)
        return code

    def _read(self, job: Job, stream, is_stderr: bool) -> None:
        """Collect the script's lines for the log and its ``MetricDefinitions`` matches."""
        definitions = (job.params.get("AlgorithmSpecification") or {}).get("MetricDefinitions")
        patterns = []
        for definition in definitions or []:
            try:
                patterns.append((definition["Name"], re.compile(definition["Regex"])))
            except (KeyError, re.error) as exc:
                self.note(job, f"crosstrain: metric definition {definition} ignored: {exc}")
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            found = []
            for name, pattern in patterns:
                match = pattern.search(line)
                if match and match.groups():
                    with contextlib.suppress(ValueError):
                        found.append((name, float(match.group(1))))
            with job.lock:
                job.pending.append(line)
                if is_stderr:
                    job.stderr_tail.append(line)
                for name, value in found:
                    job.metrics[name] = (value, time.time())
            if found:
                dims = {"Host": f"{job.name}/{scriptmode.HOST}"}
                data = [metric(name, value, "None", dims) for name, value in found]
                put_metrics(self.router, job.account, job.region, LOG_GROUP, data)
        stream.close()

    def _wrap_up(self, job: Job, code: int, command: list[str], paths: dict[str, Path]) -> None:
        if self.closing:
            return
        failure_file = paths["output"] / "failure"
        if job.reason:  # stopped or out of time: what the model folder holds is still saved
            self._upload(job, paths)
            why = "MaxRuntimeExceeded" if job.reason == "MaxRuntimeExceeded" else "Stopped"
            self.finish(job, "Stopped", None, secondary=why)
            return
        if code != 0:
            if failure_file.is_file():
                message = failure_file.read_text(errors="replace").strip()
            else:
                message = self._error_message(job)
            reason = (
                f"AlgorithmError: ExecuteUserScriptError:\nExitCode {code}\n"
                f'ErrorMessage "{message}"\nCommand "{shlex.join(command)}", exit code: {code}'
            )
            self.finish(job, "Failed", reason)
            return
        self.transition(job, "Uploading", "Uploading generated training model")
        self._upload(job, paths)
        self.finish(job, "Completed", None)

    def _error_message(self, job: Job) -> str:
        """The end of stderr from the last traceback on (what the toolkit reports)."""
        with job.lock:
            lines = list(job.stderr_tail)
        starts = [i for i, line in enumerate(lines) if line.startswith("Traceback")]
        lines = lines[starts[-1] :] if starts else lines[-10:]
        text = "\n".join(line for line in lines if line.strip())
        room = MAX_REASON - 200
        return text if len(text) <= room else "..." + text[-room:]

    def _upload(self, job: Job, paths: dict[str, Path]) -> None:
        output = (job.params.get("OutputDataConfig") or {}).get("S3OutputPath", "")
        bucket, prefix = split_s3_uri(output.rstrip("/"))
        prefix = f"{prefix}/{job.name}/output" if prefix else f"{job.name}/output"
        s3 = self.s3()
        try:
            model = pack(paths["model"], job.folder / "model.tar.gz")
            s3.upload_file(str(model), bucket, f"{prefix}/model.tar.gz")
            if any(paths["output_data"].iterdir()):
                data = pack(paths["output_data"], job.folder / "output.tar.gz")
                s3.upload_file(str(data), bucket, f"{prefix}/output.tar.gz")
        except Exception as exc:  # noqa: BLE001 - reported as the job's failure
            raise JobError(f"ClientError: could not upload the model to {output}: {exc}") from None
        with self.router.moto_lock:
            moto_job = self._moto_job(job)
            if moto_job is not None:
                moto_job.model_artifacts = {
                    "S3ModelArtifacts": f"s3://{bucket}/{prefix}/model.tar.gz"
                }

    # -- state, logs ---------------------------------------------------------------------------
    def _moto_job(self, job: Job):
        return sagemaker_backend(job.account, job.region).training_jobs.get(job.name)

    def transition(self, job: Job, status: str, message: str) -> None:
        """A new ``SecondaryStatus`` (the previous one ends now)."""
        from moto.core.utils import utcnow

        if self.closing:
            return
        now = utcnow()
        if job.transitions:
            job.transitions[-1]["EndTime"] = now
        job.transitions.append({"Status": status, "StartTime": now, "StatusMessage": message})
        with self.router.moto_lock:
            moto_job = self._moto_job(job)
            if moto_job is not None:
                moto_job.secondary_status = status
                moto_job.secondary_status_transitions = [dict(t) for t in job.transitions]
                moto_job.last_modified_time = now
        self.router.mark_dirty({"sagemaker"})

    def finish(self, job: Job, status: str, reason: str | None, secondary: str = "") -> None:
        """The job's end: ``status``, the reason, final metrics, times and the last log lines."""
        from datetime import UTC, datetime

        from moto.core.utils import utcnow

        if self.closing:
            return
        messages = {
            "Completed": "Training job completed",
            "Failed": "Training job failed",
            "Stopped": "Training job stopped",
        }
        self.transition(job, secondary or status, messages[status])
        job.transitions[-1]["EndTime"] = job.transitions[-1]["StartTime"]
        with job.lock:
            final = [
                {
                    "MetricName": name,
                    "Value": value,
                    "Timestamp": datetime.fromtimestamp(stamp, UTC).replace(tzinfo=None),
                }
                for name, (value, stamp) in sorted(job.metrics.items())
            ]
        if reason:
            self.note(job, reason)
        self.flush(job)
        now = utcnow()
        with self.router.moto_lock:
            moto_job = self._moto_job(job)
            if moto_job is None:
                return
            moto_job.training_job_status = status
            moto_job.secondary_status_transitions = [dict(t) for t in job.transitions]
            moto_job.failure_reason = reason[:MAX_REASON] if reason else None
            moto_job.final_metric_data_list = final or None
            moto_job.training_end_time = now
            moto_job.last_modified_time = now
            seconds = max(1, int((now - moto_job.training_start_time).total_seconds()))
            moto_job.training_time_in_seconds = seconds
            moto_job.billable_time_in_seconds = seconds
            if status != "Completed" and not job.reason:
                moto_job.model_artifacts = None
        self.router.mark_dirty({"sagemaker"})

    def note(self, job: Job, text: str) -> None:
        with job.lock:
            job.pending.extend(text.splitlines())

    def flush(self, job: Job) -> None:
        with job.lock:
            lines, job.pending = job.pending, []
        put_log_lines(self.router, job.account, job.region, LOG_GROUP, job.stream, lines)
