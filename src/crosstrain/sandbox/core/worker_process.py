"""The child side of :mod:`crosstrain.sandbox.core.workers`: the loop a worker process runs.

Run as a script (``python worker_process.py``), not imported as ``crosstrain...``, and kept to a
few standard-library imports: every cold start pays for what this file imports.

A worker forked from a zygote (:mod:`crosstrain.sandbox.core.zygote_process`) runs the same loop
(:func:`serve_frames`) as a blank one.
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
# Heavy, side-effect-free packages a zygote may preload; a worker reports which of them its code
# imported (from the sandbox's own environment) so the zygote learns what to preload.
PRELOADABLE = frozenset(
    ("numpy", "pandas", "scipy", "sklearn", "joblib", "torch", "pyarrow", "boto3", "botocore")
)
# Set in a worker forked from a zygote: RssAnon inherited from it beyond a bare interpreter's
# (shared copy-on-write pages the worker's own code did not allocate).
_inherited = {"mb": 0.0}


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


def own_memory_mb() -> float:
    """This worker's memory as its limit counts it (pages shared with a zygote excluded)."""
    return max(0.0, anon_memory_mb(os.getpid()) - _inherited["mb"])


def _die_with_parent(parent: int) -> None:
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _address_space_mb() -> int:
    try:
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmSize:"):
                    return int(line.split()[1]) >> 10
    except (OSError, ValueError, IndexError):
        pass
    return 0


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


_preloaded_factories: dict[str, object] = {}  # file path -> module (filled in a zygote)


def _exec_file(target: str):
    import importlib.util

    module_spec = importlib.util.spec_from_file_location("_crosstrain_worker_app", target)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_spec.name] = module
    module_spec.loader.exec_module(module)
    return module


def _load_factory(path: str):
    target, _, attr = path.rpartition(":")
    if target in _preloaded_factories:
        module = _preloaded_factories[target]
        sys.modules["_crosstrain_worker_app"] = module
    elif target.endswith(".py"):
        module = _exec_file(target)
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


def _preloadable_imports(before: int, own_path: list[str]) -> list[str]:
    """Modules of preloadable packages the worker's code imported from the sandbox's
    environment (not from its own folders), submodules included.

    ``before`` is how many modules were loaded before the code was: new ones are at the end of
    ``sys.modules`` (walked from there: touching every entry would copy a forked worker's pages).
    """
    import itertools

    found = []
    for name in itertools.islice(reversed(sys.modules), max(0, len(sys.modules) - before)):
        if name.partition(".")[0] not in PRELOADABLE:
            continue
        where = getattr(sys.modules[name], "__file__", None) or ""
        if not any(where.startswith(p) for p in own_path if p):
            found.append(name)
    return sorted(found)


def _take_protocol_fds() -> tuple[int, int]:
    """Keep stdin/stdout for the protocol; the standard descriptors point at /dev/null."""
    proto_in, proto_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    return proto_in, proto_out


def worker_main() -> None:
    """Entry point of a blank worker process (this file run as a script).

    The process may start blank, long before it is needed (a spare): everything specific to
    the worker arrives in the first frame.
    """
    if sys.path and os.path.realpath(sys.path[0]) == os.path.dirname(os.path.realpath(__file__)):
        sys.path.pop(0)  # our own folder would shadow user modules (state.py, server.py, ...)
    _die_with_parent(int(os.environ.pop("CROSSTRAIN_WORKER_PARENT", "0")))
    _resolve_local_names()
    serve_frames(*_take_protocol_fds())


def serve_frames(proto_in: int, proto_out: int) -> None:
    """Read the setup frame, become that worker, then answer requests until stdin closes."""
    frame = _read_frame(proto_in)
    if frame is None:
        return
    setup, _ = frame
    _apply_setup(setup)
    if setup.get("memory_mb"):
        import resource

        ceiling = int(setup["memory_mb"]) + ADDRESS_SPACE_HEADROOM_MB
        if _inherited["mb"]:  # forked: what the zygote mapped is not the function's
            ceiling += _address_space_mb()
        resource.setrlimit(resource.RLIMIT_AS, (ceiling << 20, ceiling << 20))
    own_path = setup.get("path") or []
    sys.path[:0] = own_path
    before = len(sys.modules)
    try:
        serve = _load_factory(setup["factory"])(setup.get("config") or {})
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, then we exit
        _flush()
        _write_frame(proto_out, {"ready": False, "error": describe_exception(exc)})
        os._exit(1)
    _flush()
    _write_frame(proto_out, {"ready": True, "imports": _preloadable_imports(before, own_path)})

    before = len(sys.modules)  # what the first call imports (lazily, e.g. in predict) counts too
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
        if before:
            answer["imports"], before = _preloadable_imports(before, own_path), 0
        answer["memory_mb"] = own_memory_mb()
        _write_frame(proto_out, answer, out_body)


if __name__ == "__main__":
    worker_main()
