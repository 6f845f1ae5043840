"""CI mode: grade the repository a CI job checked out as one submission, pass or fail by a
threshold (GitHub Classroom, GitLab CI, Gradescope's ``run_autograder``).

>>> from crosstrain.grading.ci import grade_repo
>>> outcome = grade_repo(".", threshold="70%")   # the lab is recognised from the notebook
>>> outcome.passed, outcome.points

The repository is snapshot (without ``.git`` and the output folder) and graded exactly as a
class batch grades one student: same isolation, same checks, same outputs. On top of those,
``<out>/gradescope.json`` is the Gradescope ``results.json`` of this submission, and under GitHub
Actions the Classroom reporter's runner result is written to ``$GITHUB_OUTPUT`` (``result``,
base64) and the feedback to ``$GITHUB_STEP_SUMMARY``.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from crosstrain.errors import CrosstrainError
from crosstrain.grading.unpack import JUNK


@dataclass
class CiOutcome:
    """One repository's grade against the threshold."""

    student: str
    lab: str
    status: str
    points: int
    max_points: int
    threshold: float
    message: str
    out_dir: Path
    files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status in ("graded", "code-failed") and self.points >= self.threshold

    def as_dict(self) -> dict:
        data = {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()}
        return data | {"passed": self.passed}


def parse_threshold(text: str | float | int, max_points: int) -> float:
    """``"70%"`` of the lab's points, or a number of points (``"7"``)."""
    raw = str(text).strip()
    try:
        value = float(raw[:-1]) / 100 * max_points if raw.endswith("%") else float(raw)
    except ValueError:
        raise CrosstrainError(
            f"--threshold {text!r} is neither points (7) nor a percentage (70%)"
        ) from None
    if not 0 <= value <= max_points:
        raise CrosstrainError(f"--threshold {text} is outside 0..{max_points} points of the lab")
    return value


def student_name(repo: Path) -> str:
    """The repository's name, as CI systems spell it."""
    for var in ("GITHUB_REPOSITORY", "CI_PROJECT_PATH"):
        if os.environ.get(var):
            return os.environ[var].rstrip("/").rsplit("/", 1)[-1]
    return repo.resolve().name or "submission"


def recognise_lab(repo: Path):
    """The lab whose notebook the repository holds (by its cells), or a one-line error."""
    from crosstrain.grading.intake import notebooks_in, read_notebook, signatures
    from crosstrain.labs.catalog import list_labs

    best = None
    notebooks = [nb for rel in notebooks_in(repo) if (nb := read_notebook(repo / rel))]
    for lab in list_labs():
        for sig in signatures(lab):
            share = max((sig.share(nb) for nb in notebooks), default=0.0)
            if share >= 0.5 and (best is None or share > best[0]):
                best = (share, lab)
    if best is None:
        raise CrosstrainError(
            f"no lab's notebook in {repo}; pass the lab with --lab (e.g. --lab 00)"
        )
    return best[1]


def snapshot(repo: Path, dest: Path, skip: Path) -> None:
    """Copy ``repo`` into ``dest`` without ``.git``, junk and the output folder ``skip``."""
    skip = skip.resolve()

    def ignore(folder: str, names: list[str]) -> list[str]:
        return [
            n for n in names if n in JUNK or n == ".git" or (Path(folder) / n).resolve() == skip
        ]

    shutil.copytree(repo, dest, symlinks=True, ignore=ignore)


def grade_repo(
    repo: str | Path = ".",
    *,
    lab: str | None = None,
    out_dir: str | Path = "crosstrain-results",
    threshold: str | float = "100%",
    secret: str | None = None,
    timeout: float | None = None,
    memory_mb: int = 1024,
    student: str | None = None,
) -> CiOutcome:
    """Grade ``repo`` as one submission into ``out_dir``; see :class:`CiOutcome`."""
    from crosstrain.grading.batch import grade
    from crosstrain.labs.catalog import get_lab

    repo = Path(repo)
    if not repo.is_dir():
        raise CrosstrainError(f"{repo} is not a folder; run in the repository or pass its path")
    the_lab = get_lab(lab) if lab else recognise_lab(repo)
    limit = parse_threshold(threshold, the_lab.manifest.points)
    name = student or student_name(repo)
    out = Path(out_dir)
    with tempfile.TemporaryDirectory(prefix="crosstrain-ci-") as tmp:
        subs = Path(tmp) / "submissions"
        snapshot(repo, subs / name, out)
        summary = grade(
            subs,
            the_lab.slug,
            out,
            jobs=1,
            timeout=timeout,
            memory_mb=memory_mb,
            secret=secret,
            regrade=True,
            progress=False,
        )
    data = json.loads((out / "results.json").read_text())
    mine = next(r for r in data["results"] if r["student"] == name)
    from crosstrain.grading.outfiles import atomic_write, safe_name

    gradescope = (out / "gradescope" / safe_name(name) / "results.json").read_text()
    atomic_write(out / "gradescope.json", gradescope)
    outcome = CiOutcome(
        student=name,
        lab=the_lab.slug,
        status=mine["status"],
        points=mine["points"],
        max_points=mine["max_points"],
        threshold=limit,
        message=mine["message"],
        out_dir=out,
        files=["junit.xml", "gradescope.json", f"feedback/{safe_name(name)}.md"],
        warnings=summary.warnings,
    )
    report_to_github(out, name)
    return outcome


def report_to_github(out: Path, name: str) -> None:
    """Under GitHub Actions: the Classroom runner result as the step output ``result``, and the
    learner's feedback as the job summary."""
    from crosstrain.grading.outfiles import safe_name

    result = out / "lms" / "github-classroom" / f"{safe_name(name)}.json"
    if os.environ.get("GITHUB_OUTPUT") and result.is_file():
        encoded = base64.b64encode(result.read_bytes()).decode()
        with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as fh:
            fh.write(f"result={encoded}\n")
    feedback = out / "feedback" / f"{safe_name(name)}.md"
    if os.environ.get("GITHUB_STEP_SUMMARY") and feedback.is_file():
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as fh:
            fh.write(feedback.read_text())
