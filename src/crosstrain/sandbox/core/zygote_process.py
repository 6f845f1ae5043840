"""A zygote process: preload, then fork one worker per request (the child side of
:mod:`crosstrain.sandbox.core.zygote`).

Run as a script, like :mod:`.worker_process` (whose functions it loads from the file beside it, so
nothing of crosstrain's package is imported): a forked worker runs the same loop as a blank one.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import sys

_here = os.path.dirname(os.path.realpath(__file__))
if sys.path and os.path.realpath(sys.path[0]) == _here:
    sys.path.pop(0)  # our own folder would shadow user modules (state.py, server.py, ...)
_spec = importlib.util.spec_from_file_location(
    "_crosstrain_worker_process", os.path.join(_here, "worker_process.py")
)
wp = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = wp
_spec.loader.exec_module(wp)


def zygote_main() -> None:
    """Entry point of a zygote: preload, then fork one worker per request on the control socket.

    The setup (``CROSSTRAIN_ZYGOTE``, JSON) names the control socket's descriptor, the modules
    to import and the factory files to execute. Requests carry the new worker's stdin and stdout
    as passed descriptors; replies are ``forked <pid> <inherited MB>``, ``exit <pid> <code>`` (a
    worker ended) and ``ready <failed modules>``. ``retire`` stops forking: the zygote exits once
    its last worker has.
    """
    import gc
    import socket

    wp._die_with_parent(int(os.environ.pop("CROSSTRAIN_WORKER_PARENT", "0")))
    config = json.loads(os.environ.pop("CROSSTRAIN_ZYGOTE"))
    control = socket.socket(fileno=config["fd"])
    bare = wp.anon_memory_mb(os.getpid())
    import ctypes  # noqa: F401 - each worker's _die_with_parent needs it
    import resource  # noqa: F401
    import traceback  # noqa: F401

    wp._resolve_local_names()
    failed = []
    for name in config.get("modules", []):
        try:
            __import__(name)
        except BaseException:  # noqa: BLE001 - a module that cannot preload is just not preloaded
            failed.append(name)
    for target in config.get("factories", []):
        try:
            wp._preloaded_factories[target] = wp._exec_file(target)
        except BaseException:  # noqa: BLE001
            failed.append(target)
    sys.modules.pop("_crosstrain_worker_app", None)
    gc.collect()
    gc.freeze()  # the collector then leaves preloaded objects alone: their pages stay shared
    inherited = wp.anon_memory_mb(os.getpid()) - bare
    # A preloaded module that started a Python thread makes forking unsafe (the sandbox then
    # starts workers blank). Native helper threads (jemalloc's, Arrow's) are tolerated as
    # multiprocessing's fork start method tolerates them: their libraries handle fork.
    if "threading" in sys.modules and sys.modules["threading"].active_count() > 1:
        control.send(b"threads")
        return
    _zygote_loop(control, inherited, failed)


def _zygote_loop(control, inherited: float, failed: list[str]) -> None:
    """Answer fork requests with a child forked ahead of time (a spare: forking a process that
    preloaded scikit-learn takes tens of milliseconds), then fork the next spare."""
    import select
    import socket

    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    children: set[int] = set()
    own_fds = (control.fileno(), wake_r, wake_w)

    def fork_spare() -> tuple[int, socket.socket]:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        zygote = os.getpid()
        pid = os.fork()
        if pid == 0:
            try:
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                for fd in own_fds:
                    os.close(fd)
                ours.close()
                _forked_worker(zygote, theirs, inherited)
            finally:
                os._exit(0)
        theirs.close()
        with contextlib.suppress(OSError):
            os.setpgid(pid, pid)
        children.add(pid)
        return pid, ours

    spare: tuple[int, socket.socket] | None = fork_spare()
    control.send(("ready " + json.dumps(failed)).encode())
    while children or spare:
        ready, _, _ = select.select([control, wake_r], [], [])
        if wake_r in ready:
            os.read(wake_r, 4096)
            while children:
                pid, status = os.waitpid(-1, os.WNOHANG)
                if not pid:
                    break
                children.discard(pid)
                control.send(f"exit {pid} {os.waitstatus_to_exitcode(status)}".encode())
        if control not in ready:
            continue
        message, fds, _, _ = socket.recv_fds(control, 1024, 2)
        if not message:
            os._exit(0)  # the sandbox is gone
        if message == b"retire":  # exit once the last worker has
            if spare is not None:
                spare[1].close()
                spare = None
            continue
        pid, channel = spare or fork_spare()
        socket.send_fds(channel, [b"go"], fds)
        channel.close()
        for fd in fds:
            os.close(fd)
        control.send(f"forked {pid} {inherited:.3f}".encode())
        spare = fork_spare()


def _forked_worker(zygote: int, channel, inherited: float) -> None:
    """A spare forked from the zygote: wait for its protocol descriptors, then serve."""
    import socket

    os.setpgid(0, 0)
    wp._die_with_parent(zygote)
    message, fds, _, _ = socket.recv_fds(channel, 16, 2)
    if not message:
        return
    channel.close()
    proto_in, proto_out = fds
    wp._inherited["mb"] = inherited
    random = sys.modules.get("numpy.random")
    if random is not None:  # forked workers must not share the zygote's random stream
        random.seed()
    wp.serve_frames(proto_in, proto_out)


if __name__ == "__main__":
    zygote_main()
