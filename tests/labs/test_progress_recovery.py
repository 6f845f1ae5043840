"""A corrupt progress store is moved aside with a notice; a new one keeps what was readable."""

from __future__ import annotations

import logging
import sqlite3

from click.testing import CliRunner

from crosstrain.labs import progress


def test_a_corrupt_store_is_moved_aside_and_a_new_one_started(tmp_path, caplog):
    (tmp_path / progress.DB_NAME).write_bytes(b"this is not a database" * 100)
    with caplog.at_level(logging.WARNING, logger="crosstrain"):
        result = progress.lab_progress(tmp_path, "00-x", {"a": 2})
    assert result["points"] == 0
    (aside,) = tmp_path.glob("progress.sqlite.corrupt-*")
    assert aside.read_bytes().startswith(b"this is not a database")  # nothing deleted
    (notice,) = [r.getMessage() for r in caplog.records]
    assert "could not be read" in notice and aside.name in notice


def test_rows_that_can_still_be_read_are_kept(tmp_path, monkeypatch):
    conn = progress.connect(tmp_path)
    conn.execute(
        "INSERT INTO check_runs (time, lab, step, check_name, status, points, max_points, message)"
        " VALUES ('t', '00-x', 'a', 'c', 'passed', 2, 2, 'ok')"
    )
    conn.commit()
    conn.close()
    real_open = progress._open
    calls = []

    def first_open_fails(path):
        if not calls:
            calls.append(path)
            raise sqlite3.DatabaseError("database disk image is malformed")
        return real_open(path)

    monkeypatch.setattr(progress, "_open", first_open_fails)
    assert progress.lab_progress(tmp_path, "00-x", {"a": 2})["points"] == 2


def test_the_cli_prints_one_notice_and_no_traceback(tmp_path, monkeypatch):
    from crosstrain.cli import main

    monkeypatch.setenv("COLUMNS", "200")
    (tmp_path / progress.DB_NAME).write_bytes(b"garbage" * 500)
    result = CliRunner().invoke(main, ["lab", "status", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "could not be read" in result.output
