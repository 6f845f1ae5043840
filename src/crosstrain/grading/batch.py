"""Grade a class: every submission unpacked safely, run isolated in a fresh sandbox, then checked.

>>> from crosstrain.grading.batch import grade
>>> summary = grade("submissions/", "00-sandbox-orientation", "grades/", jobs=2, secret="...")

Per submission: a fresh temporary folder holding the lab's starter with the submission unpacked
over it; a fresh ephemeral sandbox in its own process; the lab's ``submission`` notebooks and
scripts run isolated (:mod:`crosstrain.grading.isolate`); then the lab's checks run here, in the
trusted grader process, with hidden data from the course secret. Results go to a SQLite store as
each submission finishes, so an interrupted batch resumes where it stopped.
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
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from crosstrain.errors import CrosstrainError
from crosstrain.grading import isolate, jail
from crosstrain.grading.checking import grader_fingerprint, run_lab_checks
from crosstrain.grading.limits import Limits
from crosstrain.grading.store import GradeStore
from crosstrain.grading.supervise import entries
from crosstrain.grading.unpack import Rejected, settle_root, unpack

if TYPE_CHECKING:
    from crosstrain.labs.catalog import Lab
    from crosstrain.labs.checks import CheckSpec

STOP_GRACE = 20.0  # seconds Ctrl-C waits for in-flight submissions before giving up on them
GRADED, CODE_FAILED, REJECTED, TAMPERED, ERROR = (
    "graded",
    "code-failed",
    "rejected",
    "tampered",
    "error",
)


@dataclass(frozen=True)
class Submission:
    student: str
    path: Path


def find_submissions(folder: str | Path) -> list[Submission]:
    """Per-student folders and ``.zip`` files in ``folder``; the name is the student id."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CrosstrainError(f"{folder} is not a folder; pass the folder holding the submissions")
    found: dict[str, Submission] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith((".", "_")):
            continue
        student = path.name[:-4] if path.suffix.lower() == ".zip" else path.name
        if not (path.is_dir() or path.suffix.lower() == ".zip" or path.is_symlink()):
            continue
        if student in found:
            raise CrosstrainError(
                f"{student} has two submissions ({found[student].path.name} and {path.name}); "
                "keep one of them"
            )
        found[student] = Submission(student, path)
    return list(found.values())


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
    # One slot per submission graded at a time; a slot picks the learner's uid (see Isolation).
    slots: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)

    @property
    def files(self) -> list[str]:
        spec = self.lab.manifest.submission
        return [*spec.notebooks, *spec.scripts]

    @property
    def timeout(self) -> float:
        return self.limits.timeout or self.lab.manifest.submission.time_limit

    def result(self, sub: Submission, status: str, message: str, **extra) -> dict:
        steps = {s.id: 0 for s in self.lab.manifest.steps}
        return {
            "student": sub.student,
            "lab": self.lab.slug,
            "status": status,
            "message": message,
            "points": 0,
            "max_points": self.lab.manifest.points,
            "steps": steps,
            "checks": [],
            "runs": [],
            "notes": [],
            "fingerprint": fingerprint(sub.path),
            "graded_at": now(),
            "seconds": 0.0,
        } | extra

    def grade_one(self, sub: Submission) -> dict:
        """Grade one submission; whatever the learner's code does, return a result."""
        started = time.monotonic()
        tmp = Path(tempfile.mkdtemp(prefix="crosstrain-grade-"))
        try:
            result = self._grade_in(sub, tmp)
        except Rejected as exc:
            result = self.result(sub, REJECTED, f"submission rejected: {exc}")
        except Exception as exc:  # noqa: BLE001 - the grader's own failure: retried next run
            result = self.result(sub, ERROR, f"grading failed: {type(exc).__name__}: {exc}")
        finally:
            # rm, not shutil.rmtree: learner code may leave a tree too deep for recursion.
            subprocess.run(["rm", "-rf", "--one-file-system", str(tmp)], check=False)
        result["seconds"] = round(time.monotonic() - started, 2)
        return result

    def _grade_in(self, sub: Submission, tmp: Path) -> dict:
        """Grade as the learner user of a free slot (each concurrent submission has its own)."""
        slot = self.slots.get() if not self.slots.empty() else 0
        try:
            return self._grade_as(sub, tmp, self.isolation.user_for(slot))
        finally:
            self.slots.put(slot)

    def _grade_as(self, sub: Submission, tmp: Path, user: str | int | None) -> dict:
        from crosstrain import sandbox
        from crosstrain.labs.workspace import starter_files

        folder, upload = tmp / "run", tmp / "upload"
        workspace, home, sandbox_home = folder / "work", folder / "home", folder / "sandbox"
        (home / "tmp").mkdir(parents=True)
        (sandbox_home / "tmp").mkdir(parents=True)
        unpacked = unpack(sub.path, upload, self.limits)
        lifted = settle_root(upload, self.files)
        for rel in starter_files(self.lab):
            (workspace / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(self.lab.lab_dir / rel, workspace / rel)
        shutil.copytree(upload, workspace, symlinks=True, dirs_exist_ok=True)
        notes = list(unpacked.notes)
        if lifted:
            notes.append(f"used the files inside the folder {lifted}/")
        isolate.hand_over(folder, user)
        plan = None
        if self.isolation.jailed:
            keep = [folder, *jail.python_paths()]
            plan = jail.make_plan(self.hide, keep)
        if self.stop.is_set():
            raise InterruptedError("stopped")
        # The sandbox runs the learner's deployed code (Lambda handlers, models): jailed too.
        launcher = jail.launcher(plan, user) if plan is not None and user is not None else None
        sb = sandbox.start(env=isolate.sandbox_env(sandbox_home), launcher=launcher)
        try:
            env = isolate.learner_env(sb.env(), home)
            runs = []
            for rel in self.files:
                if self.stop.is_set():
                    raise InterruptedError("stopped")
                runs.append(
                    isolate.run_file(
                        rel,
                        workspace,
                        folder,
                        env,
                        self.limits,
                        self.timeout,
                        user,
                        plan,
                        self.stop,
                    )
                )
            notes += unlink_escaping_links(workspace)
            if grader_fingerprint(self.lab) != self.grader_hash:
                return self.result(
                    sub,
                    TAMPERED,
                    "the submission's code changed the grader's files; restore them "
                    "(git checkout graders/) and regrade this student with --regrade",
                    runs=[r.as_dict() for r in runs],
                )
            checks = run_lab_checks(self.lab, self.specs, sb, workspace, self.secret)
        finally:  # nothing is read from it any more: let it stop off the critical path
            threading.Thread(target=sb.stop, name="sandbox-stop", daemon=True).start()
        failed = [r for r in runs if not r.ok]
        said = [r for r in runs if not r.ok or r.message != isolate.RAN]
        message = "; ".join(f"{r.file}: {r.message}" for r in said) or "all code ran"
        status = CODE_FAILED if failed else GRADED
        broken = [c for c in checks if c["status"] == "error"]
        if broken:  # a check that could not decide is never the final word: retried next run
            status = ERROR
            message = "; ".join(f"check {c['check']}: {c['message']}" for c in broken) + (
                f"; {message}; run the same command again to retry"
            )
        steps = {s.id: 0 for s in self.lab.manifest.steps}
        for item in checks:
            steps[item["step"]] += item["points"]
        return self.result(
            sub,
            status,
            message,
            points=sum(steps.values()),
            steps=steps,
            checks=checks,
            runs=[r.as_dict() for r in runs],
            notes=notes,
        )


def hidden_from_learners(lab: Lab, submissions: Path, out: Path) -> list[Path]:
    """What a jailed submission must not see: the whole course (answers, checks, its git
    history; the Python and crosstrain it runs are put back), grades, classmates, our home."""
    from crosstrain.sandbox import lifecycle

    return [
        lab.root,
        submissions,
        out,
        Path.home(),
        lifecycle.home(),
    ]


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


@dataclass
class BatchSummary:
    lab: str
    out_dir: Path
    graded: int
    skipped: int
    total: int
    seconds: float
    statuses: dict[str, int]
    mean_points: float
    max_points: int
    files: list[str]
    warnings: list[str]
    isolation: str = ""

    def as_dict(self) -> dict:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()}


