"""Hide the grader's world from learner code (Linux, when the grader runs as root).

Learner code enters a private mount namespace before it starts. There, every folder it has no
business seeing (the course's ``graders/`` and ``solutions/``, the grades folder, the other
submissions, the shared temporary folders, the grader's home) is covered by an empty, small
tmpfs, and only what it needs (its own folder, the Python installation) is mounted back inside.
``/proc`` is a fresh instance with ``hidepid=2``, so it sees its own processes only (never the
grader's command line, which may hold ``--secret``). Then ``no_new_privs`` is set and the code
drops to an unprivileged user, who cannot undo any of it. The supervisor stays outside and
still watches and limits every learner process.

>>> plan = make_plan(hide=[Path("/srv/course/graders")], keep=[Path("/tmp/g/run")])
>>> enter(plan)  # in the child, between fork and exec (a ``preexec_fn``)

As a launcher for a command started from a threaded process (where ``preexec_fn`` is unsafe):
``python -I -m crosstrain.grading.jail SPEC_JSON -- COMMAND...`` joins the unit's cgroups and
network namespace, enters the jail, becomes the user and executes COMMAND in its place (same
pid, inherited file descriptors kept).
"""

from __future__ import annotations

import ctypes
import json
import os
import pwd
import stat
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x2, 0x4, 0x8
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000
PR_SET_NO_NEW_PRIVS = 38
SHARED_TMP = ("/tmp", "/var/tmp", "/dev/shm")


class JailError(OSError):
    """The namespace could not be set up (no privilege, no mount namespaces here)."""


def python_paths() -> list[Path]:
    """What learner code needs to run this Python and import crosstrain, nbclient and the rest."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    paths.add(crosstrain_path())
    return sorted(Path(p).resolve() for p in paths)


def crosstrain_path() -> str:
    """The folder this process imports crosstrain from (its parent: ``src/`` or site-packages)."""
    import crosstrain

    return str(Path(crosstrain.__file__).resolve().parents[1])


# ``python -I`` ignores PYTHONPATH and the current folder (no sitecustomize or .pth tricks from
# a learner's folder); this puts back exactly the crosstrain the grader itself runs.
_BOOT = (
    "import runpy, sys; sys.path.insert(0, sys.argv[1]); module = sys.argv[2]; "
    "sys.argv = [module, *sys.argv[3:]]; runpy.run_module(module, run_name='__main__', "
    "alter_sys=True)"
)


def python_module(module: str, *args: str) -> list[str]:
    """``python -I -m module args...``, importing the grader's own crosstrain."""
    return [sys.executable, "-I", "-c", _BOOT, crosstrain_path(), module, *args]


def shut_ancestors(path: Path) -> list[Path]:
    """Ancestors of ``path`` that other users cannot pass through (``/root`` is usually one)."""
    shut = []
    for parent in reversed(path.parents):
        try:
            if not os.stat(parent).st_mode & stat.S_IXOTH:
                shut.append(parent)
        except OSError:
            continue
    return shut


