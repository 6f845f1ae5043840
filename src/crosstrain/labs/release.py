"""Generate the learner's starter files from the reference solution with nbgrader.

Every file under ``solutions/NN-slug/`` except ``solve.py`` is released to ``labs/NN-slug/`` at
the same path. Notebooks go through nbgrader's own ``ClearSolutions`` and ``ClearOutput``
preprocessors; a code cell holding ``### BEGIN SOLUTION`` / ``### END SOLUTION`` needs no
nbgrader metadata (:func:`mark_solution_cells` adds it; ``crosstrain author mark`` writes it into
the solution notebooks). A text file with the markers is cleared by the same ``ClearSolutions``
(as a one-cell notebook); other files are copied unchanged.
"""

from __future__ import annotations

from pathlib import Path

from crosstrain.errors import CrosstrainError
from crosstrain.labs.catalog import Lab

NOT_RELEASED = {"solve.py"}
# The stub a cleared region becomes, by file type (nbgrader's default is the
# Python raise-statement stub, which would break a YAML template or a SQL file).
STUBS = {
    ".yaml": ("yaml", "# YOUR CODE HERE"),
    ".yml": ("yaml", "# YOUR CODE HERE"),
    ".sql": ("sql", "-- YOUR CODE HERE"),
    ".sh": ("shell", "# YOUR CODE HERE"),
    ".toml": ("toml", "# YOUR CODE HERE"),
}
SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints"}
BEGIN = "### BEGIN SOLUTION"


def released_files(lab: Lab) -> list[str]:
    """The solution files that have a starter counterpart, relative to the solution folder."""
    files = []
    for path in sorted(lab.solution_dir.rglob("*")):
        rel = path.relative_to(lab.solution_dir)
        if (
            path.is_file()
            and rel.as_posix() not in NOT_RELEASED
            and not SKIPPED_PARTS & set(rel.parts)
        ):
            files.append(rel.as_posix())
    return files


def mark_solution_cells(nb) -> list[str]:
    """Give every code cell with a ``### BEGIN SOLUTION`` region and no nbgrader metadata the
    metadata of an nbgrader solution cell; return the ``grade_id`` of each cell marked."""
    taken = {(c.metadata.get("nbgrader") or {}).get("grade_id") for c in nb.cells}
    marked = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or BEGIN not in cell.source or "nbgrader" in cell.metadata:
            continue
        grade_id = f"solution-{index}"
        while grade_id in taken:
            grade_id += "-x"
        taken.add(grade_id)
        cell.metadata["nbgrader"] = {
            "grade": False,
            "grade_id": grade_id,
            "locked": False,
            "schema_version": 3,
            "solution": True,
        }
        marked.append(grade_id)
    return marked


def mark_notebook(path: Path) -> list[str]:
    """:func:`mark_solution_cells` on the notebook at ``path``, written back when it changed."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    marked = mark_solution_cells(nb)
    if marked:
        nbformat.write(nb, path)
    return marked


def _preprocess(nb, path: Path):
    from nbgrader.preprocessors import ClearOutput, ClearSolutions

    resources: dict = {}
    clear = ClearSolutions()
    clear.code_stub = {**clear.code_stub, **dict(STUBS.values())}
    try:
        for preprocessor in (clear, ClearOutput()):
            nb, resources = preprocessor.preprocess(nb, resources)
    except (RuntimeError, ValueError) as exc:
        raise CrosstrainError(
            f"{path}: nbgrader cannot clear the solution ({exc}); pair every "
            "### BEGIN SOLUTION with ### END SOLUTION"
        ) from None
    return nb


def starter_notebook(path: Path) -> str:
    """The starter version of the solution notebook at ``path``, as notebook JSON."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    mark_solution_cells(nb)
    return nbformat.writes(_preprocess(nb, path)) + "\n"


def starter_text(path: Path) -> str:
    """The starter version of a text file with solution markers."""
    import nbformat

    cell = nbformat.v4.new_code_cell(
        path.read_text(), metadata={"nbgrader": {"solution": True, "grade_id": path.name}}
    )
    language = STUBS.get(path.suffix, ("python", ""))[0]
    nb = nbformat.v4.new_notebook(
        cells=[cell],
        metadata={"kernelspec": {"name": language, "display_name": language, "language": language}},
    )
    return _preprocess(nb, path).cells[0].source


def starter_content(path: Path) -> bytes:
    if path.suffix == ".ipynb":
        return starter_notebook(path).encode()
    data = path.read_bytes()
    if BEGIN.encode() in data:
        return starter_text(path).encode()
    return data


def stale_starters(lab: Lab) -> list[str]:
    """Starter files that are missing or differ from what the solution would release."""
    return [
        rel
        for rel in released_files(lab)
        if not (lab.lab_dir / rel).is_file()
        or (lab.lab_dir / rel).read_bytes() != starter_content(lab.solution_dir / rel)
    ]


def release(lab: Lab) -> list[str]:
    """Regenerate the lab's starter files; return those that changed."""
    changed = stale_starters(lab)
    for rel in changed:
        dest = lab.lab_dir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(starter_content(lab.solution_dir / rel))
    return changed
