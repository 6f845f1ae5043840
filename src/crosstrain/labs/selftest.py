"""The self-test contract: prove a lab both ways, each phase in a fresh ephemeral sandbox.

1. Static: the manifest, checks, solves and misconceptions load; the starter is not stale; the
   docs page has a check widget for every step and none for unknown steps.
2. Steps: before its solve every check of a step fails (not errors); after the solves up to it
   they all pass. Then the teardown runs and the solves redo the lab from there.
3. The solution (the manifest's submission, solution files over the starter) scores full points,
   twice in a row.
4. The untouched starter scores zero.
5. Every misconception case fails its step with its expected hint (a failure says which it got).
Every phase runs the checks both ways -- the learner's path (no hidden data, as ``lab check`` and
the Check button run them) and grading's (hidden data from the course secret) -- and holds only
if it holds on both. Hints no case reaches, and hint keys the checks raise but do not declare,
are reported.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from crosstrain.errors import CrosstrainError
from crosstrain.labs import markers
from crosstrain.labs.catalog import Lab, load_module
from crosstrain.labs.checks import FAILED, CheckResult, load_checks
from crosstrain.labs.hintkeys import path_dependent, undeclared_hints
from crosstrain.labs.release import released_files, stale_starters
from crosstrain.labs.runner import run_checks
from crosstrain.labs.solves import SolveContext, load_solves, run_solve, run_teardown
from crosstrain.labs.submission import run_submission
from crosstrain.labs.workspace import start_workspace

SECRET = "crosstrain-self-test"
# Every phase runs the checks both ways: as `lab check` and the Check button run them (no hidden
# data), and as grading does (hidden data from the course secret).
PATHS: dict[str, str | None] = {"learner": None, "grading": SECRET}
WHO = {"learner": "no hidden data, as `lab check` runs", "grading": "hidden data"}
Paths = dict[str, list[CheckResult]]


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
        with sandbox.start(enforce_iam=lab.manifest.sandbox.enforce_iam) as sb:
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
    found = markers.scan(page.read_text(), str(page))
    widgets = found.steps
    steps = lab.manifest.step_ids
    unknown = [w for w in widgets if w not in steps]
    absent = [s for s in steps if s not in widgets]
    detail = "; ".join(
        part
        for part in (
            f"unknown steps: {', '.join(unknown)}" if unknown else "",
            f"no widget for: {', '.join(absent)}" if absent else "",
            *found.problems,
        )
        if part
    )
    findings.append(Finding("docs page has a check widget per step", not detail, detail))
    return findings


def self_test(lab: Lab, report: Callable[[Finding], None] | None = None) -> SelfTestReport:
    """Run the self-test contract for ``lab``; ``report`` sees each finding as it is made."""
    run = _Run(lab, SelfTestReport(lab.slug), report)
    try:
        specs, solves, cases = load_checks(lab), load_solves(lab), load_misconceptions(lab)
    except CrosstrainError as exc:
        run.add("content loads", False, str(exc))
        run.out.unreached_hints = misspelt_hints(lab)
        return run.out
    run.dependent = path_dependent(lab.grader_dir / "checks.py", specs)
    run.add(
        "content loads",
        True,
        f"{len(specs)} checks, {len(solves.steps)} solves, {len(cases)} misconceptions",
    )
    for finding in static_findings(lab):
        run.add(finding.name, finding.ok, finding.detail)
    run.steps_in_order(solves)
    run.solution_and_starter()
    for case in cases:
        run.misconception(case, solves)
    bugs = sorted(run.bugs)
    run.add("no check reports a check bug", not bugs, "; ".join(bugs))
    run.out.unreached_hints = [
        f"{spec.name}:{hint}"
        for spec in specs
        for hint in spec.hint_ids
        if (spec.name, hint) not in run.reached
    ]
    return run.out


def misspelt_hints(lab: Lab) -> list[str]:
    """Hint keys the checks raise but do not declare, as ``check:key (why)`` (the checks must
    load without that validation; otherwise there is nothing to say)."""
    try:
        specs = load_checks(lab, validate_hints=False)
    except CrosstrainError:
        return []
    path = lab.grader_dir / "checks.py"
    return [
        f"{u.check}:{u.key} (not declared, line {u.line}; {u.suggestion})"
        for u in undeclared_hints(path, specs)
    ]


@dataclass
class _Run:
    """One self-test run: the findings so far and what the checks said along the way."""

    lab: Lab
    out: SelfTestReport
    report: Callable[[Finding], None] | None
    reached: set[tuple[str, str]] = field(default_factory=set)
    dependent: set[str] | None = None  # checks that read hidden data (None: all)
    bugs: set[str] = field(default_factory=set)  # an undeclared hint, a wrong return type

    def add(self, name: str, ok: bool, detail: str = "") -> None:
        finding = Finding(name, ok, detail)
        self.out.findings.append(finding)
        if self.report:
            self.report(finding)

    def checks(self, sb, workspace, step=None) -> Paths:
        """The checks both ways: as the learner runs them (no hidden data), then as grading.
        A check that never reads ``ctx.hidden``/``ctx.grading`` behaves the same both ways, so
        the learner path reuses its grading result instead of running it again."""
        out = {}
        for path, secret in PATHS.items():
            only = self.dependent if path == "learner" else None
            results = run_checks(self.lab, sb, workspace, step, secret, only=only)
            self.reached.update((r.check, r.hint_id) for r in results if r.status == FAILED)
            self.bugs.update(
                f"{r.check} ({path}): {r.message}" for r in results if "check bug" in r.message
            )
            out[path] = results
        fresh = {r.check for r in out["learner"]}
        out["learner"] = [
            next((r for r in out["learner"] if r.check == g.check), g) if g.check in fresh else g
            for g in out["grading"]
        ]
        return out

    def judge(self, name: str, paths: Paths, ok: Callable[[list[CheckResult]], bool], detail=""):
        """A finding that holds only if ``ok`` holds on every path; a failure names the path."""
        bad = [path for path, results in paths.items() if not ok(results)]
        why = "; ".join(f"[{path} path, {WHO[path]}] {summary(paths[path])}" for path in bad)
        self.add(name, not bad, "; ".join(part for part in (detail, why) if part))

    def steps_in_order(self, solves) -> None:
        """Each step fails before its solve and passes after; teardown, then a redo."""
        lab = self.lab
        with fresh(lab) as (sb, workspace):
            for step in lab.manifest.steps:
                before = self.checks(sb, workspace, step.id)
                self.judge(f"{step.id}: fails before its solve", before, all_failed)
                try:
                    run_solve(solves.steps[step.id], lab, sb, workspace)
                except CrosstrainError as exc:
                    self.add(f"{step.id}: solve runs", False, str(exc))
                    return
                after = self.checks(sb, workspace, step.id)
                self.judge(f"{step.id}: passes after the solves up to it", after, all_passed)
            self.redo(solves, sb, workspace)

    def redo(self, solves, sb, workspace) -> None:
        name = "teardown, then the solves redo the lab"
        try:
            run_teardown(self.lab, sb, workspace, solves)
            left = total(self.checks(sb, workspace)["grading"])
            for spec in solves.upto(self.lab, None):
                run_solve(spec, self.lab, sb, workspace)
            again = self.checks(sb, workspace)
        except CrosstrainError as exc:
            self.add(name, False, str(exc))
            return
        self.judge(name, again, all_passed, f"{left} points left after teardown")

    def solution_and_starter(self) -> None:
        """The solution scores full points twice in a row; the starter scores zero."""
        lab, full = self.lab, self.lab.manifest.points
        with fresh(lab, extra_from=lab.solution_dir) as (sb, workspace):
            for attempt in ("first", "second"):
                runs = run_submission(lab, workspace, sb)
                crashed = [f"{o.file}: {o.error}" for o in runs if not o.ok]
                results = self.checks(sb, workspace)
                detail = f"{total(results['grading'])}/{full} points" + "".join(
                    f"; {c}" for c in crashed
                )
                name = f"solution scores full points ({attempt} run)"
                clean = not crashed
                self.judge(name, results, lambda r, c=clean: c and total(r) == full, detail)
        with fresh(lab) as (sb, workspace):
            run_submission(lab, workspace, sb)
            results = self.checks(sb, workspace)
            detail = f"{total(results['grading'])}/{full} points"
            self.judge("starter scores zero", results, lambda r: total(r) == 0, detail)

    def misconception(self, case, solves) -> None:
        """The case, set up after the solves before its step, fails with its expected hint."""
        name = f"misconception {case.path.stem}: hint {case.hint!r}"
        with fresh(self.lab) as (sb, workspace):
            try:
                for spec in solves.before(self.lab, case.step):
                    run_solve(spec, self.lab, sb, workspace)
                case.apply(SolveContext(self.lab, sb, workspace, allowed=None))
            except Exception as exc:  # noqa: BLE001 - a broken case is a finding
                self.add(name, False, f"setting up the case failed: {type(exc).__name__}: {exc}")
                return
            paths = self.checks(sb, workspace, case.step)
        bad = {p: r for p, r in paths.items() if not hinted(r, case.hint)}
        if not bad:
            self.add(name, True, case.description)
            return
        why = "; ".join(
            f"[{path} path, {WHO[path]}] expected hint {case.hint!r}, got {got_hints(results)}"
            for path, results in bad.items()
        )
        self.add(name, False, f"{why}; {summary(next(iter(bad.values())))}")


def hinted(results: list[CheckResult], hint: str) -> bool:
    """Some check failed with ``hint`` (so the step is not done)."""
    return any(r.status == FAILED and r.hint_id == hint for r in results)


def got_hints(results: list[CheckResult]) -> str:
    """What the step's checks said instead, e.g. ``'default' (bucket_exists), none (x: passed)``."""
    said = [
        f"{r.hint_id!r} ({r.check})" if r.status == FAILED else f"none ({r.check}: {r.status})"
        for r in results
    ]
    return ", ".join(said) or "no check ran"


def all_failed(results: list[CheckResult]) -> bool:
    return all(r.status == FAILED for r in results)


def all_passed(results: list[CheckResult]) -> bool:
    return all(r.passed for r in results)


def total(results: list[CheckResult]) -> int:
    return sum(r.points for r in results)
