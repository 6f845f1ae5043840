"""The generic worker pool: load once, serve many, and contain every way a worker can fail."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import psutil
import pytest

from crosstrain.sandbox.core.workers import (
    PoolClosed,
    PoolFull,
    WorkerDied,
    WorkerInitError,
    WorkerMemoryExceeded,
    WorkerPool,
    WorkerSpec,
    WorkerTimeout,
)

APP = textwrap.dedent(
    """
    import ctypes, os, sys, time

    print("loading", flush=True)
    if os.environ.get("FAIL_INIT"):
        raise RuntimeError("cannot load the model")

    def make(config):
        def serve(header, body):
            op = header["op"]
            if op == "echo":
                print("echo", body.decode())
                return {"pid": os.getpid(), "greeting": config.get("greeting")}, body[::-1]
            if op == "path":
                return {"path": sys.path}, b""
            if op == "env":
                return {"env": dict(os.environ), "cwd": os.getcwd()}, b""
            if op == "raise":
                raise ValueError("bad input")
            if op == "loop":
                while True:
                    pass
            if op == "hog":
                hoard = []
                while True:
                    hoard.append(b"x" * (8 << 20))
            if op == "exit":
                os._exit(7)
            if op == "segv":
                ctypes.string_at(0)
            if op == "wait":
                while not os.path.exists(header["file"]):
                    time.sleep(0.01)
                return {}, b""
        return serve
    """
)


@pytest.fixture
def app(tmp_path):
    path = tmp_path / "app.py"
    path.write_text(APP)
    return f"{path}:make"


@pytest.fixture
def pool(app, tmp_path):
    pool = WorkerPool(WorkerSpec(app, config={"greeting": "hi"}, memory_mb=256), name="test")
    yield pool
    pool.close()


def _await(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_serves_a_request_with_the_factory_config(pool):
    result = pool.call({"op": "echo"}, b"abc", timeout=10)
    assert result.ok and result.body == b"cba" and result.header["greeting"] == "hi"


def test_warm_worker_is_reused(pool):
    first = pool.call({"op": "echo"}, b"1", timeout=10)
    second = pool.call({"op": "echo"}, b"2", timeout=10)
    assert first.info.cold and not second.info.cold
    assert first.header["pid"] == second.header["pid"]


def test_output_is_captured_per_call_and_at_init(pool):
    result = pool.call({"op": "echo"}, b"xyz", timeout=10)
    assert result.info.init_output == "loading\n"
    assert result.info.output == "echo xyz\n"


def test_own_folder_is_not_on_the_workers_path(pool):
    import crosstrain.sandbox.core.workers as workers

    path = pool.call({"op": "path"}, timeout=10).header["path"]
    assert os.path.dirname(workers.__file__) not in path


def test_spec_path_comes_first(app, tmp_path):
    pool = WorkerPool(WorkerSpec(app, path=(str(tmp_path),)))
    try:
        assert pool.call({"op": "path"}, timeout=10).header["path"][0] == str(tmp_path)
    finally:
        pool.close()


def test_worker_gets_exactly_the_spec_environment_and_folder(app, tmp_path, monkeypatch):
    monkeypatch.setenv("ONLY_IN_THE_PARENT", "1")
    spec = WorkerSpec(app, env={"PATH": os.environ["PATH"], "MODEL": "iris"}, cwd=str(tmp_path))
    pool = WorkerPool(spec)
    try:
        pool.call({"op": "echo"}, b"", timeout=10)  # the next cold start may use a spare
        pool.retire()
        answer = pool.call({"op": "env"}, timeout=10).header
    finally:
        pool.close()
    assert answer["env"] == {"PATH": os.environ["PATH"], "MODEL": "iris"}
    assert answer["cwd"] == str(tmp_path)


def test_app_exception_is_reported_and_worker_survives(pool):
    failed = pool.call({"op": "raise"}, timeout=10)
    assert not failed.ok and failed.error["type"] == "ValueError"
    assert failed.error["message"] == "bad input"
    assert not pool.call({"op": "echo"}, b"", timeout=10).info.cold


def test_timeout_kills_the_worker(pool):
    pid = pool.call({"op": "echo"}, b"", timeout=10).header["pid"]
    with pytest.raises(WorkerTimeout):
        pool.call({"op": "loop"}, timeout=0.5)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_memory_limit_kills_the_worker(pool):
    with pytest.raises(WorkerMemoryExceeded) as caught:
        pool.call({"op": "hog"}, timeout=30)
    assert caught.value.info.max_memory_mb > 256


def test_exit_is_reported_with_its_status(pool):
    with pytest.raises(WorkerDied) as caught:
        pool.call({"op": "exit"}, timeout=10)
    assert caught.value.exit_status == "exit status 7"


def test_segfault_is_reported_as_a_signal(pool):
    with pytest.raises(WorkerDied) as caught:
        pool.call({"op": "segv"}, timeout=10)
    assert caught.value.exit_status == "signal: segmentation fault"


def test_a_dead_worker_is_replaced(pool):
    with pytest.raises(WorkerDied):
        pool.call({"op": "exit"}, timeout=10)
    assert pool.call({"op": "echo"}, b"", timeout=10).info.cold


def test_init_error_is_reported(app):
    pool = WorkerPool(WorkerSpec(app, env={**os.environ, "FAIL_INIT": "1"}))
    try:
        with pytest.raises(WorkerInitError) as caught:
            pool.call({"op": "echo"}, timeout=10)
    finally:
        pool.close()
    assert caught.value.error["type"] == "RuntimeError"
    assert caught.value.info.init_output == "loading\n"


def test_pool_full_when_asked_not_to_wait(app, tmp_path):
    pool = WorkerPool(WorkerSpec(app), max_workers=1)
    flag = tmp_path / "go"
    thread = threading.Thread(
        target=pool.call, args=({"op": "wait", "file": str(flag)},), kwargs={"timeout": 30}
    )
    thread.start()
    try:
        _await(lambda: pool.stats()["busy"] == 1)
        with pytest.raises(PoolFull):
            pool.call({"op": "echo"}, b"", timeout=10, wait=False)
    finally:
        flag.touch()
        thread.join()
        pool.close()


def test_retire_starts_fresh_workers(pool):
    before = pool.call({"op": "echo"}, b"", timeout=10).header["pid"]
    pool.retire()
    after = pool.call({"op": "echo"}, b"", timeout=10)
    assert after.info.cold and after.header["pid"] != before


def test_close_kills_workers_and_refuses_calls(pool):
    pid = pool.call({"op": "echo"}, b"", timeout=10).header["pid"]
    pool.close()
    assert not psutil.pid_exists(pid)
    with pytest.raises(PoolClosed):
        pool.call({"op": "echo"}, b"", timeout=10)


def test_close_without_killing_busy_lets_the_running_call_finish(app, tmp_path):
    pool = WorkerPool(WorkerSpec(app))
    flag = tmp_path / "go"
    outcome = {}

    def run():
        outcome["result"] = pool.call({"op": "wait", "file": str(flag)}, timeout=30)

    thread = threading.Thread(target=run)
    thread.start()
    _await(lambda: pool.stats()["busy"] == 1)
    pool.close(kill_busy=False)
    flag.touch()
    thread.join()
    assert outcome["result"].ok and pool.pids() == []


def test_workers_die_with_the_process_that_started_them(app):
    script = textwrap.dedent(
        f"""
        import threading
        from crosstrain.sandbox.core.workers import WorkerPool, WorkerSpec
        pool = WorkerPool(WorkerSpec({app!r}))
        # call from a short-lived thread: the worker must survive the thread, not the process
        out = {{}}
        thread = threading.Thread(target=lambda: out.update(pool.call({{"op": "echo"}}, b"",
                                  timeout=10).header))
        thread.start(); thread.join()
        print(out["pid"], flush=True)
        input()
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        pid = int(parent.stdout.readline())
        assert psutil.Process(pid).is_running()
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        _await(lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie")
    finally:
        parent.kill()
