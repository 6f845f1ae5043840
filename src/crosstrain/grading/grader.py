"""Grade one submission: :class:`Grader` holds what a batch shares and runs the stages of
:mod:`crosstrain.grading.stages` in order, turning whatever happens into a
:class:`~crosstrain.grading.results.GradeResult`.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from crosstrain.grading import isolate, stages
from crosstrain.grading.limits import Limits
from crosstrain.grading.reserve import Reservation
from crosstrain.grading.results import GradeResult, GradeStatus
from crosstrain.grading.unpack import Rejected
from crosstrain.settings import settings

if TYPE_CHECKING:
    from crosstrain.grading.zygote import SandboxZygote
    from crosstrain.labs.catalog import Lab
    from crosstrain.labs.checks import CheckSpec

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
    # The run's slot: a fresh uid per submission and the folder submissions are graded in.
    reservation: Reservation | None = None
    contain: bool = True  # a cgroup and a network namespace per submission where allowed
    # Whether a step the learner skipped keeps the points its checks earn (a setting).
    skipped_score: bool = field(default_factory=lambda: settings().skipped_steps_score)
    policy: str = ""  # fingerprint of the secret and graders (crosstrain.grading.policy)
    zygote: SandboxZygote | None = None  # pre-imported sandboxes (crosstrain.grading.zygote)

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
            policy=self.policy,
            **({"steps": {s.id: 0 for s in self.lab.manifest.steps}} | extra),
        )

    def grade_one(self, sub: Submission) -> GradeResult:
        """Grade one submission; whatever the learner's code does, return a result."""
        started = time.monotonic()
        job = self.new_job(sub)
        try:
            result = self.grade_job(job)
        except Rejected as exc:
            result = self.result(sub, GradeStatus.REJECTED, f"submission rejected: {exc}")
        except Exception as exc:  # noqa: BLE001 - the grader's own failure: retried next run
            message = f"grading failed: {type(exc).__name__}: {exc}"
            result = self.result(sub, GradeStatus.ERROR, message)
        finally:
            stages.teardown(job)
        result.seconds = round(time.monotonic() - started, 2)
        return result

    def new_job(self, sub: Submission) -> stages.Job:
        """A fresh folder, and a fresh uid where learner code runs as bare uids."""
        user = self.isolation.user
        if self.reservation is not None:
            root = Path(tempfile.mkdtemp(prefix="sub-", dir=self.reservation.root))
            if isinstance(user, int):
                user = self.reservation.next_uid()
        else:
            root = Path(tempfile.mkdtemp(prefix="crosstrain-grade-"))
        return stages.Job(sub, root, user)

    def grade_job(self, job: stages.Job) -> GradeResult:
        """The stages, in order."""
        stages.unpack_submission(self, job)
        stages.hand_over(self, job)
        stages.start_sandbox(self, job)
        stages.run_learner_code(self, job)
        if stages.tampered(self, job):
            return self.result(job.sub, GradeStatus.TAMPERED, TAMPERED_MESSAGE, runs=job.runs)
        stages.run_checks(self, job)
        return stages.record(self, job)

    def check_stop(self) -> None:
        if self.stop.is_set():
            raise InterruptedError("stopped")
