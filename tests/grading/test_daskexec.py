"""The Dask executor: same grades as local, a lost worker retried without double count, real
scheduler and worker processes, and one line when the scheduler cannot be reached."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from crosstrain.cli import main
from crosstrain.errors import CrosstrainError
from crosstrain.grading import daskexec
from crosstrain.grading.batch import grade
from crosstrain.grading.store import GradeStore
from crosstrain.labs.catalog import get_lab

distributed = pytest.importorskip("distributed")
LAB = get_lab("00")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as local:
        yield local


def rows(out: Path) -> dict[str, dict]:
    with open(out / "gradebook.csv") as fh:
        return {r["student"]: r for r in csv.DictReader(fh)}


def slip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("../evil.py", "x")


def sleeper(folder: Path, seconds: int) -> None:
    """A submission whose notebook only sleeps (0 points, but it takes a while)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    folder.mkdir(parents=True)
    nb = new_notebook(cells=[new_code_cell(f"import time\ntime.sleep({seconds})")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, folder / "orientation.ipynb")


def test_dask_grades_each_submission_as_local_does(cluster, tmp_path):
    subs = tmp_path / "subs"
    solved = subs / "solved"
    shutil.copytree(LAB.solution_dir / "function", solved / "function")
    shutil.copy(LAB.solution_dir / "orientation.ipynb", solved / "orientation.ipynb")
    (subs / "linked").mkdir()
    (subs / "linked/orientation.ipynb").symlink_to("/etc/passwd")
    slip(subs / "slipped.zip")
    out = tmp_path / "out"
    summary = grade(
        subs, "00", out, progress=False, executor="dask", scheduler=cluster.scheduler_address
    )
    got = rows(out)
    assert got["solved"]["total"] == "10" and got["solved"]["status"] == "graded"
    assert got["slipped"]["status"] == "rejected" and "path traversal" in got["slipped"]["message"]
    assert got["linked"]["status"] == "rejected" and "/etc/passwd" in got["linked"]["message"]
    assert not Path("/etc/passwd").read_text().startswith("x") and summary.graded == 3
    again = grade(
        subs, "00", out, progress=False, executor="dask", scheduler=cluster.scheduler_address
    )
    assert (again.graded, again.skipped) == (0, 3)  # the same resumable store


def test_a_lost_worker_is_retried_and_counted_once(cluster, tmp_path, monkeypatch):
    subs = tmp_path / "subs"
    for name in ("a", "b", "c", "d"):
        sleeper(subs / name, 6)
    saved = []
    real_save = GradeStore.save
    monkeypatch.setattr(GradeStore, "save", lambda self, r: (saved.append(r), real_save(self, r)))
    out = tmp_path / "out"
    done = {}
    runner = threading.Thread(
        target=lambda: done.update(
            s=grade(subs, "00", out, progress=False, executor="dask",
                    scheduler=cluster.scheduler_address)
        )
    )  # fmt: skip
    runner.start()
    with distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
        deadline = time.monotonic() + 120
        busy = {}
        while time.monotonic() < deadline and not busy:
            busy = {w: keys for w, keys in client.processing().items() if keys}
            time.sleep(0.5)
        assert busy, "no task ever started"
        time.sleep(3)  # inside the notebook
        victim = next(iter(busy))
        pid = client.run(os.getpid, workers=[victim])[victim]
        os.kill(pid, signal.SIGKILL)
    runner.join(timeout=600)
    assert not runner.is_alive()
    assert sorted(r.student for r in saved) == ["a", "b", "c", "d"]
    assert all(r.status != "error" for r in saved)
    assert done["s"].total == 4


def test_a_task_failing_everywhere_is_an_error_row_and_the_batch_goes_on(tmp_path, monkeypatch):
    def broken(job, student, payload, course):
        if student == "bad":
            raise ModuleNotFoundError("No module named 'crosstrain'")
        return real(job, student, payload, course)

    real = daskexec.grade_remote
    monkeypatch.setattr(daskexec, "grade_remote", broken)
    subs = tmp_path / "subs"
    subs.mkdir()
    slip(subs / "bad.zip")
    slip(subs / "good.zip")
    with distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=None) as local:
        grade(subs, "00", tmp_path / "out", progress=False, executor="dask",
              scheduler=local.scheduler_address)  # fmt: skip
    got = rows(tmp_path / "out")
    assert got["bad"]["status"] == "error" and "No module named" in got["bad"]["message"]
    assert got["good"]["status"] == "rejected"


def test_an_unreachable_scheduler_is_one_line_naming_the_way_out(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    slip(subs / "ann.zip")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    with pytest.raises(CrosstrainError, match="--executor local") as info:
        grade(subs, "00", tmp_path / "out", progress=False, executor="dask", scheduler=address)
    assert address in str(info.value)
    args = ["grade", str(subs), "--lab", "00", "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(main, [*args, "--executor", "dask", "--scheduler", address])
    assert result.exit_code == 2 and result.output.strip().count("\n") == 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_real_dask_scheduler_and_worker_processes(tmp_path):
    dask = str(Path(sys.executable).with_name("dask"))
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    common = ["--no-dashboard"]
    procs = [
        subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), *common],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        with distributed.Client(address, timeout="60s", set_as_default=False) as client:
            procs.append(
                subprocess.Popen(
                    [dask, "worker", address, "--nthreads", "1", "--host", "127.0.0.1", *common],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            client.wait_for_workers(1, timeout=120)
        subs = tmp_path / "subs"
        (subs / "empty-handed").mkdir(parents=True)
        (subs / "empty-handed/notes.txt").write_text("no notebook")
        slip(subs / "slipped.zip")
        grade(subs, "00", tmp_path / "out", progress=False, executor="dask", scheduler=address)
        got = rows(tmp_path / "out")
        assert got["empty-handed"]["status"] == "rejected"
        assert "no notebook found" in got["empty-handed"]["message"]
        assert got["slipped"]["status"] == "rejected"
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(timeout=30)
