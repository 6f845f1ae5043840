"""SageMaker training jobs in script mode: the script really runs, in a subprocess.

For each ``CreateTrainingJob`` moto stored, a thread lays out a job folder like a training
container's ``/opt/ml`` (``input/data/<channel>``, ``input/config``, ``model``, ``output``),
downloads the source tar.gz named by the ``sagemaker_submit_directory`` hyperparameter and every
channel's S3 prefix, then runs ``python <sagemaker_program> --name value ...`` with the
conventional ``SM_*`` environment and ``AWS_ENDPOINT_URL`` pointing at the sandbox. Output is
streamed to CloudWatch Logs ``/aws/sagemaker/TrainingJobs`` (stream ``<job>/algo-1-<epoch>``) and
matched against the job's ``MetricDefinitions``. On exit 0 the model folder is packed to
``<S3OutputPath>/<job>/output/model.tar.gz``; otherwise the job is ``Failed`` with the end of
the error in ``FailureReason``. ``StopTrainingJob`` and ``MaxRuntimeInSeconds`` stop the script
(SIGTERM, then SIGKILL) and the job reads ``Stopped``.
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

from crosstrain.sandbox.core.router import Router
from crosstrain.sandbox.core.telemetry import metric, put_log_lines, put_metrics
from crosstrain.sandbox.services.sagemaker.common import (
    ApiError,
    ArtifactError,
    download,
    download_prefix,
    pack,
    sagemaker_backend,
    split_s3_uri,
    unpack,
)

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
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


class JobError(Exception):
    """The job cannot run; the message becomes its ``FailureReason``."""


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


def decode_hyperparameter(value: str):
    """``'"train.py"'`` -> ``'train.py'``, ``'0.1'`` -> ``0.1`` (the SDK JSON-quotes values)."""
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def _as_text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _as_arg(value) -> str:
    """A hyperparameter as a command-line value: text as is, numbers as str, the rest as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


FINISHED = frozenset({"Completed", "Failed", "Stopped"})
SORT_KEYS = {
    "Name": "TrainingJobName",
    "CreationTime": "CreationTime",
    "Status": "TrainingJobStatus",
}


def epoch(moment) -> float | None:
    """A moto datetime (naive means UTC) as the epoch seconds AWS's JSON protocol sends."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def summary(job) -> dict:
    """One ``TrainingJobSummary`` of a moto training job."""
    item = {
        "TrainingJobName": job.training_job_name,
        "TrainingJobArn": job.arn,
        "CreationTime": epoch(job.creation_time),
        "TrainingEndTime": epoch(job.training_end_time),
        "LastModifiedTime": epoch(job.last_modified_time),
        "TrainingJobStatus": job.training_job_status,
        "SecondaryStatus": getattr(job, "secondary_status", None),
    }
    return {key: value for key, value in item.items() if value is not None}


def matches(job, params: dict) -> bool:
    """Whether ``job`` passes ListTrainingJobs' filters (times in epoch seconds)."""
    created, modified = epoch(job.creation_time), epoch(job.last_modified_time)
    tests = (
        ("NameContains", lambda v: v in job.training_job_name),
        ("StatusEquals", lambda v: job.training_job_status == v),
        ("CreationTimeAfter", lambda v: created > float(v)),
        ("CreationTimeBefore", lambda v: created < float(v)),
        ("LastModifiedTimeAfter", lambda v: modified > float(v)),
        ("LastModifiedTimeBefore", lambda v: modified < float(v)),
    )
    return all(test(params[key]) for key, test in tests if params.get(key) is not None)


