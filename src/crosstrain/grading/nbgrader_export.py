"""Export labs as an nbgrader course, for instructors who already grade with nbgrader.

``crosstrain course export-nbgrader DIR`` writes ``DIR/nbgrader_config.py`` and, per lab,
``DIR/source/<lab>/``: the solution notebook (its ``### BEGIN SOLUTION`` regions are already
nbgrader's), a locked setup cell that points boto3 at a sandbox, and one autograder test cell per
step that calls the lab's checks (:func:`check_step`) and outputs the step's points (nbgrader's
partial credit). The hidden part of each test cell turns on the hidden cases, drawn from
``CROSSTRAIN_GRADING_SECRET`` at autograde time; the feedback is configured to strip it.
The lab's other starter files (never the solution's) are copied next to the notebook.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from crosstrain.errors import CrosstrainError

HIDDEN_FLAG = "CROSSTRAIN_NBGRADER_HIDDEN"
SECRET_ENV = "CROSSTRAIN_GRADING_SECRET"
CONFIG = """\
# nbgrader configuration written by `crosstrain course export-nbgrader`.
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "crosstrain"
# The learner's own files (e.g. a Lambda handler) are graded, not replaced by the source's.
c.Autograde.exclude_overwriting = {learner_files}
c.ExecutePreprocessor.timeout = 300
# Feedback never shows the hidden part of a test cell.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
"""
SETUP = """\
# crosstrain: point boto3 at a sandbox (a fresh one when nbgrader grades). Do not edit.
from crosstrain.grading.nbgrader_export import start_sandbox

_crosstrain_sandbox = start_sandbox()"""
TEST = """\
from crosstrain.grading.nbgrader_export import check_step

### BEGIN HIDDEN TESTS
import os

os.environ["{flag}"] = "1"
### END HIDDEN TESTS
check_step("{lab}", "{step}")"""


def start_sandbox():
    """The sandbox this notebook talks to: a fresh ephemeral one under nbgrader, or when none is
    configured; otherwise the learner's own (``AWS_ENDPOINT_URL``)."""
    from crosstrain import sandbox

    if os.environ.get("AWS_ENDPOINT_URL") and not os.environ.get("NBGRADER_EXECUTION"):
        return None
    sb = sandbox.start()
    os.environ.update(sb.env())
    return sb


def check_step(lab: str, step: str, workspace: str | Path = ".") -> int:
    """Run the checks of ``step`` against the notebook's sandbox; print them; return the points.

    Hidden cases run only when the hidden part of the test cell ran and the secret is set.
    Printed messages never show hidden cases.
    """
    from crosstrain.grading.checking import run_lab_checks
    from crosstrain.labs import skips
    from crosstrain.labs.catalog import get_lab
    from crosstrain.labs.checks import load_checks
    from crosstrain.labs.results import Status
    from crosstrain.sandbox import Sandbox
    from crosstrain.settings import settings

    the_lab = get_lab(lab)
    the_lab.step(step)
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        raise CrosstrainError("no sandbox: run the setup cell at the top of the notebook first")
    specs = [s for s in load_checks(the_lab) if s.step == step]
    secret = os.environ.get(SECRET_ENV) if os.environ.get(HIDDEN_FLAG) else None
    folder = Path(workspace).resolve()
    results = run_lab_checks(the_lab, specs, Sandbox(endpoint), folder, secret)
    score = settings().skipped_steps_score
    results = skips.mark(results, skips.read(folder), score)  # a step the learner skipped
    for r in results:
        word = "passed" if r.status == Status.PASSED else str(r.status).upper()
        shown = r.public_message
        if r.status == Status.SKIPPED:
            shown = f"{skips.SKIPPED_MESSAGE}; the check saw: {shown}"
        print(f"{word} {r.points}/{r.max_points} {r.check}: {shown}")
        if r.status not in (Status.PASSED, Status.SKIPPED) and r.hint:
            print(f"    hint: {r.hint}")
    return sum(r.points for r in results)


def _cell(nbformat, kind: str, source: str, **nbgrader):
    maker = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    cell = maker(source)
    if nbgrader:
        cell.metadata["nbgrader"] = {"schema_version": 3, "solution": False, **nbgrader}
    return cell


def source_notebook(lab, notebook: str):
    """The solution notebook with the setup cell and one test cell per step."""
    import nbformat

    nb = nbformat.read(lab.solution_dir / notebook, as_version=4)
    setup = _cell(
        nbformat, "code", SETUP, grade=False, locked=True, grade_id="crosstrain-setup", points=0
    )
    first_code = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells))
    nb.cells.insert(first_code, setup)
    for step in lab.manifest.steps:
        nb.cells.append(_cell(nbformat, "markdown", f"### Check: {step.title}"))
        source = TEST.format(flag=HIDDEN_FLAG, lab=lab.slug, step=step.id)
        nb.cells.append(
            _cell(
                nbformat,
                "code",
                source,
                grade=True,
                locked=True,
                grade_id=f"check-{step.id}",
                points=step.points,
            )
        )
    return nb


def export_nbgrader(dest: str | Path, labs: list[str] | None = None, force: bool = False) -> dict:
    """Write an nbgrader course for ``labs`` (default: every lab with a submission notebook)."""
    import nbformat

    from crosstrain.labs.catalog import get_lab, list_labs
    from crosstrain.labs.release import released_files
    from crosstrain.labs.workspace import starter_files

    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()) and not force:
        raise CrosstrainError(f"{dest} is not empty; pick a new folder or pass --force")
    chosen = [get_lab(name) for name in labs] if labs else list_labs()
    chosen = [lab for lab in chosen if lab.manifest.submission.notebooks]
    if not chosen:
        raise CrosstrainError("no lab has a submission notebook to export; check lab.yaml")
    written, learner_files = {}, {}
    for lab in chosen:
        folder = dest / "source" / lab.slug
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        notebooks = lab.manifest.submission.notebooks
        for rel in starter_files(lab):
            if rel not in notebooks:
                (folder / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(lab.lab_dir / rel, folder / rel)
        for rel in notebooks:
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(source_notebook(lab, rel), folder / rel)
        learner_files[lab.slug] = [f for f in released_files(lab) if f not in notebooks]
        files = [p for p in folder.rglob("*") if p.is_file()]
        written[lab.slug] = sorted(str(p.relative_to(dest)) for p in files)
    config = CONFIG.format(learner_files=learner_files)
    (dest / "nbgrader_config.py").write_text(config)
    return {"course": str(dest), "assignments": written}
