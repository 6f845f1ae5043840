"""Zygote-forked workers: per-function environment, folder, uid and limits; nothing leaks."""

from __future__ import annotations

import os
import resource
import textwrap

import pytest

from crosstrain.sandbox.core.workers import WorkerDied, WorkerMemoryExceeded, WorkerPool, WorkerSpec
from crosstrain.sandbox.core.zygotes import zygotes

APP = textwrap.dedent(
    """
    import ctypes, json, os, resource, sys

    if os.environ.get("IMPORT"):
        __import__(os.environ["IMPORT"])
    if os.environ.get("MUTATE"):
        json.crosstrain_leak = os.environ["MUTATE"]

    def make(config):
        def serve(header, body):
            op = header["op"]
            if op == "probe":
                numpy = sys.modules.get("numpy")
                return {
                    "env": dict(os.environ),
                    "cwd": os.getcwd(),
                    "uid": os.getuid(),
                    "gid": os.getgid(),
                    "pid": os.getpid(),
                    "ppid": os.getppid(),
                    "as_limit": resource.getrlimit(resource.RLIMIT_AS)[0],
                    "modules": sorted(m for m in sys.modules if m.startswith("helper")),
                    "leak": getattr(json, "crosstrain_leak", None),
                    "random": numpy.random.random() if numpy else None,
                    "numpy_file": numpy.__file__ if numpy else None,
                }, b""
            if op == "exit":
                os._exit(7)
            if op == "segv":
                ctypes.string_at(0)
            if op == "hog":
                hoard = []
                while True:
                    hoard.append(b"x" * (8 << 20))
            return {}, b""
        return serve
    """
)
THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@pytest.fixture
def app(tmp_path):
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "helper_mod.py").write_text("VALUE = 1\n")
    return f"{tmp_path / 'app.py'}:make"


@pytest.fixture
def pools():
    made: list[WorkerPool] = []

    def make(spec: WorkerSpec) -> WorkerPool:
        made.append(WorkerPool(spec, name=f"z{len(made)}"))
        return made[-1]

    yield make
    for pool in made:
        pool.close()


def _spec(app: str, tmp_path, name: str, **env) -> WorkerSpec:
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    full = {"PATH": os.environ["PATH"], **THREADS, "FUNCTION": name, **env}
    return WorkerSpec(app, env=full, cwd=str(folder), path=(str(tmp_path),), memory_mb=None)


def _forked_probe(pools, spec: WorkerSpec, modules: tuple[str, ...] = ()) -> dict:
    """Probe a worker started after ``spec``'s zygote is ready (so it is forked)."""
    pools(spec).call({"op": "probe"}, timeout=30)  # the family's first worker teaches it
    assert zygotes.wait_ready(spec, modules, timeout=120)
    pool = pools(spec)
    probe = pool.call({"op": "probe"}, timeout=30).header
    worker = pool._idle[0]
    assert worker.forked, "the worker did not fork from a zygote"
    assert set(modules) <= set(worker.process.zygote.packages)
    return probe


def test_forked_workers_get_their_own_env_cwd_uid_and_limits(app, tmp_path, pools):
    first = _spec(app, tmp_path, "first", SECRET="one")
    second = WorkerSpec(**{**_spec(app, tmp_path, "second").__dict__, "memory_mb": 200})
    one, two = _forked_probe(pools, first), _forked_probe(pools, second)
    assert one["env"]["SECRET"] == "one" and "SECRET" not in two["env"]
    assert (one["env"]["FUNCTION"], two["env"]["FUNCTION"]) == ("first", "second")
    assert "CROSSTRAIN_ZYGOTE" not in one["env"] and "CROSSTRAIN_WORKER_PARENT" not in one["env"]
    assert one["cwd"] == str(tmp_path / "first") and two["cwd"] == str(tmp_path / "second")
    assert one["uid"] == two["uid"] == os.getuid() and one["gid"] == os.getgid()
    assert one["as_limit"] == resource.RLIM_INFINITY
    assert two["as_limit"] != resource.RLIM_INFINITY
    assert one["ppid"] == two["ppid"] != os.getpid()  # both children of the same zygote


