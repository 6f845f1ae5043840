"""Name a failing notebook cell as the learner sees it: which step it belongs to, and its place
among the cells they can see (``cell 4`` from the runner counts every cell, markdown included).

``cell 4 raised NotImplementedError`` becomes ``cell 4 (code cell 2, step store-dataset) raised
NotImplementedError``: the step is the one whose solution cell (nbgrader ``grade_id``) or whose
heading (``(`step-id`)``) comes last at or before the cell.
"""

from __future__ import annotations

import re
from pathlib import Path

from crosstrain.grading.intake import read_notebook

FAILED_CELL = re.compile(r"\bcell (\d+) raised\b")


def step_of(cells: list[dict], index: int, steps: list[str]) -> str | None:
    """The step the cell at ``index`` (0-based) belongs to, if the notebook says."""
    current = None
    for cell in cells[: index + 1]:
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        if meta.get("grade_id") in steps:
            current = meta["grade_id"]
            continue
        if cell.get("cell_type") == "markdown":
            source = cell.get("source", "")
            text = "".join(source) if isinstance(source, list) else source
            named = [s for s in steps if f"(`{s}`)" in text]
            if named:
                current = named[0]
    return current


def locate(message: str, notebook: Path, steps: list[str]) -> str:
    """``message`` with its failing cell placed (unchanged when it names no cell)."""
    match = FAILED_CELL.search(message)
    nb = read_notebook(notebook) if match else None
    if nb is None:
        return message
    index = int(match.group(1)) - 1
    cells = nb["cells"]
    if not 0 <= index < len(cells):
        return message
    code = sum(c.get("cell_type") == "code" for c in cells[: index + 1])
    where = [f"code cell {code}"]
    step = step_of(cells, index, steps)
    if step:
        where.append(f"step {step}")
    placed = f"cell {index + 1} ({', '.join(where)}) raised"
    return message[: match.start()] + placed + message[match.end() :]