class TrainingJobs:
    """Runs training jobs, one thread and one subprocess each."""

    def __init__(self, router: Router, root: Path):
        self.router = router
        self.root = root
        self._jobs: dict[tuple[str, str, str], Job] = {}
        self._lock = threading.Lock()
        self._s3 = None
        self._closing = False  # the sandbox is stopping: leave job states for the next start

    def s3(self):
        """One boto3 S3 client for the sandbox, made on first use (clients are thread-safe)."""
        with self._lock:
            if self._s3 is None:
                self._s3 = self.router.client("s3")
            return self._s3

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self, account: str, region: str, params: dict) -> None:
        """Begin running the job moto just stored (it reads ``InProgress`` from now on)."""
        from moto.core.utils import utcnow

        name = params["TrainingJobName"]
        definitions = (params.get("AlgorithmSpecification") or {}).get("MetricDefinitions") or []
        with self.router.moto_lock:
            moto_job = sagemaker_backend(account, region).training_jobs.get(name)
            if moto_job is None:
                return
            now = utcnow()
            moto_job.training_job_status = "InProgress"
            moto_job.secondary_status = "Starting"
            moto_job.algorithm_specification["MetricDefinitions"] = definitions  # moto's canned
            moto_job.final_metric_data_list = None
            moto_job.secondary_status_transitions = []
            moto_job.training_start_time = now
            moto_job.training_end_time = None
            moto_job.last_modified_time = now
            moto_job.model_artifacts = None
        folder = self.root / f"{name}-{int(time.time() * 1000)}"
        job = Job(account, region, name, params, folder, f"{name}/algo-1-{int(time.time())}")
        with self._lock:
            self._jobs[(account, region, name)] = job
        self._transition(job, "Starting", "Preparing the instances for training")
        threading.Thread(
            target=self._run, args=(job,), name=f"training-{name}", daemon=True
        ).start()

    def stop(self, account: str, region: str, name: str) -> None:
        """``StopTrainingJob``: raises :class:`ApiError` when the job is not running."""
        with self.router.moto_lock:
            moto_job = sagemaker_backend(account, region).training_jobs.get(name)
            status = moto_job.training_job_status if moto_job else None
        if moto_job is None:
            raise ApiError("ResourceNotFound", "Requested resource not found.")
        with self._lock:
            job = self._jobs.get((account, region, name))
        if job is None or status not in ("InProgress", "Stopping"):
            raise ApiError(
                "ValidationException",
                f"The request was rejected because the training job is in status {status}.",
            )
        with self.router.moto_lock:
            moto_job.training_job_status = "Stopping"
            moto_job.secondary_status = "Stopping"
        self.router.mark_dirty({"sagemaker"})
        job.reason = job.reason or "Stopped"
        job.stop.set()

    def delete(self, account: str, region: str, name: str) -> None:
        """``DeleteTrainingJob``: forget a finished job (its artifacts stay in S3, as on AWS)."""
        with self.router.moto_lock:
            jobs = sagemaker_backend(account, region).training_jobs
            moto_job = jobs.get(name)
            if moto_job is None:
                raise ApiError("ResourceNotFound", f"Training job {name} does not exist.")
            status = moto_job.training_job_status
            if status not in FINISHED:
                raise ApiError(
                    "ValidationException",
                    f"Training job {name} is in status {status}; only a Completed, Failed or "
                    "Stopped job can be deleted (stop it first).",
                )
            del jobs[name]
        with self._lock:
            self._jobs.pop((account, region, name), None)
        self.router.mark_dirty({"sagemaker"})

    def list(self, account: str, region: str, params: dict) -> dict:
        """``ListTrainingJobs`` filtered, then sorted, then paged, as AWS does (moto pages
        first and ignores the sort). Call it after moto validated the parameters."""
        size = params.get("MaxResults") or 10
        sort_by = params.get("SortBy", "CreationTime")
        order = params.get("SortOrder", "Ascending")
        token = str(params.get("NextToken") or "0")
        if not token.isdigit():
            raise ApiError("ValidationException", f"Invalid pagination token {token!r}.")
        start = int(token)
        with self.router.moto_lock:
            jobs = [
                summary(job)
                for job in sagemaker_backend(account, region).training_jobs.values()
                if matches(job, params)
            ]
        jobs.sort(key=lambda s: s[SORT_KEYS[sort_by]], reverse=order == "Descending")
        page: dict = {"TrainingJobSummaries": jobs[start : start + size]}
        if start + size < len(jobs):
            page["NextToken"] = str(start + size)
        return page

    def fail_orphans(self, backend) -> None:
        """Fail the jobs a previous sandbox process was running (call with the moto lock)."""
        for moto_job in backend.training_jobs.values():
            if moto_job.training_job_status in ("InProgress", "Stopping"):
                moto_job.training_job_status = "Failed"
                moto_job.secondary_status = "Failed"
                moto_job.failure_reason = (
                    "InternalServerError: the sandbox stopped while this job ran, and its script "
                    "with it; create the job again (under a new name)."
                )
                moto_job.model_artifacts = None

    def health(self) -> dict:
        with self._lock:
            running = [job.name for job in self._jobs.values() if job.process is not None]
        return {"running": running}

    def reset(self) -> None:
        with self._lock:
            jobs = list(self._jobs.values())
            self._jobs.clear()
        for job in jobs:
            job.reason = job.reason or "Stopped"
            job.stop.set()
            self._kill(job)

    def close(self) -> None:
        """Kill running scripts; their jobs stay ``InProgress`` in the saved state, and the next
        sandbox process fails them (:meth:`fail_orphans`)."""
        self._closing = True
        self.reset()

    # -- running -------------------------------------------------------------------------------
    def _run(self, job: Job) -> None:
        try:
            self._execute(job)
        except JobError as exc:
            self._finish(job, "Failed", str(exc))
        except Exception as exc:  # noqa: BLE001 - a job never takes the sandbox down
            log.exception("training job %s failed in the sandbox", job.name)
            self._finish(job, "Failed", f"InternalServerError: {type(exc).__name__}: {exc}")
        finally:
            with self._lock:
                if self._jobs.get((job.account, job.region, job.name)) is job:
                    job.process = None
            shutil.rmtree(job.folder, ignore_errors=True)

    def _execute(self, job: Job) -> None:
        hps = {
            k: decode_hyperparameter(v)
            for k, v in (job.params.get("HyperParameters") or {}).items()
        }
        program = hps.get("sagemaker_program")
        submit = hps.get("sagemaker_submit_directory")
        if not program or not submit:
            raise JobError(
                "ClientError: crosstrain runs script-mode training jobs only: set the "
                "hyperparameters sagemaker_program (the script) and sagemaker_submit_directory "
                "(s3://.../sourcedir.tar.gz), as the SageMaker Python SDK's estimators do."
            )
        paths = self._layout(job)
        self._transition(job, "Downloading", "Downloading input data")
        self._download_code(str(program), str(submit), paths["code"], job)
        channels = self._download_channels(job, paths["data"])
        user_hps = {k: v for k, v in hps.items() if not k.startswith("sagemaker_")}
        args = [part for k in sorted(user_hps) for part in (f"--{k}", _as_arg(user_hps[k]))]
        env = self._environment(job, paths, channels, user_hps, str(program), str(submit), args)
        command = [sys.executable, str(program), *args]
        self._transition(
            job, "Training", "Training image download completed. Training in progress."
        )
        code = self._supervise(job, command, env, paths["code"])
        self._wrap_up(job, code, command, paths)

    def _download_code(self, program: str, submit: str, code_dir: Path, job: Job) -> None:
        try:
            unpack(download(self.s3(), submit, job.folder / "sourcedir.tar.gz"), code_dir)
        except ArtifactError as exc:
            raise JobError(
                f"ClientError: the source code (sagemaker_submit_directory): {exc}"
            ) from None
        if not (code_dir / program).is_file():
            raise JobError(
                f"ClientError: {program} is not in {submit} (the archive holds "
                f"{sorted(p.name for p in code_dir.iterdir())})"
            )

    def _download_channels(self, job: Job, data_dir: Path) -> dict[str, Path]:
        """Copy every input channel's S3 prefix to ``data_dir/<channel>``."""
        channels = {}
        for channel in job.params.get("InputDataConfig") or []:
            name = channel["ChannelName"]
            uri = ((channel.get("DataSource") or {}).get("S3DataSource") or {}).get("S3Uri")
            if not uri:
                raise JobError(f"ClientError: channel {name} has no S3DataSource.S3Uri")
            try:
                count = download_prefix(self.s3(), uri, data_dir / name)
            except ArtifactError as exc:
                raise JobError(f"ClientError: {exc}") from None
            if count == 0:
                raise JobError(
                    f'ClientError: No S3 objects found under S3 URL "{uri}" given in input data '
                    f"source. Please ensure that the bucket exists in the selected region "
                    f"({job.region}), that objects exist under that S3 prefix, and that the role "
                    "has permission to read them."
                )
            channels[name] = data_dir / name
        return channels

    def _layout(self, job: Job) -> dict[str, Path]:
        ml = job.folder / "opt" / "ml"
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

    def _environment(self, job, paths, channels, hps, program, submit, args) -> dict[str, str]:
        resource = {"current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "eth0"}
        input_config = {
            c["ChannelName"]: {k: v for k, v in c.items() if k != "ChannelName"}
            for c in job.params.get("InputDataConfig") or []
        }
        (paths["config"] / "hyperparameters.json").write_text(
            json.dumps({k: _as_text(v) for k, v in hps.items()})
        )
        (paths["config"] / "inputdataconfig.json").write_text(json.dumps(input_config))
        (paths["config"] / "resourceconfig.json").write_text(json.dumps(resource))
        training_env = {
            "job_name": job.name,
            "hyperparameters": hps,
            "channel_input_dirs": {name: str(path) for name, path in channels.items()},
            "model_dir": str(paths["model"]),
            "output_data_dir": str(paths["output_data"]),
            "output_dir": str(paths["output"]),
            "input_dir": str(paths["data"].parent),
            "input_config_dir": str(paths["config"]),
            "current_host": "algo-1",
            "hosts": ["algo-1"],
            "num_cpus": os.cpu_count() or 1,
            "num_gpus": 0,
            "module_dir": submit,
            "user_entry_point": program,
        }
        env = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", str(job.folder)),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(paths["code"]),
            "AWS_ENDPOINT_URL": self.router.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.router.admin_access_key,
            "AWS_SECRET_ACCESS_KEY": self.router.admin_access_key,
            "AWS_REGION": job.region,
            "AWS_DEFAULT_REGION": job.region,
            "TRAINING_JOB_NAME": job.name,
            "TRAINING_JOB_ARN": f"arn:aws:sagemaker:{job.region}:{job.account}:training-job/"
            f"{job.name}",
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
            "SM_CURRENT_HOST": "algo-1",
            "SM_HOSTS": json.dumps(["algo-1"]),
            "SM_NUM_CPUS": str(os.cpu_count() or 1),
            "SM_NUM_GPUS": "0",
            "SM_LOG_LEVEL": "20",
            "SM_NETWORK_INTERFACE_NAME": "eth0",
            "SM_RESOURCE_CONFIG": json.dumps(resource),
            "SM_INPUT_DATA_CONFIG": json.dumps(input_config),
            "SM_TRAINING_ENV": json.dumps(training_env),
        }
        for name, path in channels.items():
            env[f"SM_CHANNEL_{name.upper()}"] = str(path)
        for name, value in hps.items():
            env[f"SM_HP_{name.upper()}"] = _as_text(value)
        env.update({str(k): str(v) for k, v in (job.params.get("Environment") or {}).items()})
        return env

    def _supervise(self, job: Job, command: list[str], env: dict, cwd: Path) -> int:
        """Run the script, stream its output, enforce stop and ``MaxRuntimeInSeconds``."""
        if job.stop.is_set():  # stopped while its inputs were downloading
            return -signal.SIGTERM
        limit = (job.params.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds") or 86400
        self._note(job, f"Invoking script with the following command:\n{shlex.join(command)}")
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
                self._flush(job)
            if time.monotonic() > deadline:
                job.reason = "MaxRuntimeExceeded"
            if job.stop.is_set() or job.reason:
                self._kill(job)
        for reader in readers:
            reader.join(timeout=5)
        self._flush(job)
        return code

    def _read(self, job: Job, stream, is_stderr: bool) -> None:
        definitions = (job.params.get("AlgorithmSpecification") or {}).get("MetricDefinitions")
        patterns = []
        for definition in definitions or []:
            try:
                patterns.append((definition["Name"], re.compile(definition["Regex"])))
            except (KeyError, re.error) as exc:
                self._note(job, f"crosstrain: metric definition {definition} ignored: {exc}")
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
                dims = {"Host": f"{job.name}/algo-1"}
                data = [metric(name, value, "None", dims) for name, value in found]
                put_metrics(self.router, job.account, job.region, LOG_GROUP, data)
        stream.close()

    def _kill(self, job: Job) -> None:
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

    def _wrap_up(self, job: Job, code: int, command: list[str], paths: dict[str, Path]) -> None:
        if self._closing:
            return
        failure_file = paths["output"] / "failure"
        if job.reason:  # stopped or out of time: what the model folder holds is still saved
            self._upload(job, paths)
            why = "MaxRuntimeExceeded" if job.reason == "MaxRuntimeExceeded" else "Stopped"
            self._finish(job, "Stopped", None, secondary=why)
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
            self._finish(job, "Failed", reason)
            return
        self._transition(job, "Uploading", "Uploading generated training model")
        self._upload(job, paths)
        self._finish(job, "Completed", None)

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

    def _transition(self, job: Job, status: str, message: str) -> None:
        from moto.core.utils import utcnow

        if self._closing:
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

    def _finish(self, job: Job, status: str, reason: str | None, secondary: str = "") -> None:
        from datetime import UTC, datetime

        from moto.core.utils import utcnow

        if self._closing:
            return
        messages = {
            "Completed": "Training job completed",
            "Failed": "Training job failed",
            "Stopped": "Training job stopped",
        }
        self._transition(job, secondary or status, messages[status])
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
            self._note(job, reason)
        self._flush(job)
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

    def _note(self, job: Job, text: str) -> None:
        with job.lock:
            job.pending.extend(text.splitlines())

    def _flush(self, job: Job) -> None:
        with job.lock:
            lines, job.pending = job.pending, []
        put_log_lines(self.router, job.account, job.region, LOG_GROUP, job.stream, lines)
