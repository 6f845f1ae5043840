"""Which supervision unit grading picks, on a fake cgroup tree: v2 only where the unified
hierarchy really offers ``memory`` and ``pids`` (this machine kind mounts a cgroup2 with only
``hugetlb``: doctor must say v1), and what a v2 unit writes. The limits biting for real are in
``test_unit.py``, on whichever kind the machine offers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from crosstrain.grading import unit


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """A fake /sys/fs/cgroup: a unified mount and v1 memory/pids/freezer hierarchies."""
    mounts = {"unified": tmp_path / "unified"}
    mounts |= {c: tmp_path / c for c in unit.V1_CONTROLLERS}
    for point in mounts.values():
        point.mkdir()
    monkeypatch.setattr(unit, "_mounts", lambda: mounts)
    monkeypatch.setattr(unit, "_own_cgroups", lambda: dict.fromkeys(mounts, "/"))
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    return mounts


def offer(tree: dict[str, Path], controllers: str) -> None:
    (tree["unified"] / "cgroup.controllers").write_text(controllers + "\n")


def test_a_unified_mount_with_only_hugetlb_is_not_v2(tree):
    offer(tree, "hugetlb")
    kind, dirs = unit._bases(0)
    assert kind == "v1" and set(dirs) == set(unit.V1_CONTROLLERS)


def test_a_unified_mount_offering_memory_and_pids_is_v2(tree):
    offer(tree, "cpu memory pids")
    kind, dirs = unit._bases(3)
    assert (kind, dirs) == ("v2", {"unified": tree["unified"] / "crosstrain-batch-3"})


def test_a_v2_unit_sets_memory_swap_and_task_limits(tree):
    offer(tree, "memory pids")
    made = unit.create(5, "sub-a", 300, 40)
    assert made is not None and made.kind == "v2"
    folder = made.dirs["unified"]
    assert (folder / "memory.max").read_text() == str(300 * unit.MB)
    assert (folder / "memory.swap.max").read_text() == "0"
    assert (folder / "pids.max").read_text() == "40"
    assert (folder.parent / "cgroup.subtree_control").read_text() == "+memory +pids"


def test_a_v2_unit_is_torn_down_with_cgroup_kill(tree):
    offer(tree, "memory pids")
    made = unit.create(5, "sub-b", 300, 40)
    (made.dirs["unified"] / "cgroup.procs").write_text("")
    made.kill()
    assert (made.dirs["unified"] / "cgroup.kill").read_text() == "1"


def test_neither_kind_without_memory_and_pids(tree, monkeypatch):
    offer(tree, "hugetlb")
    mounts = {"unified": tree["unified"]}
    monkeypatch.setattr(unit, "_mounts", lambda: mounts)
    assert unit._bases(0) is None
