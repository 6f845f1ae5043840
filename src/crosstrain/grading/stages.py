"""Grade one submission, as named stages over a :class:`Job`.

    unpack → hand over → start sandbox → run learner code → tamper check → checks → record

Each stage is a small function of the batch's :class:`Grader` and the submission's
:class:`Job`; :meth:`Grader.grade_one` runs them in that order and turns whatever happens into a
:class:`~crosstrain.grading.results.GradeResult`.
"""

from __future__ import annotations

import hashlib
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from crosstrain.grading import isolate, jail
from crosstrain.grading.checking import grader_fingerprint, run_lab_checks
from crosstrain.grading.learnercode import JailedLearnerCode
from crosstrain.grading.limits import Limits
from crosstrain.grading.results import (
    RAN,
    GradedCheck,
    GradeResult,
    GradeStatus,
    RunReport,
    RunStatus,
)
from crosstrain.grading.supervise import entries
from crosstrain.grading.unpack import Rejected, settle_root, unpack
from crosstrain.labs.results import Status

if TYPE_CHECKING:
    from crosstrain.labs.catalog import Lab
    from crosstrain.labs.checks import CheckSpec
    from crosstrain.sandbox import Sandbox

TAMPERED_MESSAGE = (
    "the submission's code changed the grader's files; restore them "
    "(git checkout graders/) and regrade this student with --regrade"
)


@dataclass(frozen=True)
class Submission:
    student: str
    path: Path


def fingerprint(path: Path) -> str:
    """A hash of the submission's bytes (a resubmission gets regraded)."""
    digest = hashlib.sha256()
    if path.is_symlink():
        digest.update(os.readlink(path).encode())
    elif path.is_file():
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    else:
        for here, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                item = Path(here, name)
                digest.update(str(item.relative_to(path)).encode())
                if item.is_symlink():
                    digest.update(os.readlink(item).encode())
                elif item.is_file():
                    digest.update(hashlib.sha256(item.read_bytes()).digest())
    return digest.hexdigest()


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Job:
    """One submission being graded: its folders, its user and what each stage found."""

    sub: Submission
    root: Path  # a fresh temporary folder, removed at the end
    user: str | int | None
    notes: list[str] = field(default_factory=list)
    sandbox: Sandbox | None = None
    unit: isolate.Confinement | None = None
    runs: list[RunReport] = field(default_factory=list)
    checks: list[GradedCheck] = field(default_factory=list)
    learner: JailedLearnerCode | None = None

    @property
    def folder(self) -> Path:  # everything learner code may touch
        return self.root / "run"

    @property
    def upload(self) -> Path:
        return self.root / "upload"

    @property
    def workspace(self) -> Path:
        return self.folder / "work"

    @property
    def home(self) -> Path:
        return self.folder / "home"

    @property
    def sandbox_home(self) -> Path:
        return self.folder / "sandbox"


@dataclass
class Grader:
    """Everything a batch shares: the lab, its checks (loaded once), limits and the secret."""

    lab: Lab
    specs: list[CheckSpec]
    limits: Limits
    secret: str | None
    isolation: isolate.Isolation
    grader_hash: str
    hide: list[Path] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    # One slot per submission graded at a time; a slot picks the learner's uid (see Isolation).
    slots: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)

    @property
    def files(self) -> list[str]:
        spec = self.lab.manifest.submission
        return [*spec.notebooks, *spec.scripts]

    @property
    def timeout(self) -> float:
        return self.limits.timeout or self.lab.manifest.submission.time_limit

    def result(self, sub: Submission, status: GradeStatus, message: str, **extra) -> GradeResult:
        return GradeResult(
            student=sub.student,
            lab=self.lab.slug,
            status=status,
            message=message,
            max_points=self.lab.manifest.points,
            fingerprint=fingerprint(sub.path),
            graded_at=now(),
            **({"steps": {s.id: 0 for s in self.lab.manifest.steps}} | extra),
        )

    def grade_one(self, sub: Submission) -> GradeResult:
        """Grade one submission; whatever the learner's code does, return a result."""
        started = time.monotonic()
        tmp = Path(tempfile.mkdtemp(prefix="crosstrain-grade-"))
        try:
            result = self._grade_in(sub, tmp)
        except Rejected as exc:
            result = self.result(sub, GradeStatus.REJECTED, f"submission rejected: {exc}")
        except Exception as exc:  # noqa: BLE001 - the grader's own failure: retried next run
            message = f"grading failed: {type(exc).__name__}: {exc}"
            result = self.result(sub, GradeStatus.ERROR, message)
        finally:
            # rm, not shutil.rmtree: learner code may leave a tree too deep for recursion.
            subprocess.run(["rm", "-rf", "--one-file-system", str(tmp)], check=False)
        result.seconds = round(time.monotonic() - started, 2)
        return result

    def _grade_in(self, sub: Submission, tmp: Path) -> GradeResult:
        """Grade as the learner user of a free slot (each concurrent submission has its own)."""
        slot = self.slots.get() if not self.slots.empty() else 0
        try:
            return self.grade_job(Job(sub, tmp, self.isolation.user_for(slot)))
        finally:
            self.slots.put(slot)

    def grade_job(self, job: Job) -> GradeResult:
        """The stages, in order."""
        unpack_submission(self, job)
        hand_over(self, job)
        with running_sandbox(self, job):
            run_learner_code(self, job)
            if tampered(self, job):
                return self.result(job.sub, GradeStatus.TAMPERED, TAMPERED_MESSAGE, runs=job.runs)
            run_checks(self, job)
        return record(self, job)

    def check_stop(self) -> None:
        if self.stop.is_set():
            raise InterruptedError("stopped")


