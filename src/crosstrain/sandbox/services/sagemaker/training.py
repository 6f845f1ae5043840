"""SageMaker training jobs in script mode: the script really runs, in a subprocess.

:class:`TrainingJobs` is the API side. For each ``CreateTrainingJob`` moto stored it starts a
thread that runs the job (:mod:`.jobrunner`: the script in a subprocess, in a folder laid out
with the container conventions of :mod:`.scriptmode`, its output in CloudWatch, the model packed
to ``<S3OutputPath>/<job>/output/model.tar.gz``). ``StopTrainingJob`` stops the script and the
job reads ``Stopped``; ``DeleteTrainingJob`` forgets a finished job; ``ListTrainingJobs`` filters,
sorts and pages as AWS does; after a restart, jobs the last sandbox process ran are ``Failed``.
"""

from __future__ import annotations

import shutil
import threading
import time
from datetime import UTC
from pathlib import Path

from crosstrain.sandbox.core.router import Router
from crosstrain.sandbox.services.sagemaker.common import ApiError, sagemaker_backend
from crosstrain.sandbox.services.sagemaker.jobrunner import Job, JobRunner, kill

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
        self.runner = JobRunner(router, self.s3)

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
        self.runner.transition(job, "Starting", "Preparing the instances for training")
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
            kill(job)

    def close(self) -> None:
        """Kill running scripts; their jobs stay ``InProgress`` in the saved state, and the next
        sandbox process fails them (:meth:`fail_orphans`)."""
        self.runner.closing = True
        self.reset()

    # -- running -------------------------------------------------------------------------------
    def _run(self, job: Job) -> None:
        try:
            self.runner.run(job)
        finally:
            with self._lock:
                if self._jobs.get((job.account, job.region, job.name)) is job:
                    job.process = None
            shutil.rmtree(job.folder, ignore_errors=True)
