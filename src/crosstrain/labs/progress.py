"""The progress store: SQLite in the workspace root, one row per check run."""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from crosstrain.labs.checks import PASSED, SKIPPED, CheckResult

DB_NAME = "progress.sqlite"
log = logging.getLogger("crosstrain")
SCHEMA = """
CREATE TABLE IF NOT EXISTS skips (
    id INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    lab TEXT NOT NULL,
    step TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS check_runs (
    id INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    lab TEXT NOT NULL,
    step TEXT NOT NULL,
    check_name TEXT NOT NULL,
    status TEXT NOT NULL,
    points INTEGER NOT NULL,
    max_points INTEGER NOT NULL,
    message TEXT NOT NULL
)
"""


def db_path(root: Path) -> Path:
    return root / DB_NAME


def _open(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        conn.executescript(SCHEMA)
        conn.execute("SELECT count(*) FROM check_runs").fetchone()
    except sqlite3.DatabaseError:
        conn.close()
        raise
    return conn


def connect(root: Path) -> sqlite3.Connection:
    """The store, created if missing; a corrupt one is moved aside (see :func:`recover`)."""
    root.mkdir(parents=True, exist_ok=True)
    try:
        return _open(db_path(root))
    except sqlite3.DatabaseError as err:
        return recover(root, err)


def recover(root: Path, err: sqlite3.DatabaseError) -> sqlite3.Connection:
    """Move a corrupt store aside, start a new one with every row still readable, say so."""
    path = db_path(root)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    path.replace(aside)
    conn = _open(path)
    saved = 0
    try:
        with closing(sqlite3.connect(aside)) as old:
            for row in old.execute(
                "SELECT time, lab, step, check_name, status, points, max_points, message "
                "FROM check_runs ORDER BY id"
            ):
                conn.execute(
                    "INSERT INTO check_runs (time, lab, step, check_name, status, points,"
                    " max_points, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
                saved += 1
    except sqlite3.DatabaseError:
        pass  # keep what was read before the damage
    conn.commit()
    log.warning(
        "the progress store %s could not be read (%s); it is kept as %s and a new one started "
        "with the %d check runs that could be read",
        path,
        err,
        aside.name,
        saved,
    )
    return conn


def record(root: Path, results: list[CheckResult]) -> None:
    """Append one row per result."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    rows = [
        (now, r.lab, r.step, r.check, r.status, r.points, r.max_points, r.message) for r in results
    ]
    with closing(connect(root)) as conn, conn:
        conn.executemany(
            "INSERT INTO check_runs (time, lab, step, check_name, status, points, max_points,"
            " message) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


def record_skips(root: Path, lab: str, steps: list[str]) -> None:
    """Remember that ``lab``'s ``steps`` were skipped (their reference solves ran)."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    with closing(connect(root)) as conn, conn:
        conn.executemany(
            "INSERT INTO skips (time, lab, step) VALUES (?, ?, ?)", [(now, lab, s) for s in steps]
        )


def clear_skips(root: Path, lab: str) -> None:
    """Forget ``lab``'s skips (a reset starts it over)."""
    if db_path(root).exists():
        with closing(connect(root)) as conn, conn:
            conn.execute("DELETE FROM skips WHERE lab = ?", (lab,))


def skipped_steps(root: Path, lab: str) -> set[str]:
    """The steps of ``lab`` skipped since its last reset."""
    if not db_path(root).exists():
        return set()
    with closing(connect(root)) as conn:
        return {row[0] for row in conn.execute("SELECT step FROM skips WHERE lab = ?", (lab,))}


def mark_skipped(root: Path, lab: str, results: list[CheckResult], score: bool) -> list:
    """``results`` with each passing check of a skipped step marked ``skipped``; it keeps its
    points only when ``score`` (the ``skipped_steps_score`` setting)."""
    skipped = skipped_steps(root, lab)
    return [
        replace(
            r,
            status=SKIPPED,
            points=r.points if score else 0,
            message=f"skipped (the reference solution ran): {r.message}",
        )
        if r.step in skipped and r.status == PASSED
        else r
        for r in results
    ]


def history(root: Path, lab: str | None = None) -> list[dict]:
    """Every recorded run, oldest first."""
    if not db_path(root).exists():
        return []
    query, args = "SELECT * FROM check_runs", ()
    if lab:
        query, args = query + " WHERE lab = ?", (lab,)
    with closing(connect(root)) as conn:
        return [dict(row) for row in conn.execute(query + " ORDER BY id", args)]


def latest(root: Path) -> dict[tuple[str, str], dict]:
    """The most recent run of each (lab, check)."""
    return {(row["lab"], row["check_name"]): row for row in history(root)}


def lab_progress(root: Path, lab: str, steps: dict[str, int]) -> dict:
    """Points and finished steps of ``lab`` from the latest run of each check.

    ``steps`` maps each step id to its points (from the manifest).
    """
    rows = [row for (name, _), row in latest(root).items() if name == lab]
    earned = {step: 0 for step in steps}
    statuses: dict[str, set[str]] = {step: set() for step in steps}
    for row in rows:
        if row["step"] in earned:
            earned[row["step"]] += row["points"]
            statuses[row["step"]].add(row["status"])
    ok = {PASSED, SKIPPED}
    done = [
        step
        for step, points in steps.items()
        if earned[step] >= points or (statuses[step] and statuses[step] <= ok)
    ]
    skipped = [step for step in steps if SKIPPED in statuses[step]]
    return {
        "lab": lab,
        "points": sum(earned.values()),
        "max_points": sum(steps.values()),
        "steps_done": done,
        "steps_skipped": skipped,
        "steps": len(steps),
        "last_run": max((row["time"] for row in rows), default=None),
    }


def status(root: Path, labs: list) -> list[dict]:
    """Progress of every lab in ``labs`` (catalog entries) that has a workspace or a run."""
    checked = {row["lab"] for row in history(root)}
    rows = []
    for lab in labs:
        if lab.slug not in checked and not (root / lab.slug).is_dir():
            continue
        steps = {step.id: step.points for step in lab.manifest.steps}
        rows.append({"title": lab.manifest.title} | lab_progress(root, lab.slug, steps))
    return rows
