"""The supervision unit: a cgroup whose limits count what RSS misses, and whose teardown leaves
nothing; without cgroups, the fresh uid's RLIMIT_NPROC bounds the whole submission."""

from __future__ import annotations

import os
import subprocess
import sys

import psutil
import pytest

from crosstrain.grading import jail, unit
from crosstrain.grading.isolate import Confinement, default_isolation, run_supervised
from crosstrain.grading.limits import Limits
from crosstrain.grading.reserve import reserve

needs_cgroups = pytest.mark.skipif(
    unit.describe().startswith("no cgroups"), reason="no writable cgroups here"
)
MEMFD = (
    "import os\nchunk = b'x' * (1 << 20)\nfds = []\n"
    "for _ in range(6):\n    fds.append(os.memfd_create('m'))\n"
    "    for _ in range(100):\n        os.write(fds[-1], chunk)\nprint('held')\n"
)


@pytest.fixture
def cgroup():
    made = unit.create(9999, "test-unit", 300, 40)
    if made is None:
        pytest.skip("no writable cgroups here")
    yield made
    made.remove()
    unit.remove_batch(9999)


def run_in(made, code: str) -> subprocess.CompletedProcess:
    join = made.procs_files()
    return subprocess.run(
        [sys.executable, "-c", code],
        preexec_fn=lambda: unit.join(join),
        capture_output=True,
        text=True,
        timeout=60,
    )


@needs_cgroups
def test_memory_in_memfds_counts_against_the_unit(cgroup):
    done = run_in(cgroup, MEMFD)
    assert done.returncode == -9 and "held" not in done.stdout
    assert cgroup.oom_kills() >= 1


@needs_cgroups
def test_the_unit_caps_processes(cgroup):
    fork = (
        "import os, time\nfor _ in range(80):\n"
        "    if os.fork() == 0:\n        time.sleep(5)\n        os._exit(0)\n"
    )
    done = run_in(cgroup, fork)
    assert done.returncode != 0 and "Resource temporarily unavailable" in done.stderr


@needs_cgroups
def test_teardown_kills_what_left_its_session(cgroup):
    spawn = (
        "import subprocess, sys\n"
        "p = subprocess.Popen(['sleep', '60'], start_new_session=True,"
        " stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "print(p.pid)\n"
    )
    pid = int(run_in(cgroup, spawn).stdout)
    assert cgroup.kill() >= 1
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


@pytest.mark.skipif(not default_isolation().jailed, reason="a learner uid needs root")
def test_without_cgroups_the_fresh_uid_caps_processes(tmp_path):
    held = reserve()
    try:
        uid = held.next_uid()
        os.chown(tmp_path, uid, uid)
        fork = (
            "import os, time\nborn = 0\nfor _ in range(60):\n    try:\n"
            "        pid = os.fork()\n    except OSError:\n        break\n"
            "    if pid == 0:\n        time.sleep(3)\n        os._exit(0)\n    born += 1\n"
            "print('born', born)\n"
        )
        plan = jail.make_plan(hide=[], keep=[tmp_path, *jail.python_paths()])
        env = {"PATH": "/usr/bin:/bin"}
        confined = Confinement(tmp_path, env, Limits(), user=uid, plan=plan, nproc=10)
        argv = [sys.executable, "-c", fork]
        report = run_supervised(argv, cwd=tmp_path, unit=confined, timeout=30)
        born = int(report["output"].split("born")[1])
        assert born < 10
    finally:
        held.release()
