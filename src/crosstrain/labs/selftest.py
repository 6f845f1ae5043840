"""The self-test contract: prove a lab both ways, each phase in a fresh ephemeral sandbox.

1. Static: the manifest, checks, solves and misconceptions load; the starter is not stale; the
   docs page has a check widget for every step and none for unknown steps.
2. Steps: before its solve every check of a step fails (not errors); after the solves up to it
   they all pass. Then the teardown runs and the solves redo the lab from there.
3. The solution (the manifest's submission, solution files over the starter) scores full points,
   twice in a row, with hidden data.
4. The untouched starter scores zero.
5. Every misconception case fails its step with its expected hint.
Hints no case reaches are reported.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from crosstrain.errors import CrosstrainError
from crosstrain.labs.catalog import Lab, load_module
from crosstrain.labs.checks import FAILED, CheckResult, load_checks
from crosstrain.labs.release import released_files, stale_starters
from crosstrain.labs.runner import run_checks
from crosstrain.labs.solves import SolveContext, load_solves, run_solve, run_teardown
from crosstrain.labs.submission import run_submission
from crosstrain.labs.workspace import start_workspace

SECRET = "crosstrain-self-test"
WIDGET = re.compile(r"<!--\s*check:\s*([\w-]+)\s*-->")


@dataclass
class Finding:
    name: str
    ok: bool
    detail: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class SelfTestReport:
    lab: str
    findings: list[Finding] = field(default_factory=list)
    unreached_hints: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.findings) and all(f.ok for f in self.findings)

    def as_dict(self) -> dict:
        return {
            "lab": self.lab,
            "ok": self.ok,
            "findings": [f.as_dict() for f in self.findings],
            "unreached_hints": self.unreached_hints,
        }


@dataclass
class Misconception:
    path: Path
    step: str
    hint: str
    apply: Callable[[SolveContext], None]
    description: str


def load_misconceptions(lab: Lab) -> list[Misconception]:
    """The cases in ``graders/<lab>/misconceptions/*.py`` (``_*.py`` are helpers, not cases)."""
    cases = []
    for path in sorted((lab.grader_dir / "misconceptions").glob("[!_]*.py")):
        module = load_module(path)
        missing = [n for n in ("STEP", "HINT", "apply") if not hasattr(module, n)]
        if missing:
            raise CrosstrainError(f"{path}: define {', '.join(missing)} (see docs/authoring)")
        lab.step(module.STEP)
        doc = (module.__doc__ or path.stem).strip().splitlines()[0]
        cases.append(Misconception(path, module.STEP, module.HINT, module.apply, doc))
    return cases


@contextmanager
def fresh(lab: Lab, extra_from: Path | None = None) -> Iterator[tuple]:
    """A new ephemeral sandbox and a temporary workspace holding the starter (plus extras)."""
    from crosstrain import sandbox

    with tempfile.TemporaryDirectory(prefix="crosstrain-selftest-") as tmp:
        workspace = start_workspace(lab, tmp).workspace
        if extra_from is not None:
            for rel in released_files(lab):
                (workspace / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(extra_from / rel, workspace / rel)
        with sandbox.start() as sb:
            yield sb, workspace


def summary(results: list[CheckResult]) -> str:
    return "; ".join(
        f"{r.check}: {r.status} {r.points}/{r.max_points} ({r.message})" for r in results
    )


def static_findings(lab: Lab) -> list[Finding]:
    findings = []
    stale = stale_starters(lab)
    fix = f"stale: {', '.join(stale)}; run `crosstrain author release {lab.slug}`"
    findings.append(Finding("starter matches the solution", not stale, fix if stale else ""))
    page = lab.doc_page
    if not page.is_file():
        return [*findings, Finding("docs page exists", False, f"{page} is missing")]
    widgets = WIDGET.findall(page.read_text())
    steps = lab.manifest.step_ids
    unknown = [w for w in widgets if w not in steps]
    absent = [s for s in steps if s not in widgets]
    detail = "; ".join(
        part
        for part in (
            f"unknown steps: {', '.join(unknown)}" if unknown else "",
            f"no widget for: {', '.join(absent)}" if absent else "",
        )
        if part
    )
    findings.append(Finding("docs page has a check widget per step", not detail, detail))
    return findings


def self_test(lab: Lab, report: Callable[[Finding], None] | None = None) -> SelfTestReport:
    """Run the self-test contract for ``lab``; ``report`` sees each finding as it is made."""
    out = SelfTestReport(lab.slug)

    def add(name: str, ok: bool, detail: str = "") -> None:
        finding = Finding(name, ok, detail)
        out.findings.append(finding)
        if report:
            report(finding)

    try:
        specs = load_checks(lab)
        solves = load_solves(lab)
        cases = load_misconceptions(lab)
    except CrosstrainError as exc:
        add("content loads", False, str(exc))
        return out
    add(
        "content loads",
        True,
        f"{len(specs)} checks, {len(solves.steps)} solves, {len(cases)} misconceptions",
    )
    for finding in static_findings(lab):
        add(finding.name, finding.ok, finding.detail)

    reached: set[tuple[str, str]] = set()

    def checks(sb, workspace, step=None, secret=SECRET) -> list[CheckResult]:
        results = run_checks(lab, sb, workspace, step, secret)
        reached.update((r.check, r.hint_id) for r in results if r.status == FAILED)
        return results

    def total(results: list[CheckResult]) -> int:
        return sum(r.points for r in results)

    with fresh(lab) as (sb, workspace):
        for step in lab.manifest.steps:
            before = checks(sb, workspace, step.id)
            ok = all(r.status == FAILED for r in before)
            add(f"{step.id}: fails before its solve", ok, "" if ok else summary(before))
            try:
                run_solve(solves.steps[step.id], lab, sb, workspace)
            except CrosstrainError as exc:
                add(f"{step.id}: solve runs", False, str(exc))
                break
            after = checks(sb, workspace, step.id)
            ok = all(r.passed for r in after)
            add(f"{step.id}: passes after the solves up to it", ok, "" if ok else summary(after))
        else:
            try:
                run_teardown(lab, sb, workspace, solves)
                left = total(checks(sb, workspace))
                for spec in solves.upto(lab, None):
                    run_solve(spec, lab, sb, workspace)
                again = checks(sb, workspace)
                ok = all(r.passed for r in again)
                detail = f"{left} points left after teardown" + (
                    "" if ok else f"; {summary(again)}"
                )
                add("teardown, then the solves redo the lab", ok, detail)
            except CrosstrainError as exc:
                add("teardown, then the solves redo the lab", False, str(exc))

    full = lab.manifest.points
    with fresh(lab, extra_from=lab.solution_dir) as (sb, workspace):
        for attempt in ("first", "second"):
            runs = run_submission(lab, workspace, sb)
            crashed = [f"{o.file}: {o.error}" for o in runs if not o.ok]
            results = checks(sb, workspace)
            ok = not crashed and total(results) == full
            detail = f"{total(results)}/{full} points"
            if not ok:
                detail += "; " + "; ".join(crashed) + summary(results)
            add(f"solution scores full points ({attempt} run)", ok, detail)

    with fresh(lab) as (sb, workspace):
        run_submission(lab, workspace, sb)
        results = checks(sb, workspace)
        ok = total(results) == 0
        add(
            "starter scores zero",
            ok,
            f"{total(results)}/{full} points" + ("" if ok else "; " + summary(results)),
        )

    for case in cases:
        name = f"misconception {case.path.stem}: hint {case.hint!r}"
        with fresh(lab) as (sb, workspace):
            try:
                for spec in solves.before(lab, case.step):
                    run_solve(spec, lab, sb, workspace)
                case.apply(SolveContext(lab, sb, workspace, allowed=None))
            except Exception as exc:  # noqa: BLE001 - a broken case is a finding
                add(name, False, f"setting up the case failed: {type(exc).__name__}: {exc}")
                continue
            results = checks(sb, workspace, case.step)
            hinted = any(r.status == FAILED and r.hint_id == case.hint for r in results)
            ok = hinted and not all(r.passed for r in results)
            add(name, ok, case.description if ok else summary(results))

    out.unreached_hints = [
        f"{spec.name}:{hint}"
        for spec in specs
        for hint in spec.hint_ids
        if (spec.name, hint) not in reached
    ]
    return out
