"""What a check reports: a :class:`Status` and a :class:`CheckResult` (labs, grading, web, CLI)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum


class Status(StrEnum):
    """A check's verdict. A ``str``: ``Status.PASSED == "passed"`` and JSON stays plain."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"  # the check could not decide (it crashed, overran or named an unknown hint)
    SKIPPED = "skipped"  # its reference solve ran (lab skip): passes; scoring is a setting


@dataclass
class CheckResult:
    """What one check found: status, points, what it saw and what to do next."""

    lab: str
    step: str
    check: str
    status: Status
    points: int
    max_points: int
    message: str
    hint: str = ""
    hint_id: str = ""
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status in (Status.PASSED, Status.SKIPPED)

    def as_dict(self) -> dict:
        return asdict(self) | {"status": str(self.status)}
