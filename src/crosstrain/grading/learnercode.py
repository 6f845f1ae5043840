"""The learner-code service of a graded submission (:mod:`crosstrain.labs.learnercode`'s
interface): check scripts run inside the submission's confinement — its jail, its uid, its
limits, its unit — with no secret and no cloud credentials; only their JSON answer comes back.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path
from typing import Any

from crosstrain.grading import isolate
from crosstrain.labs.learnercode import SCRIPT_FILE, last_line, prepare, read_answer

FAILURES = {
    "timeout": "it did not finish within {timeout:g} s",
    "memory": "memory limit {memory} MB reached",
    "processes": "it started more than {processes} processes",
    "disk": "it wrote more than {disk} MB",
}


class ServiceFailed(RuntimeError):
    """The service could not run the script at all (the grader's failure, not the learner's)."""


class JailedLearnerCode:
    """Runs each check script as the submission's own code runs (see :class:`Confinement`)."""

    def __init__(self, unit: isolate.Confinement, home: Path):
        self.unit = unit.with_env(isolate.learner_env({}, home))  # no sandbox, no secret
        self.scratch = unit.folder / "checks"
        self._count = itertools.count()
        self.broken = ""  # set when the service itself failed: the grade is retried, not final

    def run(self, script, *, files=None, args=(), timeout=90) -> Any:
        folder = self.scratch / str(next(self._count))
        folder.mkdir(parents=True)
        try:
            prepare(folder, script, files)
            isolate.hand_over(self.scratch, self.unit.user)
            argv = [sys.executable, "-I", SCRIPT_FILE, *map(str, args)]
            report = isolate.run_supervised(argv, cwd=folder, unit=self.unit, timeout=timeout)
            try:
                ended = failure(report, self.unit, timeout)
            except ServiceFailed as exc:
                self.broken = str(exc)
                raise
            return read_answer(folder, ended)
        finally:
            # rm, not shutil.rmtree: the script's code may leave a tree too deep for recursion.
            subprocess.run(["rm", "-rf", "--one-file-system", str(folder)], check=False)


def failure(report: dict, unit: isolate.Confinement, timeout: float) -> str:
    """How the run ended, in words, or ``""`` if it ended well."""
    limits = unit.limits
    verdict = report.get("verdict", "")
    if verdict in FAILURES:
        return FAILURES[verdict].format(
            timeout=timeout,
            memory=limits.memory_mb,
            processes=limits.max_processes,
            disk=limits.disk_mb,
        )
    if verdict == "supervisor":  # ours, not the learner's (see JailedLearnerCode.broken)
        raise ServiceFailed(f"the supervisor failed: {report.get('error', 'no report')}")
    code = report.get("returncode")
    if code == 0:
        return ""
    if code is not None and code < 0:
        return f"it was killed by signal {-code}"
    line = last_line(report.get("output", ""))
    if line.startswith("MemoryError"):
        return FAILURES["memory"].format(memory=limits.memory_mb)
    return line or f"it exited with code {code}"


__all__ = ["JailedLearnerCode"]
