"""Pre-imported sandboxes: each submission still gets a fresh sandbox process in its own unit,
uid and namespace, and nothing of one submission is visible to the next."""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
from nbformat import write as write_nb
from nbformat.v4 import new_code_cell, new_notebook

from crosstrain.grading import isolate, stages
from crosstrain.grading.batch import grade
from crosstrain.grading.zygote import SandboxZygote, server_argv
from crosstrain.labs.catalog import get_lab

LAB = get_lab("00")
SPEC = {"plan": None, "user": None, "procs": [], "netns": None, "nproc": None}


@pytest.fixture
def zygote():
    home = Path(tempfile.mkdtemp())
    (home / "tmp").mkdir()
    forker = SandboxZygote(isolate.sandbox_env(home))
    yield forker, home
    forker.close()
    shutil.rmtree(home, ignore_errors=True)


def test_each_sandbox_is_a_fresh_process_with_no_state_of_the_last(zygote):
    forker, home = zygote
    env = isolate.sandbox_env(home)
    first = forker.start(server_argv(), env, SPEC, "us-east-1")
    first.client("s3").create_bucket(Bucket="left-behind")
    second = forker.start(server_argv(), env, SPEC, "us-east-1")
    try:
        assert first.pid != second.pid and first.port != second.port
        assert second.client("s3").list_buckets()["Buckets"] == []
    finally:
        first.stop()
        second.stop()


def test_a_sandbox_that_cannot_enter_its_unit_is_an_error_not_a_hang(zygote):
    from crosstrain.sandbox.core.handle import SandboxError

    forker, home = zygote
    bad = SPEC | {"netns": "/nonexistent/netns"}
    with pytest.raises(SandboxError, match="could not start"):
        forker.start(server_argv(), isolate.sandbox_env(home), bad, "us-east-1")


@pytest.mark.skipif(os.geteuid() != 0, reason="units, uids and namespaces need root")
def test_a_forked_sandbox_lives_in_its_submissions_uid_unit_and_namespace(tmp_path, monkeypatch):
    seen = []
    real = stages.run_learner_code

    def spy(grader, job):
        proc = Path(f"/proc/{job.sandbox.pid}")
        uid = int(
            next(
                ln for ln in (proc / "status").read_text().splitlines() if ln.startswith("Uid:")
            ).split()[1]
        )
        seen.append(
            {
                "uid": uid,
                "user": job.user,
                "netns": os.readlink(proc / "ns/net"),
                "ours": os.readlink("/proc/self/ns/net"),
                "cgroup": job.cgroup is None or job.root.name in (proc / "cgroup").read_text(),
            }
        )
        return real(grader, job)

    monkeypatch.setattr(stages, "run_learner_code", spy)
    subs = tmp_path / "subs"
    (subs / "ann").mkdir(parents=True)
    shutil.copy(LAB.lab_dir / "orientation.ipynb", subs / "ann/orientation.ipynb")
    grade(subs, "00", tmp_path / "out", jobs=1, progress=False)
    [one] = seen
    if isinstance(one["user"], int):
        assert one["uid"] == one["user"]
    assert one["netns"] != one["ours"] and one["cgroup"]


def snoop_notebook(token: str):
    """Looks for any trace of the submission graded before it; earns points only if it finds one."""
    return new_notebook(
        cells=[
            new_code_cell(
                "import boto3, glob, os, pathlib\n"
                "s3 = boto3.client('s3')\n"
                "found = [b['Name'] for b in s3.list_buckets()['Buckets']]\n"
                f"found += glob.glob('/tmp/leak-{token}*') + glob.glob('/var/tmp/leak-{token}*')\n"
                f"found += [str(p) for p in pathlib.Path('/').glob('**/leak-{token}*')][:1]\n"
                "os.write(1, f'found: {found}\\n'.encode())\n"
                "if found:\n"
                "    if 'orientation-data' not in found:\n"
                "        s3.create_bucket(Bucket='orientation-data')\n"
                "    key = 'raw/customers.csv'\n"
                "    s3.upload_file('data/customers.csv', 'orientation-data', key)\n"
            )
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )


def test_a_submission_never_sees_the_previous_ones_state(tmp_path):
    token = uuid.uuid4().hex[:10]
    subs = tmp_path / "subs"
    first = subs / "a-leaves-state"
    shutil.copytree(LAB.solution_dir / "function", first / "function")
    shutil.copy(LAB.solution_dir / "orientation.ipynb", first / "orientation.ipynb")
    leave = new_code_cell(
        f"import os, pathlib\n"
        f"for where in ('/tmp', '/var/tmp', os.environ['HOME']):\n"
        f"    try: pathlib.Path(where, 'leak-{token}').write_text('x')\n"
        f"    except OSError: pass\n"
    )
    import nbformat

    nb = nbformat.read(first / "orientation.ipynb", as_version=4)
    nb.cells.append(leave)
    write_nb(nb, first / "orientation.ipynb")
    second = subs / "b-snoops"
    second.mkdir()
    nb = snoop_notebook(token)
    # the snoop keeps the lab's cells ids so intake takes it as this lab's notebook
    starter = nbformat.read(LAB.lab_dir / "orientation.ipynb", as_version=4)
    nb.cells = [*nb.cells, *[c for c in starter.cells if c.cell_type == "markdown"]]
    write_nb(nb, second / "orientation.ipynb")
    out = tmp_path / "out"
    grade(subs, "00", out, jobs=1, progress=False)
    with open(out / "gradebook.csv") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert rows["a-leaves-state"]["total"] == "10"
    assert rows["b-snoops"]["total"] == "0", rows["b-snoops"]["message"]
