"""The stages of grading one submission, each a small function of the batch's
:class:`~crosstrain.grading.grader.Grader` and the submission's :class:`Job`:

    unpack → hand over → start sandbox → run learner code → tamper check → checks → record

and :func:`teardown`, which runs whatever happened.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from crosstrain.grading import cells, intake, isolate, jail, reserve, unit, zygote
from crosstrain.grading.checking import grader_fingerprint, run_lab_checks
from crosstrain.grading.learnercode import JailedLearnerCode
from crosstrain.grading.netns import Forwarder, Namespace
from crosstrain.grading.results import (
    RAN,
    GradedCheck,
    GradeResult,
    GradeStatus,
    RunReport,
    RunStatus,
)
from crosstrain.grading.supervise import entries
from crosstrain.grading.unit import Unit
from crosstrain.grading.unpack import settle_root, unpack
from crosstrain.labs import skips
from crosstrain.labs.results import Status
from crosstrain.sandbox import Sandbox

if TYPE_CHECKING:
    from crosstrain.grading.grader import Grader, Submission


@dataclass
class Job:
    """One submission being graded: its folders, its user and what each stage found."""

    sub: Submission
    root: Path  # a fresh temporary folder, removed at the end
    user: str | int | None
    notes: list[str] = field(default_factory=list)
    sandbox: Sandbox | None = None  # the submission's own handle (stopped at teardown)
    checked: Sandbox | None = None  # what the checks talk to (through the forwarder if any)
    unit: isolate.Confinement | None = None
    cgroup: Unit | None = None
    namespace: Namespace | None = None
    forwarder: Forwarder | None = None
    runs: list[RunReport] = field(default_factory=list)
    checks: list[GradedCheck] = field(default_factory=list)
    learner: JailedLearnerCode | None = None
    skipped: set[str] = field(default_factory=set)  # steps the learner skipped (lab skip)
    attempted: dict[str, bool] = field(default_factory=dict)  # step -> changed from the starter

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


def unpack_submission(grader: Grader, job: Job) -> None:
    """Stage 1: the lab's starter with the submission unpacked (safely) over it."""
    (job.home / "tmp").mkdir(parents=True)
    (job.sandbox_home / "tmp").mkdir(parents=True)
    unpacked = unpack(job.sub.path, job.upload, grader.limits)
    lifted = settle_root(job.upload, grader.files)
    found = intake.check(grader.lab, job.upload)  # never grade the starter in its place
    job.attempted = found.attempted
    from crosstrain.labs.workspace import starter_files

    for rel in starter_files(grader.lab):
        (job.workspace / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(grader.lab.lab_dir / rel, job.workspace / rel)
    shutil.copytree(job.upload, job.workspace, symlinks=True, dirs_exist_ok=True)
    job.skipped = skips.read(job.workspace) & set(grader.lab.manifest.step_ids)
    job.notes += unpacked.notes
    if lifted:
        job.notes.append(f"used the files inside the folder {lifted}/")
    job.notes += found.notes


def hand_over(grader: Grader, job: Job) -> None:
    """Stage 2: the submission's folder belongs to its (fresh) user; its unit (cgroup), its
    network namespace and the jail that hides the rest are made."""
    isolate.hand_over(job.folder, job.user)
    plan = None
    if grader.isolation.jailed:
        plan = jail.make_plan(grader.hide, [job.folder, *jail.python_paths()])
    limits = grader.limits
    if grader.reservation is not None and grader.contain:
        memory = limits.memory_mb + limits.sandbox_mb
        job.cgroup = unit.create(grader.reservation.slot, job.root.name, memory, limits.max_tasks)
        job.namespace = Namespace.create()
    cgroup = None
    if job.cgroup is not None:
        dirs = {k: str(v) for k, v in job.cgroup.dirs.items()}
        cgroup = {"kind": job.cgroup.kind, "procs": job.cgroup.procs_files(), "dirs": dirs}
    job.unit = isolate.Confinement(
        folder=job.folder,
        env={},
        limits=limits,
        user=job.user,
        plan=plan,
        stop=grader.stop,
        cgroup=cgroup,
        netns=job.namespace.path if job.namespace else None,
        # Without a cgroup, the uid is the unit: RLIMIT_NPROC bounds all of its processes.
        nproc=limits.max_tasks
        if cgroup is None and grader.reservation is not None and isinstance(job.user, int)
        else None,
    )


def start_sandbox(grader: Grader, job: Job) -> None:
    """Stage 3: a fresh sandbox inside the submission's unit, namespace and jail, as its user
    (it runs the learner's deployed code: Lambda handlers, models)."""
    from crosstrain import sandbox

    grader.check_stop()
    unit = job.unit
    procs = unit.cgroup["procs"] if unit.cgroup else None
    # Without a network namespace of its own, the sandbox serves only this submission's key:
    # another submission's code can reach its port but cannot make a call it accepts.
    token = None if job.namespace is not None else secrets.token_hex(16)
    enforce_iam = grader.lab.manifest.sandbox.enforce_iam
    env = isolate.sandbox_env(job.sandbox_home)
    if grader.zygote is not None:  # a fresh process, forked pre-imported, same confinement
        spec = {"plan": unit.plan, "user": unit.user, "procs": procs or []}
        spec |= {"netns": unit.netns, "nproc": unit.nproc}
        argv = zygote.server_argv() + (["--enforce-iam"] if enforce_iam else [])
        job.sandbox = grader.zygote.start(argv, env, spec, zygote.REGION, access_key=token)
    else:
        launcher = None
        if unit.user is not None or unit.cgroup or unit.netns or unit.nproc:
            launcher = jail.launcher(
                unit.plan, unit.user, procs=procs, netns=unit.netns, nproc=unit.nproc
            )
        job.sandbox = sandbox.start(
            env=env, launcher=launcher, token=token, enforce_iam=enforce_iam
        )
    job.unit = unit.with_env(isolate.learner_env(job.sandbox.env(), job.home))
    job.checked = job.sandbox
    if job.namespace is not None:  # the checks reach it from outside the namespace
        job.forwarder = Forwarder(job.namespace, job.sandbox.port)
        url = f"http://127.0.0.1:{job.forwarder.port}"
        job.checked = Sandbox(url, pid=job.sandbox.pid, region=job.sandbox.region)


def run_learner_code(grader: Grader, job: Job) -> None:
    """Stage 4: the manifest's notebooks and scripts, each under the supervisor."""
    steps = grader.lab.manifest.step_ids
    for rel in grader.files:
        grader.check_stop()
        report = isolate.run_file(rel, job.workspace, job.unit, grader.timeout)
        if rel.endswith(".ipynb"):  # the failing cell as the learner sees it, tied to its step
            report.message = cells.locate(report.message, job.workspace / rel, steps)
        job.runs.append(report)
    job.notes += unlink_escaping_links(job.workspace)


def tampered(grader: Grader, job: Job) -> bool:
    """Stage 5: whether the learner's code changed the grader's files."""
    return grader_fingerprint(grader.lab) != grader.grader_hash


def run_checks(grader: Grader, job: Job) -> None:
    """Stage 6: the lab's checks, here in the trusted process, with hidden data; what they
    run of the learner's (a model, a function) runs in the submission's confinement."""
    job.learner = JailedLearnerCode(job.unit, job.home)
    checks = run_lab_checks(
        grader.lab, grader.specs, job.checked, job.workspace, grader.secret, job.learner
    )
    job.checks = skips.mark(checks, job.skipped, grader.skipped_score)
    for c in job.checks:
        if c.step in job.skipped:
            c.public_message = f"{skips.SKIPPED_MESSAGE}; the check saw: {c.public_message}"


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
    if job.skipped:
        ordered = [s for s in grader.lab.manifest.step_ids if s in job.skipped]
        parts.append("skipped by the learner: " + ", ".join(ordered))
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
        attempted=job.attempted,
    )


def teardown(job: Job) -> None:
    """Whatever happened: nothing of the submission survives (its unit killed, its uid's
    processes swept, its namespace and folder gone)."""
    if job.forwarder is not None:
        job.forwarder.close()
    if job.cgroup is not None:
        job.cgroup.remove()  # the sandbox and its workers with it
    if job.sandbox is not None:  # stopped off the critical path (already dead in a unit)
        threading.Thread(target=job.sandbox.stop, name="sandbox-stop", daemon=True).start()
    if isinstance(job.user, int) and job.user >= jail.FIRST_LEARNER_UID:
        reserve.kill_uids(range(job.user, job.user + 1))  # a setsid grandchild, no cgroups
    if job.namespace is not None:
        job.namespace.close()
    # rm, not shutil.rmtree: learner code may leave a tree too deep for recursion.
    subprocess.run(["rm", "-rf", "--one-file-system", str(job.root)], check=False)


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
