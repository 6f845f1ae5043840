"""The grade store: one SQLite file in the output folder, one row per graded submission.

A row is written in one transaction when a submission is finished, so a killed batch keeps every
finished grade and never a half-graded one. Rows with status ``error`` (the grader's own failure,
e.g. a sandbox that did not start) are retried on the next run.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from crosstrain.errors import CrosstrainError
from crosstrain.grading.results import GradeResult, GradeStatus

FILENAME = "grades.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (
    student TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    points INTEGER NOT NULL,
    max_points INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    graded_at TEXT NOT NULL,
    data TEXT NOT NULL
);
"""
RETRIED = (str(GradeStatus.ERROR),)


class GradeStore:
    """Results of one lab's batch, kept in ``<out>/grades.sqlite``."""

    def __init__(self, out_dir: Path, lab: str):
        out_dir.mkdir(parents=True, exist_ok=True)
        self.path = out_dir / FILENAME
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        row = self.db.execute("SELECT value FROM meta WHERE key = 'lab'").fetchone()
        if row is None:
            self.db.execute("INSERT INTO meta VALUES ('lab', ?)", (lab,))
        elif row[0] != lab:
            raise CrosstrainError(
                f"{out_dir} holds grades of lab {row[0]}, not {lab}; pick another --out folder"
            )

    def done(self) -> dict[str, str]:
        """Student → fingerprint of every submission graded for good (errors are retried)."""
        marks = ",".join("?" * len(RETRIED))
        query = f"SELECT student, fingerprint FROM results WHERE status NOT IN ({marks})"
        return dict(self.db.execute(query, RETRIED).fetchall())

    def policies(self) -> dict[str, list[str]]:
        """Policy fingerprint → students whose rows were graded under it (``unknown`` for rows
        written before policies were recorded)."""
        out: dict[str, list[str]] = {}
        for student, data in self.db.execute("SELECT student, data FROM results ORDER BY student"):
            out.setdefault(json.loads(data).get("policy") or "unknown", []).append(student)
        return out

    def clear(self) -> None:
        """Forget every row (a regrade of everyone under a new policy)."""
        with self.db:
            self.db.execute("DELETE FROM results")

    def save(self, result: GradeResult) -> None:
        """Replace the student's row with ``result`` in one committed transaction."""
        data = result.as_dict()
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(
                "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    data["student"],
                    data["status"],
                    data["points"],
                    data["max_points"],
                    data["fingerprint"],
                    data["graded_at"],
                    json.dumps(data),
                ),
            )

    def results(self) -> list[GradeResult]:
        """Every stored result, by student id."""
        rows = self.db.execute("SELECT data FROM results ORDER BY student")
        return [GradeResult.from_dict(json.loads(data)) for (data,) in rows.fetchall()]

    def close(self) -> None:
        self.db.close()
