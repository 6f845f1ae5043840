"""The skip record a lab's workspace carries into its submission.

``crosstrain lab skip`` runs reference solves; the learner's progress store remembers that, but it
lives outside the lab's folder. So the steps are also listed in ``.crosstrain/skipped.json`` inside
the lab's workspace, which is what learners submit: grading reads it (before any learner code
runs) and marks those steps ``skipped`` in every export instead of passed or failed. A learner who
edits the file can only mark more of their own steps skipped, which never earns more points.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from crosstrain.labs.results import CheckResult, Status

MARKER = Path(".crosstrain") / "skipped.json"
MAX_BYTES = 64 * 1024
SKIPPED_MESSAGE = "skipped: the learner ran the reference solution (crosstrain lab skip)"


def record(workspace: Path, steps: list[str]) -> None:
    """Add ``steps`` to the workspace's skip record."""
    path = workspace / MARKER
    path.parent.mkdir(parents=True, exist_ok=True)
    steps = sorted(read(workspace) | set(steps))
    path.write_text(json.dumps({"skipped": steps}, indent=2) + "\n")


def read(workspace: Path) -> set[str]:
    """The steps the workspace says were skipped (none if the record is missing or unreadable)."""
    path = workspace / MARKER
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_BYTES:
            return set()
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return set()
    steps = data.get("skipped") if isinstance(data, dict) else None
    return {s for s in steps if isinstance(s, str)} if isinstance(steps, list) else set()


def mark(results: list[CheckResult], skipped: set[str], score: bool) -> list:
    """``results`` with every check of a skipped step marked ``skipped``, whatever it found.

    It keeps its points only when it passed and ``score`` (the ``skipped_steps_score`` setting);
    its message says it was skipped and what the check saw."""
    return [
        replace(
            r,
            status=Status.SKIPPED,
            points=r.points if score and r.status == Status.PASSED else 0,
            message=f"{SKIPPED_MESSAGE}; the check saw: {r.message}",
        )
        if r.step in skipped
        else r
        for r in results
    ]
