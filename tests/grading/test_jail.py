"""Jailed learner code cannot see the grader's files or processes, and cannot undo the jail."""

from __future__ import annotations

import json

import pytest

from crosstrain.grading import jail
from crosstrain.grading.isolate import (
    Confinement,
    default_isolation,
    hand_over,
    learner_env,
    run_file,
)
from crosstrain.grading.limits import Limits
from crosstrain.labs.catalog import content_root


def covers(plan: dict) -> dict[str, list[str]]:
    return {c["path"]: c["keep"] for c in plan["covers"]}


def test_shared_tmp_is_covered_and_our_folder_put_back(tmp_path):
    run = tmp_path / "grade" / "run"
    run.mkdir(parents=True)
    plan = covers(jail.make_plan(hide=[], keep=[run]))
    assert plan["/tmp"] == [str(run)] and "/dev/shm" in plan


def test_hidden_folder_out_of_sight_already_gets_no_cover(tmp_path):
    graders = tmp_path / "graders"
    graders.mkdir()
    plan = covers(jail.make_plan(hide=[graders], keep=[tmp_path / "run"]))
    assert str(graders) not in plan


def test_hidden_folder_inside_a_kept_one_gets_its_own_cover(tmp_path):
    kept, inner = tmp_path / "a", tmp_path / "a" / "secret"
    inner.mkdir(parents=True)
    plan = covers(jail.make_plan(hide=[inner], keep=[kept, kept / "deeper"]))
    assert plan[str(inner)] == []
    assert plan["/tmp"] == [str(kept)]  # a kept folder inside another kept one is not repeated


def test_kept_folder_behind_a_closed_ancestor_is_put_back(tmp_path):
    closed = tmp_path / "home"
    (closed / "python").mkdir(parents=True)
    closed.chmod(0o700)
    assert jail.shut_ancestors(closed / "python")[-1] == closed
    plan = covers(jail.make_plan(hide=[], keep=[closed / "python"]))
    assert str(closed / "python") in plan["/tmp"]


def test_plan_is_plain_json(tmp_path):
    plan = jail.make_plan(hide=[tmp_path], keep=jail.python_paths())
    assert json.loads(json.dumps(plan)) == plan


needs_jail = pytest.mark.skipif(
    not default_isolation().jailed, reason="the jail needs root on Linux with mount namespaces"
)

PEEK = """
import os, pathlib, subprocess
def attempt(f):
    try:
        return repr(f())
    except OSError as exc:
        return type(exc).__name__
print("uid", os.getuid())
print("secret", attempt(lambda: os.listdir({secret!r})))
print("others", len([p for p in os.listdir("/proc") if p.isdigit()
                     and os.stat(f"/proc/{{p}}").st_uid != os.getuid()]))
print("umount", subprocess.run(["umount", {secret!r}], capture_output=True).returncode)
import ctypes
value = ctypes.c_int()
ctypes.CDLL(None).prctl(2, ctypes.byref(value), 0, 0, 0)  # PR_GET_PDEATHSIG
print("pdeathsig", value.value)
pathlib.Path("mine.txt").write_text("written")
"""


@needs_jail
def test_jailed_script_sees_only_its_own_world(tmp_path):
    graders = content_root() / "graders"
    folder = tmp_path / "run"
    work, home = folder / "work", folder / "home"
    (home / "tmp").mkdir(parents=True)
    work.mkdir()
    (work / "peek.py").write_text(PEEK.format(secret=str(graders)))
    hand_over(folder, "nobody")
    plan = jail.make_plan(hide=[graders], keep=[folder, *jail.python_paths()])
    env = learner_env({}, home)
    unit = Confinement(folder, env, Limits(), user="nobody", plan=plan)
    report = run_file("peek.py", work, unit, 60)
    assert report.status == "ok", report.output
    seen = dict(line.split(" ", 1) for line in report.output.splitlines() if " " in line)
    assert seen["uid"] == "65534"
    # an empty cover where the checks are, or nothing at all when they sit under /tmp (covered)
    assert seen["secret"] in ("[]", "FileNotFoundError")
    assert seen["others"] == "0"  # no process of another user (the grader, the supervisor)
    assert seen["umount"] != "0"
    assert seen["pdeathsig"] == "9"  # armed after the user change (which clears it)
    assert any(graders.iterdir())  # outside, nothing changed
    assert (work / "mine.txt").read_text() == "written"