def unpack_submission(grader: Grader, job: Job) -> None:
    """Stage 1: the lab's starter with the submission unpacked (safely) over it."""
    (job.home / "tmp").mkdir(parents=True)
    (job.sandbox_home / "tmp").mkdir(parents=True)
    unpacked = unpack(job.sub.path, job.upload, grader.limits)
    lifted = settle_root(job.upload, grader.files)
    from crosstrain.labs.workspace import starter_files

    for rel in starter_files(grader.lab):
        (job.workspace / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(grader.lab.lab_dir / rel, job.workspace / rel)
    shutil.copytree(job.upload, job.workspace, symlinks=True, dirs_exist_ok=True)
    job.notes += unpacked.notes
    if lifted:
        job.notes.append(f"used the files inside the folder {lifted}/")


def hand_over(grader: Grader, job: Job) -> None:
    """Stage 2: the submission's folder belongs to its user; the jail that hides the rest."""
    isolate.hand_over(job.folder, job.user)
    plan = None
    if grader.isolation.jailed:
        plan = jail.make_plan(grader.hide, [job.folder, *jail.python_paths()])
    job.unit = isolate.Confinement(
        folder=job.folder,
        env={},
        limits=grader.limits,
        user=job.user,
        plan=plan,
        stop=grader.stop,
    )


@contextmanager
def running_sandbox(grader: Grader, job: Job) -> Iterator[Sandbox]:
    """Stage 3: a fresh sandbox, jailed as the learner (it runs the learner's deployed code);
    stopped off the critical path once nothing reads from it any more."""
    from crosstrain import sandbox

    grader.check_stop()
    unit = job.unit
    launcher = None
    if unit.plan is not None and unit.user is not None:
        launcher = jail.launcher(unit.plan, unit.user)
    job.sandbox = sandbox.start(env=isolate.sandbox_env(job.sandbox_home), launcher=launcher)
    job.unit = unit.with_env(isolate.learner_env(job.sandbox.env(), job.home))
    try:
        yield job.sandbox
    finally:
        threading.Thread(target=job.sandbox.stop, name="sandbox-stop", daemon=True).start()


def run_learner_code(grader: Grader, job: Job) -> None:
    """Stage 4: the manifest's notebooks and scripts, each under the supervisor."""
    for rel in grader.files:
        grader.check_stop()
        job.runs.append(isolate.run_file(rel, job.workspace, job.unit, grader.timeout))
    job.notes += unlink_escaping_links(job.workspace)


def tampered(grader: Grader, job: Job) -> bool:
    """Stage 5: whether the learner's code changed the grader's files."""
    return grader_fingerprint(grader.lab) != grader.grader_hash


def run_checks(grader: Grader, job: Job) -> None:
    """Stage 6: the lab's checks, here in the trusted process, with hidden data; what they
    run of the learner's (a model, a function) runs in the submission's confinement."""
    job.learner = JailedLearnerCode(job.unit, job.home)
    job.checks = run_lab_checks(
        grader.lab, grader.specs, job.sandbox, job.workspace, grader.secret, job.learner
    )


def record(grader: Grader, job: Job) -> GradeResult:
    """Stage 7: points per step, the status and one message saying what happened.

    The grade is final whatever the learner's code did: a crash, a time-out, a check that could
    not decide on what it was given (0 points for that check, said in the message). Only the
    grader's own failure (its supervisor or learner-code service could not run) is ``error``,
    which the next run retries."""
    infra = [f"{r.file}: {r.message}" for r in job.runs if r.status == RunStatus.ERROR]
    if job.learner is not None and job.learner.broken:
        infra.append(f"checks: {job.learner.broken}")
    if infra:
        message = "; ".join(infra) + "; run the same command again to retry"
        return grader.result(job.sub, GradeStatus.ERROR, message, runs=job.runs, notes=job.notes)
    failed = [r for r in job.runs if not r.ok]
    said = [r for r in job.runs if not r.ok or r.message != RAN]
    parts = [f"{r.file}: {r.message}" for r in said] or ["all code ran"]
    parts += [
        f"check {c.check} could not decide ({c.message}): 0 points for it"
        for c in job.checks
        if c.status == Status.ERROR
    ]
    steps = {s.id: 0 for s in grader.lab.manifest.steps}
    for item in job.checks:
        steps[item.step] += item.points
    return grader.result(
        job.sub,
        GradeStatus.CODE_FAILED if failed else GradeStatus.GRADED,
        "; ".join(parts),
        points=sum(steps.values()),
        steps=steps,
        checks=job.checks,
        runs=job.runs,
        notes=job.notes,
    )


def unlink_escaping_links(workspace: Path) -> list[str]:
    """Remove symlinks the learner's code left pointing outside the workspace (checks read it)."""
    notes = []
    root = workspace.resolve()
    for entry in entries(workspace):
        path = Path(entry.path)
        if entry.is_symlink() and not path.resolve().is_relative_to(root):
            notes.append(f"removed {path.relative_to(workspace)}: a link outside the folder")
            path.unlink()
    return notes
