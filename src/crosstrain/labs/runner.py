"""Run a lab's checks against a sandbox and a workspace; report them as a table, JSON or JUnit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

from crosstrain.labs import progress
from crosstrain.labs.catalog import Lab, get_lab
from crosstrain.labs.checks import (
    ERROR,
    FAILED,
    CheckContext,
    CheckResult,
    hidden_data,
    load_checks,
    run_check,
)
from crosstrain.labs.workspace import existing_workspace, workspace_root

if TYPE_CHECKING:
    from crosstrain.sandbox import Sandbox


def connect_sandbox() -> Sandbox:
    """The sandbox the learner's crosstrain is configured for (one-line error if none runs)."""
    from crosstrain import sandbox

    return sandbox.connect()


def run_checks(
    lab: Lab,
    sandbox: Sandbox,
    workspace: Path,
    step: str | None = None,
    secret: str | None = None,
    only: set[str] | None = None,
) -> list[CheckResult]:
    """Run the checks of ``step`` (all steps when ``None``; only those named in ``only`` when
    given); hidden data only with ``secret``."""
    if step is not None:
        lab.step(step)
    ctx = CheckContext(lab, sandbox, workspace, hidden_data(secret, lab.slug))
    specs = [
        s
        for s in load_checks(lab)
        if (step is None or s.step == step) and (only is None or s.name in only)
    ]
    return [run_check(spec, ctx) for spec in specs]


@dataclass
class CheckReport:
    lab: Lab
    results: list[CheckResult]

    @property
    def points(self) -> int:
        return sum(r.points for r in self.results)

    @property
    def max_points(self) -> int:
        return sum(r.max_points for r in self.results)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    def as_dict(self) -> dict:
        return {
            "lab": self.lab.slug,
            "points": self.points,
            "max_points": self.max_points,
            "passed": self.passed,
            "results": [r.as_dict() for r in self.results],
        }


def check_lab(
    name: str,
    step: str | None = None,
    root: str | Path | None = None,
    sandbox: Sandbox | None = None,
) -> CheckReport:
    """What ``crosstrain lab check`` does: run the checks and record them in the progress store."""
    lab = get_lab(name)
    if step is not None:
        lab.step(step)
    workspace = existing_workspace(lab, root)
    sandbox = sandbox or connect_sandbox()
    results = run_checks(lab, sandbox, workspace, step)
    from crosstrain.settings import settings

    score = settings().skipped_steps_score
    results = progress.mark_skipped(workspace_root(root), lab.slug, results, score)
    progress.record(workspace_root(root), results)
    return CheckReport(lab, results)


def junit_xml(report: CheckReport) -> str:
    """The report as JUnit XML: one test case per check, failures and errors marked."""
    suite = ET.Element(
        "testsuite",
        name=report.lab.slug,
        tests=str(len(report.results)),
        failures=str(sum(r.status == FAILED for r in report.results)),
        errors=str(sum(r.status == ERROR for r in report.results)),
    )
    for r in report.results:
        case = ET.SubElement(
            suite, "testcase", classname=f"{r.lab}.{r.step}", name=r.check, time=str(r.seconds)
        )
        if r.status in (FAILED, ERROR):
            tag = "failure" if r.status == FAILED else "error"
            node = ET.SubElement(case, tag, message=r.message)
            node.text = f"{r.points}/{r.max_points} points. {r.message}\nhint: {r.hint}"
    return ET.tostring(suite, encoding="unicode", xml_declaration=True)


def next_step(lab: Lab, root: str | Path | None = None):
    """The first step of ``lab`` the progress store does not show as done (``None``: all done)."""
    steps = {step.id: step.points for step in lab.manifest.steps}
    done = progress.lab_progress(workspace_root(root), lab.slug, steps)["steps_done"]
    return next((step for step in lab.manifest.steps if step.id not in done), None)
