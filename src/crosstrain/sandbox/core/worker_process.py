"""The child side of :mod:`crosstrain.sandbox.core.workers`: the loop a worker process runs.

Run as a script (``python worker_process.py``), not imported as ``crosstrain...``, and kept to a
few standard-library imports: every cold start pays for what this file imports.
"""

from __future__ import annotations

import json
import os
import signal
import struct
import sys

FRAME = struct.Struct("!II")
# Address space allowed beyond the memory limit (interpreter, thread stacks, mapped libraries).
ADDRESS_SPACE_HEADROOM_MB = 2048


def describe_exception(exc: BaseException, skip_frames: int = 0) -> dict:
    """``type``, ``message`` and the ``traceback`` frames (formatted) of an exception.

    An exception may name itself: ``error_type`` and ``frames`` attributes win when present.
    """
    import traceback

    frames = getattr(exc, "frames", None)
    if frames is None:
        frames = traceback.format_list(traceback.extract_tb(exc.__traceback__)[skip_frames:])
    return {
        "type": getattr(exc, "error_type", None) or type(exc).__name__,
        "message": str(exc),
        "traceback": list(frames),
    }


def anon_memory_mb(pid: int) -> float:
    """The process's anonymous resident memory in MB (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"RssAnon:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def _die_with_parent(parent: int) -> None:
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _read_frame(fd: int) -> tuple[dict, bytes] | None:
    def read(size: int) -> bytes | None:
        chunks = []
        while size:
            chunk = os.read(fd, min(size, 1 << 20))
            if not chunk:
                return None
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    head = read(FRAME.size)
    if head is None:
        return None
    header_len, body_len = FRAME.unpack(head)
    rest = read(header_len + body_len) if header_len + body_len else b""
    if rest is None:
        return None
    return json.loads(rest[:header_len]), rest[header_len:]


def _write_frame(fd: int, header: dict, body: bytes = b"") -> None:
    data = json.dumps(header, default=str).encode()
    view = memoryview(FRAME.pack(len(data), len(body)) + data + body)
    while view:
        view = view[os.write(fd, view) :]


def _load_factory(path: str):
    target, _, attr = path.rpartition(":")
    if target.endswith(".py"):
        import importlib.util

        module_spec = importlib.util.spec_from_file_location("_crosstrain_worker_app", target)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_spec.name] = module
        module_spec.loader.exec_module(module)
    else:
        import importlib

        module = importlib.import_module(target)
    return getattr(module, attr)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:  # noqa: SIM105 - not contextlib: every import here slows each cold start
            stream.flush()
        except (OSError, ValueError):
            pass


def _apply_setup(setup: dict) -> None:
    """Become the worker the parent asked for: environment, folder, output file."""
    os.environ.clear()
    os.environ.update(setup["env"])
    if "TZ" in os.environ:
        import time

        time.tzset()
    if setup.get("cwd"):
        os.chdir(setup["cwd"])
    out = os.open(setup["output"], os.O_WRONLY | os.O_APPEND)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)


def _resolve_local_names() -> None:
    """LocalStack's host names reach the sandbox from worker code (see ``hosts.py``, beside
    this file; run from its source: importing the package would slow every cold start)."""
    namespace: dict = {"__name__": "crosstrain_hosts"}
    path = os.path.join(os.path.dirname(os.path.realpath(__file__)), "hosts.py")
    with open(path) as source:
        exec(compile(source.read(), path, "exec"), namespace)  # noqa: S102 - our own file
    namespace["resolve_locally"]()


def worker_main() -> None:
    """Entry point of a worker process (this file run as a script).

    The process may start blank, long before it is needed (a spare): everything specific to
    the worker arrives in the first frame.
    """
    if sys.path and os.path.realpath(sys.path[0]) == os.path.dirname(os.path.realpath(__file__)):
        sys.path.pop(0)  # our own folder would shadow user modules (state.py, server.py, ...)
    _die_with_parent(int(os.environ.pop("CROSSTRAIN_WORKER_PARENT", "0")))
    proto_in, proto_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)

    frame = _read_frame(proto_in)
    if frame is None:
        return
    setup, _ = frame
    _apply_setup(setup)
    _resolve_local_names()
    if setup.get("memory_mb"):
        import resource

        ceiling = (int(setup["memory_mb"]) + ADDRESS_SPACE_HEADROOM_MB) << 20
        resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
    sys.path[:0] = setup.get("path") or []
    try:
        serve = _load_factory(setup["factory"])(setup.get("config") or {})
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, then we exit
        _flush()
        _write_frame(proto_out, {"ready": False, "error": describe_exception(exc)})
        os._exit(1)
    _flush()
    _write_frame(proto_out, {"ready": True})

    while True:
        frame = _read_frame(proto_in)
        if frame is None:
            return
        header, body = frame
        try:
            out_header, out_body = serve(header, body)
            answer = {"ok": True, "header": out_header}
        except Exception as exc:  # noqa: BLE001 - the app's own error, reported per call
            answer, out_body = {"ok": False, "error": describe_exception(exc, 1)}, b""
        _flush()
        answer["memory_mb"] = anon_memory_mb(os.getpid())
        _write_frame(proto_out, answer, out_body)


if __name__ == "__main__":
    worker_main()
