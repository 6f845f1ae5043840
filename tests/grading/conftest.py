"""Shared fixtures of the grading tests: the hostile submissions and one batch graded over them."""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path

import pytest

HERE = Path(__file__).parent
SECRET = "grading-test-secret-7f3a"


def _load_hostile():
    spec = importlib.util.spec_from_file_location("grading_hostile", HERE / "fixtures/hostile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def hostile():
    return _load_hostile()


@pytest.fixture(scope="session")
def hostile_batch(tmp_path_factory, hostile):
    """Grade every hostile case once (tight limits); tests read the outputs."""
    from crosstrain.grading.batch import grade
    from crosstrain.grading.limits import Limits

    token = uuid.uuid4().hex[:12]
    subs = tmp_path_factory.mktemp("hostile-subs")
    names = hostile.build(subs, token)
    out = tmp_path_factory.mktemp("hostile-out")
    summary = grade(
        subs,
        hostile.LAB,
        out,
        jobs=2,
        secret=SECRET,
        progress=False,
        limits=Limits(timeout=20, memory_mb=600, disk_mb=256),
    )
    return {"out": out, "summary": summary, "names": names, "token": token, "subs": subs}