def make_plan(hide: Iterable[Path], keep: Iterable[Path], size_mb: int = 64) -> dict:
    """The mounts to make: each hidden folder covered, with the kept folders inside it put back.

    A kept folder whose ancestor other users cannot enter is put back the same way, so the
    unprivileged user can reach it. Each cover holds at most ``size_mb`` (it is memory, which
    the supervisor's limits do not count; learner code has ``TMPDIR`` in its own folder). The
    plan is plain JSON (it travels to the supervisor).
    """
    kept = {Path(k).resolve() for k in keep}
    kept = sorted(k for k in kept if not any(k != o and k.is_relative_to(o) for o in kept))
    wanted = {Path(h).resolve() for h in hide}
    wanted |= {Path(p) for p in SHARED_TMP} | {Path(tempfile.gettempdir()).resolve()}
    for path in kept:
        wanted.update(shut_ancestors(path))
    covers: list[dict] = []
    for path in sorted(wanted, key=lambda p: (len(p.parts), str(p))):
        if not path.is_dir() or path == Path("/") or path in kept:
            continue
        hidden = any(path.is_relative_to(c["path"]) for c in covers)
        if hidden and not any(path.is_relative_to(k) for k in kept):
            continue  # already out of sight under an outer cover
        inside = [str(k) for k in kept if k.is_relative_to(path)]
        covers.append({"path": str(path), "keep": inside})
    return {"covers": covers, "size_mb": size_mb}


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _call(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise JailError(errno, f"{what}: {os.strerror(errno)}")


def _mount(libc, source: str | None, target: str, fstype: str | None, flags: int, data=None):
    encode = lambda s: s.encode() if s is not None else None  # noqa: E731
    _call(
        libc.mount(encode(source), encode(target), encode(fstype), flags, encode(data)),
        f"mount {target}",
    )


def enter(plan: dict) -> None:
    """Make the mounts of ``plan`` in a new mount namespace (as root, before dropping the user)."""
    libc = _libc()
    _call(libc.unshare(CLONE_NEWNS), "unshare the mount namespace")
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)  # nothing we do here leaks outside
    kept = [k for cover in plan["covers"] for k in cover["keep"]]
    handles = {k: os.open(k, os.O_PATH | os.O_DIRECTORY) for k in kept}
    options = f"mode=1777,size={plan['size_mb']}m"
    os.umask(0o022)  # the folders made to hold what is put back must be passable by anyone
    for cover in plan["covers"]:
        _mount(libc, "tmpfs", cover["path"], "tmpfs", MS_NOSUID | MS_NODEV, options)
        for path in cover["keep"]:
            os.makedirs(path, mode=0o755, exist_ok=True)
            _mount(libc, f"/proc/self/fd/{handles[path]}", path, None, MS_BIND | MS_REC)
    for handle in handles.values():
        os.close(handle)
    _mount(libc, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2")
    _call(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "set no_new_privs")


FIRST_LEARNER_UID = 1_990_000_000  # far above real accounts: one uid per submission at a time


def ids(user: str | int) -> tuple[int, int]:
    """``(uid, gid)`` of a user name, or of a bare uid (which gets the group of that number)."""
    if isinstance(user, int):
        return user, user
    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def drop_to(user: str | int) -> None:
    """Become ``user`` (a name or a bare uid) for good: no supplementary groups."""
    uid, gid = ids(user)
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)


def enter_netns(path: str) -> None:
    """Join the network namespace at ``path`` (as root, before the jail and the user change)."""
    libc = _libc()
    fd = os.open(path, os.O_RDONLY)
    try:
        _call(libc.setns(fd, CLONE_NEWNET), "join the network namespace")
    finally:
        os.close(fd)


def launcher(
    plan: dict | None,
    user: str | int | None,
    *,
    procs: list[str] | None = None,
    netns: str | None = None,
    nproc: int | None = None,
) -> list[str]:
    """The command prefix that runs what follows it in the submission's unit (``procs``: its
    cgroups), network namespace, jail and user (see the module doc)."""
    spec = {"plan": plan, "user": user, "procs": procs or [], "netns": netns, "nproc": nproc}
    spec = json.dumps(spec)
    return [*python_module("crosstrain.grading.jail", spec), "--"]


def main(argv: list[str]) -> None:
    spec, separator, *command = argv
    if separator != "--" or not command:
        raise SystemExit("usage: python -m crosstrain.grading.jail SPEC_JSON -- COMMAND...")
    config = json.loads(spec)
    if config.get("nproc"):
        import resource

        resource.setrlimit(resource.RLIMIT_NPROC, (config["nproc"], config["nproc"]))
    if config.get("procs"):
        from crosstrain.grading import unit

        unit.join(config["procs"])
    if config.get("netns"):
        enter_netns(config["netns"])
    if config.get("plan") is not None:
        enter(config["plan"])
    if config.get("user") is not None:
        drop_to(config["user"])
    os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