def test_what_a_function_imports_or_mutates_does_not_reach_the_next(app, tmp_path, pools):
    dirty = _spec(app, tmp_path, "dirty", IMPORT="helper_mod", MUTATE="yes")
    clean = _spec(app, tmp_path, "clean")
    assert _forked_probe(pools, dirty)["modules"] == ["helper_mod"]
    assert pools(dirty).call({"op": "probe"}, timeout=30).header["leak"] == "yes"
    probe = _forked_probe(pools, clean)
    assert probe["modules"] == [] and probe["leak"] is None


def test_learns_preloadable_imports_and_forks_workers_with_fresh_randomness(app, tmp_path, pools):
    spec = _spec(app, tmp_path, "numeric", IMPORT="numpy")
    first = _forked_probe(pools, spec, modules=("numpy",))
    second = pools(spec).call({"op": "probe"}, timeout=30).header
    assert "numpy" in zygotes.preloaded()[",".join(f"{k}={v}" for k, v in sorted(THREADS.items()))]
    assert first["pid"] != second["pid"] and first["random"] != second["random"]


def test_code_that_imports_no_preloaded_package_forks_from_the_light_zygote(app, tmp_path, pools):
    _forked_probe(pools, _spec(app, tmp_path, "heavy", IMPORT="numpy"), modules=("numpy",))
    light = _spec(app, tmp_path, "light")
    light = WorkerSpec(**{**light.__dict__, "path": (str(tmp_path / "light"),)})
    (tmp_path / "light" / "app.py").write_text("import json\n")
    pool = pools(light)
    pool.call({"op": "probe"}, timeout=30)
    assert pool._idle[0].forked and pool._idle[0].process.zygote.packages == ()
    (tmp_path / "light" / "app.py").write_text("import numpy as np\n")
    pool = pools(WorkerSpec(**{**light.__dict__, "cwd": str(tmp_path)}))
    pool.call({"op": "probe"}, timeout=30)
    assert "numpy" in pool._idle[0].process.zygote.packages  # found by reading the code


def test_a_function_shipping_its_own_copy_of_a_preloaded_package_starts_blank(app, tmp_path, pools):
    learner = _spec(app, tmp_path, "learner", IMPORT="numpy")
    _forked_probe(pools, learner, modules=("numpy",))
    vendored = tmp_path / "vendored"
    (vendored / "numpy").mkdir(parents=True)
    (vendored / "numpy" / "__init__.py").write_text(
        "class random:\n    random = staticmethod(lambda: 0.5)\n"
    )
    spec = WorkerSpec(**{**learner.__dict__, "path": (str(vendored), str(tmp_path))})
    pool = pools(spec)
    probe = pool.call({"op": "probe"}, timeout=30).header
    assert probe["numpy_file"] == str(vendored / "numpy" / "__init__.py")
    worker = pool._idle[0]
    assert not worker.forked or "numpy" not in worker.process.zygote.packages


@pytest.mark.parametrize(
    ("op", "status"), [("exit", "exit status 7"), ("segv", "signal: segmentation fault")]
)
def test_a_forked_worker_that_dies_reports_how(app, tmp_path, pools, op, status):
    spec = _spec(app, tmp_path, "dies")
    _forked_probe(pools, spec)
    with pytest.raises(WorkerDied) as caught:
        pools(spec).call({"op": op}, timeout=30)
    assert caught.value.exit_status == status


def test_a_forked_worker_over_its_memory_limit_is_killed(app, tmp_path, pools):
    spec = WorkerSpec(**{**_spec(app, tmp_path, "hog").__dict__, "memory_mb": 64})
    _forked_probe(pools, spec)
    with pytest.raises(WorkerMemoryExceeded):
        pools(spec).call({"op": "hog"}, timeout=30)
