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

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from crosstrain.errors import CrosstrainError
from crosstrain.grading import isolate, policy
from crosstrain.grading.checking import grader_fingerprint
from crosstrain.grading.executors import run_local
from crosstrain.grading.grader import Grader, Submission, fingerprint
from crosstrain.grading.limits import Limits
from crosstrain.grading.reserve import reserve
from crosstrain.grading.results import GradeStatus
from crosstrain.grading.store import GradeStore

if TYPE_CHECKING:
    from crosstrain.labs.catalog import Lab

__all__ = ["BatchSummary", "Submission", "find_submissions", "grade"]
# The statuses as they were spelled before GradeStatus (kept for callers that import them).
GRADED, CODE_FAILED, REJECTED, TAMPERED, ERROR = (
    GradeStatus.GRADED,
    GradeStatus.CODE_FAILED,
    GradeStatus.REJECTED,
    GradeStatus.TAMPERED,
    GradeStatus.ERROR,
)


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
    students: list[str] | None = None,
    roster: str | Path | None = None,
    pool: bool = True,
    executor: str = "local",
    scheduler: str | None = None,
) -> BatchSummary:
    """Grade every submission in ``submissions_dir`` for ``lab``; write the outputs to ``out_dir``.

    Already graded students (same submission bytes) are skipped unless ``regrade``; ``students``
    regrades just those, leaving every other row as it is. One gradebook holds one grading
    policy (secret and graders' version): a batch under another one is refused, or with
    ``regrade`` (of everyone) replaces every row. ``roster`` (Canvas's gradebook export) fills
    the Canvas import's id columns. ``pool`` forks each submission's (fresh) sandbox from a
    pre-imported zygote (:mod:`crosstrain.grading.zygote`) instead of starting Python anew.
    ``executor="dask"`` grades on the Dask cluster at ``scheduler``
    (:mod:`crosstrain.grading.daskexec`) into the same store.
    """
    from crosstrain.grading.exports import write_outputs
    from crosstrain.grading.lms import read_roster
    from crosstrain.labs.catalog import get_lab
    from crosstrain.labs.checks import load_checks

    started = time.monotonic()
    the_lab = get_lab(lab)
    out = Path(out_dir)
    ids = read_roster(roster) if roster else None
    subs = [s for s in find_submissions(submissions_dir) if s.path.resolve() != out.resolve()]
    store = GradeStore(out, the_lab.slug)
    grader = Grader(
        the_lab,
        load_checks(the_lab),
        limits or Limits(timeout=timeout, memory_mb=memory_mb),
        secret,
        isolation or isolate.default_isolation(),
        grader_fingerprint(the_lab),
        hide=hidden_from_learners(the_lab, Path(submissions_dir), out),
    )
    now = policy.current(the_lab, secret)
    grader.policy = str(now)
    warnings: list[str] = []
    try:
        todo = select(store, subs, now, out, regrade=regrade, students=students, said=warnings)
    except CrosstrainError:
        store.close()
        raise
    try:
        if executor != "dask":  # Dask workers reserve their own uids and zygotes
            grader.reservation = reserve()
        if pool and todo and executor != "dask":
            grader.zygote = start_zygote(grader.reservation.root)
        workers = max(1, jobs or os.cpu_count() or 1)
        if executor == "dask":
            from crosstrain.grading.daskexec import run_dask

            run_dask(grader, todo, store, scheduler, pool=pool, show=progress)
        else:
            run_local(grader, todo, store, workers, progress)
        results = store.results()
        files = write_outputs(out, the_lab, grader.specs, results, ids)
    finally:
        store.close()
        if grader.zygote is not None:
            grader.zygote.close()
        if grader.reservation is not None:
            grader.reservation.release()
    summary = summarise(
        grader,
        out,
        results,
        files,
        graded=len(todo),
        skipped=len(subs) - len(todo),
        seconds=time.monotonic() - started,
    )
    summary.warnings[:0] = warnings
    return summary


def start_zygote(root: Path):
    """The batch's sandbox fork server, with a sandbox's scrubbed environment (no secret)."""
    import tempfile

    from crosstrain.grading.zygote import SandboxZygote

    home = Path(tempfile.mkdtemp(prefix="zygote-", dir=root))
    (home / "tmp").mkdir()
    os.chmod(home, 0o755)
    return SandboxZygote(isolate.sandbox_env(home))


def select(
    store: GradeStore,
    subs: list[Submission],
    now: policy.Policy,
    out: Path,
    *,
    regrade: bool,
    students: list[str] | None,
    said: list[str],
) -> list[Submission]:
    """The submissions this batch grades, after making sure the gradebook keeps one policy."""
    from crosstrain.labs.catalog import unknown

    held = store.policies()
    others = [policy.Policy.parse(p) for p in held if p != str(now)]
    if others:
        if not regrade or students:
            raise policy.refuse_mix(out, others, now)
        store.clear()
        said.append(f"regraded everyone under this grading policy ({now.describe()})")
    if students:
        names = [s.student for s in subs]
        for wanted in students:
            if wanted not in names:
                raise CrosstrainError(unknown("student", wanted, names, "in the submissions"))
        return [s for s in subs if s.student in set(students)]
    done = {} if regrade else store.done()
    return [s for s in subs if done.get(s.student) != fingerprint(s.path)]


def summarise(
    grader: Grader, out: Path, results, files, *, graded: int, skipped: int, seconds: float
) -> BatchSummary:
    """The batch's summary: counts, statuses, the mean, files written and warnings."""
    statuses: dict[str, int] = {}
    for r in results:
        statuses[str(r.status)] = statuses.get(str(r.status), 0) + 1
    warnings = [] if grader.secret else ["no secret given: hidden cases were not run"]
    if graded and grader.isolation.warning():
        warnings.append(grader.isolation.warning())
    return BatchSummary(
        lab=grader.lab.slug,
        out_dir=out,
        graded=graded,
        skipped=skipped,
        total=len(results),
        seconds=round(seconds, 2),
        statuses=statuses,
        mean_points=round(sum(r.points for r in results) / max(1, len(results)), 2),
        max_points=grader.lab.manifest.points,
        files=files,
        warnings=warnings,
        isolation=describe_isolation(grader),
    )


def describe_isolation(grader: Grader) -> str:
    """How learner code ran in this batch, in one phrase (the CLI prints it)."""
    from crosstrain.grading import netns, unit

    parts = [grader.isolation.describe()]
    if grader.contain and grader.reservation is not None:
        parts.append(unit.describe().split(":")[0])
        if netns.available():
            parts.append("a network namespace per submission")
    return "; ".join(parts)
