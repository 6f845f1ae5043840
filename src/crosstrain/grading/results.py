"""What grading reports: how each file ran (:class:`RunReport`), each check as graded
(:class:`GradedCheck`) and the submission's grade (:class:`GradeResult`), with their statuses.

Statuses are ``StrEnum`` members, so they compare equal to their words and serialise as them;
``as_dict`` gives the plain JSON shape stored in ``grades.sqlite`` and written to
``results.json``, and ``from_dict`` reads it back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum

from crosstrain.labs.results import CheckResult, Status


class GradeStatus(StrEnum):
    """A submission's grade. Only ``ERROR`` (the grader's own failure) is retried next run."""

    GRADED = "graded"
    CODE_FAILED = "code-failed"  # graded; some of its code did not run to the end
    REJECTED = "rejected"  # unsafe to unpack: never run
    TAMPERED = "tampered"  # its code changed the grader's files: not trusted
    ERROR = "error"  # the grader failed (infrastructure): retried


class RunStatus(StrEnum):
    """How one notebook or script of a submission ran."""

    OK = "ok"
    FAILED = "failed"
    TIMEOUT = "timeout"
    MEMORY = "memory"
    DISK = "disk"
    PROCESSES = "processes"
    MISSING = "missing"
    ERROR = "error"  # the supervisor itself could not run it


RAN = "ran to the end"


@dataclass
class RunReport:
    """How one notebook or script ran: status, a sentence, seconds and the kept output."""

    file: str
    status: RunStatus
    message: str
    seconds: float = 0.0
    output: str = ""
    output_bytes: int = 0

    @property
    def ok(self) -> bool:
        return self.status == RunStatus.OK

    def as_dict(self) -> dict:
        return asdict(self) | {"status": str(self.status)}

    @classmethod
    def from_dict(cls, data: dict) -> RunReport:
        return cls(**_known(cls, data) | {"status": RunStatus(data["status"])})


@dataclass
class GradedCheck(CheckResult):
    """A check's result in a grade: did it draw hidden data, and what the learner is shown."""

    hidden: bool = False
    public_message: str = ""

    @classmethod
    def from_dict(cls, data: dict) -> GradedCheck:
        return cls(**_known(cls, data) | {"status": Status(data["status"])})


@dataclass
class GradeResult:
    """One submission's grade: status, points per step, every check and run, notes."""

    student: str
    lab: str
    status: GradeStatus
    message: str
    max_points: int
    fingerprint: str
    graded_at: str
    points: int = 0
    steps: dict[str, int] = field(default_factory=dict)
    checks: list[GradedCheck] = field(default_factory=list)
    runs: list[RunReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    attempted: dict[str, bool] = field(default_factory=dict)  # step -> learner changed its cell
    policy: str = ""  # the grading policy (secret + graders) this grade was made under

    @property
    def final(self) -> bool:
        """Whether the grade stands (every status but ``error``, which is retried)."""
        return self.status != GradeStatus.ERROR

    def as_dict(self) -> dict:
        return {
            "student": self.student,
            "lab": self.lab,
            "status": str(self.status),
            "message": self.message,
            "points": self.points,
            "max_points": self.max_points,
            "steps": dict(self.steps),
            "checks": [c.as_dict() for c in self.checks],
            "runs": [r.as_dict() for r in self.runs],
            "notes": list(self.notes),
            "fingerprint": self.fingerprint,
            "graded_at": self.graded_at,
            "seconds": self.seconds,
            "attempted": dict(self.attempted),
            "policy": self.policy,
        }

    @classmethod
    def from_dict(cls, data: dict) -> GradeResult:
        return cls(
            **_known(cls, data)
            | {
                "status": GradeStatus(data["status"]),
                "checks": [GradedCheck.from_dict(c) for c in data.get("checks", [])],
                "runs": [RunReport.from_dict(r) for r in data.get("runs", [])],
            }
        )


def _known(cls, data: dict) -> dict:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}