def grade(
    submissions_dir: str | Path,
    lab: str,
    out_dir: str | Path,
    *,
    jobs: int | None = None,
    timeout: float | None = None,
    memory_mb: int = 1024,
    secret: str | None = None,
    regrade: bool = False,
    progress: bool = True,
    limits: Limits | None = None,
    isolation: isolate.Isolation | None = None,
) -> BatchSummary:
    """Grade every submission in ``submissions_dir`` for ``lab``; write the outputs to ``out_dir``.

    Already graded students (same submission bytes) are skipped unless ``regrade``.
    """
    from crosstrain.grading.exports import write_outputs
    from crosstrain.labs.catalog import get_lab
    from crosstrain.labs.checks import load_checks

    started = time.monotonic()
    the_lab = get_lab(lab)
    out = Path(out_dir)
    subs = [s for s in find_submissions(submissions_dir) if s.path.resolve() != out.resolve()]
    limits = limits or Limits(timeout=timeout, memory_mb=memory_mb)
    store = GradeStore(out, the_lab.slug)
    grader = Grader(
        the_lab,
        load_checks(the_lab),
        limits,
        secret,
        isolation or isolate.default_isolation(),
        grader_fingerprint(the_lab),
        hide=hidden_from_learners(the_lab, Path(submissions_dir), out),
    )
    done = {} if regrade else store.done()
    todo = [s for s in subs if done.get(s.student) != fingerprint(s.path)]
    jobs = max(1, jobs or os.cpu_count() or 1)
    try:
        run_batch(grader, todo, store, jobs, progress)
        results = store.results()
        files = write_outputs(out, the_lab, grader.specs, results)
    finally:
        store.close()
    statuses: dict[str, int] = {}
    for r in results:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    warnings = [] if secret else ["no secret given: hidden cases were not run"]
    if todo and grader.isolation.warning():
        warnings.append(grader.isolation.warning())
    return BatchSummary(
        lab=the_lab.slug,
        out_dir=out,
        graded=len(todo),
        skipped=len(subs) - len(todo),
        total=len(results),
        seconds=round(time.monotonic() - started, 2),
        statuses=statuses,
        mean_points=round(sum(r["points"] for r in results) / max(1, len(results)), 2),
        max_points=the_lab.manifest.points,
        files=files,
        warnings=warnings,
        isolation=grader.isolation.describe(),
    )


def run_batch(grader: Grader, todo: list[Submission], store: GradeStore, jobs: int, show: bool):
    """Grade ``todo`` with ``jobs`` workers, saving each result as it finishes."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("grading {task.fields[lab]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not show,
    )
    for slot in range(jobs):
        grader.slots.put(slot)
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="grade")
    try:
        with bar:
            task = bar.add_task("grading", total=len(todo), lab=grader.lab.slug)
            pending = {pool.submit(grader.grade_one, sub) for sub in todo}
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    store.save(future.result())
                    bar.advance(task)
    except KeyboardInterrupt:
        grader.stop.set()
        isolate.kill_live()
        pool.shutdown(wait=False, cancel_futures=True)
        wait(pending, timeout=STOP_GRACE)  # in-flight submissions see the stop and end
        raise CrosstrainError(
            "interrupted; every finished grade is saved: run the same command again to resume",
            exit_code=130,
        ) from None
    pool.shutdown(wait=True)
