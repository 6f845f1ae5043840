"""A network namespace per submission: its sandbox and its code share a loopback of their own.

Concurrent submissions then cannot see, let alone reset, each other's sandbox port (nor the
grader's, nor anything else listening on the machine's 127.0.0.1). The namespace is held by a
tiny process (``unshare --net``, which also brings its ``lo`` up); processes join it with
``setns`` before they drop to the learner's uid (:func:`crosstrain.grading.jail.enter_netns`).

The trusted checks run in the grader, outside: a :class:`Forwarder` listens on the grader's
127.0.0.1 and carries each connection to the sandbox's port inside the namespace (the socket to
it is made by a thread that joined the namespace).
"""

from __future__ import annotations

import contextlib
import functools
import os
import select
import shutil
import socket
import subprocess
import threading

from crosstrain.grading import jail

CHUNK = 1 << 16


class Namespace:
    """A held network namespace with its loopback up; :attr:`path` is what processes join."""

    def __init__(self, holder: subprocess.Popen):
        self.holder = holder
        self.path = f"/proc/{holder.pid}/ns/net"

    @classmethod
    def create(cls) -> Namespace | None:
        """A fresh namespace, or ``None`` where this machine refuses one (not root, no
        ``unshare``, a container without CAP_SYS_ADMIN)."""
        if os.geteuid() != 0 or not (shutil.which("unshare") and shutil.which("ip")):
            return None
        script = "ip link set lo up && echo up && exec cat"
        try:
            holder = subprocess.Popen(
                ["unshare", "--net", "--", "sh", "-c", script],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            return None
        if holder.stdout.readline() != b"up\n":
            holder.kill()
            holder.wait()
            return None
        return cls(holder)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.holder.stdin.close()
        self.holder.kill()
        self.holder.wait()


@functools.cache
def available() -> bool:
    """Whether submissions get network namespaces here (tried once)."""
    ns = Namespace.create()
    if ns is None:
        return False
    ns.close()
    return True


class Forwarder:
    """127.0.0.1:``port`` here → 127.0.0.1:``target`` inside the namespace, for the checks."""

    def __init__(self, namespace: Namespace, target: int):
        self.namespace, self.target = namespace, target
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.closed = threading.Event()
        threading.Thread(target=self._accept, name="netns-forward", daemon=True).start()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._carry, args=(client,), daemon=True).start()

    def _carry(self, client: socket.socket) -> None:
        try:
            jail.enter_netns(self.namespace.path)  # this thread only: its socket is inside
            upstream = socket.create_connection(("127.0.0.1", self.target), timeout=30)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        pump(client, upstream, self.closed)

    def close(self) -> None:
        self.closed.set()
        with contextlib.suppress(OSError):
            self.server.close()


def pump(a: socket.socket, b: socket.socket, closed: threading.Event) -> None:
    """Copy bytes both ways until either side closes."""
    peers = {a: b, b: a}
    try:
        while not closed.is_set():
            ready, _, _ = select.select(list(peers), [], [], 1.0)
            for sock in ready:
                data = sock.recv(CHUNK)
                if not data:
                    return
                peers[sock].sendall(data)
    except OSError:
        return
    finally:
        a.close()
        b.close()
