"""Learner code runs under limits and what happened is said in words."""

from __future__ import annotations

import os
import subprocess
import time

import psutil
import pytest

from crosstrain.grading.isolate import Confinement, learner_env, run_file
from crosstrain.grading.limits import Limits


@pytest.fixture
def run(tmp_path):
    folder = tmp_path / "run"
    work, home = folder / "work", folder / "home"
    (home / "tmp").mkdir(parents=True)
    work.mkdir()

    def go(source: str, limits: Limits = Limits(), timeout: float = 5, name: str = "s.py"):
        (work / name).write_text(source)
        env = learner_env({"AWS_ENDPOINT_URL": "http://127.0.0.1:1"}, home)
        return run_file(name, work, Confinement(folder, env, limits), timeout)

    return go


def test_clean_script_is_ok(run):
    assert run("print('hi')").status == "ok"


def test_exception_is_named(run):
    report = run("raise ValueError('bad input')")
    assert report.status == "failed"
    assert "ValueError: bad input" in report.message


def test_loop_times_out(run):
    report = run("while True: pass", timeout=2)
    assert report.status == "timeout"
    assert report.message == "timed out after 2 s"


def test_allocation_runs_out_of_memory(run):
    report = run("x = []\nwhile True: x.append(bytearray(10**7))", Limits(memory_mb=200))
    assert report.status == "memory"
    assert "limit 200 MB" in report.message


def test_output_is_capped(run):
    report = run("import os\nfor _ in range(200): os.write(1, b'x' * 2**20)", Limits(output_kb=8))
    assert report.output_bytes == 200 * 2**20
    assert len(report.output) < 10_000


def test_environment_is_scrubbed(run, monkeypatch):
    monkeypatch.setenv("CROSSTRAIN_GRADING_SECRET", "hush")
    report = run("import os\nprint(sorted(os.environ))")
    assert "CROSSTRAIN_GRADING_SECRET" not in report.output
    assert "AWS_ENDPOINT_URL" in report.output


def test_children_that_outlive_the_script_are_killed(run, tmp_path):
    pidfile = tmp_path / "child.pid"
    source = (
        "import subprocess, sys\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'], "
        "start_new_session=True)\n"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
    )
    report = run(source)
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie":
        assert time.monotonic() < deadline, "the child survived"
        time.sleep(0.05)
    assert "left running were stopped" in report.message


def test_big_file_is_stopped(run):
    source = "with open('big', 'wb') as f:\n    for _ in range(100): f.write(b'x' * 2**20)"
    report = run(source, Limits(disk_mb=5))
    assert report.status == "disk"


def test_notebook_cell_error_names_the_cell(run, tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    nb = new_notebook(
        cells=[new_markdown_cell("# t"), new_code_cell("x = 1"), new_code_cell("1 / 0")]
    )
    report = run(nbformat.writes(nb), Limits(memory_mb=600), timeout=60, name="n.ipynb")
    assert report.status == "failed"
    assert report.message.startswith("cell 3 raised ZeroDivisionError")


def test_missing_file_is_reported(tmp_path):
    report = run_file("absent.py", tmp_path, Confinement(tmp_path, {}, Limits()), 5)
    assert report.status == "missing"


def test_cwd_is_the_submission_folder(run):
    report = run("import os\nprint(os.getcwd())")
    assert report.output.strip().endswith(os.path.join("run", "work"))


def test_many_small_files_hit_the_folder_limit(run):
    source = (
        "import time\n"
        "for i in range(20):\n"
        "    open(f'part{i}', 'wb').write(b'x' * 2**20)\n"
        "time.sleep(30)"
    )
    report = run(source, Limits(disk_mb=5), timeout=20)
    assert report.status == "disk" and "more than 5 MB" in report.message


def test_a_run_started_after_the_batch_stopped_ends_at_once(tmp_path):
    import threading

    folder = tmp_path / "run"
    work, home = folder / "work", folder / "home"
    (home / "tmp").mkdir(parents=True)
    work.mkdir()
    (work / "loop.py").write_text("while True:\n    pass\n")
    stop = threading.Event()
    stop.set()  # Ctrl-C came between the batch's last look at `stop` and this run
    unit = Confinement(folder, learner_env({}, home), Limits(), stop=stop)
    report = run_file("loop.py", work, unit, 60)
    assert report.status not in ("ok", "timeout"), report  # never ran the 60 s it was allowed


def test_a_tree_deeper_than_recursion_allows_is_measured(tmp_path):
    from crosstrain.grading.stages import unlink_escaping_links
    from crosstrain.grading.supervise import folder_bytes

    deep = tmp_path
    for _ in range(1100):  # os.walk on Python 3.11 recurses once per level (limit 1000)
        deep = deep / "d"
        deep.mkdir()
    (deep / "f.bin").write_bytes(b"x" * 8192)
    (deep / "out").symlink_to("/etc")
    try:
        assert folder_bytes(str(tmp_path), 10**9) >= 8192
        assert unlink_escaping_links(tmp_path) and not (deep / "out").is_symlink()
    finally:  # pytest's own clean-up of old temporary folders recurses: leave no deep tree
        subprocess.run(["rm", "-rf", str(tmp_path / "d")], check=True)
