"""Run learner code (notebooks top to bottom, scripts) isolated, and say in words what happened.

Each file runs under :mod:`crosstrain.grading.supervise` in its own session, with a wall-time
limit, a memory limit, a process limit, a disk limit on its folder, capped output, a scrubbed
environment (``PATH``, a temporary ``HOME``, ``LANG`` and the sandbox's ``AWS_*`` variables: no
``CROSSTRAIN_*`` value, no secret) and its own folder as the working directory. When the grader
runs as root, learner code runs as an unprivileged user, inside a jail that hides the grader's
files and processes where the machine allows it (:func:`default_isolation`).
"""

from __future__ import annotations

import functools
import json
import os
import pwd
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, replace
from pathlib import Path

from crosstrain.grading import jail
from crosstrain.grading.limits import Limits
from crosstrain.grading.results import RAN, RunReport, RunStatus
from crosstrain.labs.nbrun import MARKER

__all__ = [
    "RAN",
    "Confinement",
    "Isolation",
    "RunReport",
    "default_isolation",
    "hand_over",
    "kill_live",
    "learner_env",
    "run_file",
    "run_supervised",
    "sandbox_env",
]

_LIVE: set[subprocess.Popen] = set()
_LIVE_LOCK = threading.Lock()
SLACK = 30.0  # seconds the supervisor itself may take beyond the learner's time limit
SANDBOX_KEYS = ("AWS_", "LOCALSTACK_", "EDGE_PORT", "DISABLE_DEPRECATION_NOTICE")


@dataclass(frozen=True)
class Isolation:
    """Who learner code runs as, and whether it runs jailed (:mod:`crosstrain.grading.jail`).

    ``user`` is a user name, or the first of a range of bare uids: then each submission graded
    at the same time gets its own uid (``user + slot``), so none can reach another's files or
    processes."""

    user: str | int | None = None
    jailed: bool = False

    def user_for(self, slot: int) -> str | int | None:
        return self.user + slot if isinstance(self.user, int) else self.user

    def describe(self) -> str:
        who = "its own unprivileged uid" if isinstance(self.user, int) else self.user
        if self.jailed:
            return f"as {who}, in a private mount namespace (grader files hidden)"
        if self.user:
            return f"as {who} (grader files readable by others stay readable)"
        return "as the grader's own user"

    def warning(self) -> str | None:
        if self.jailed:
            return None
        fix = (
            "this machine refuses private mount namespaces (a container without CAP_SYS_ADMIN?)"
            if os.geteuid() == 0
            else "grade as root on Linux to hide them"
        )
        return (
            f"learner code ran {self.describe()}: it could read the course's graders/ and "
            f"solutions/; {fix}"
        )


def _runs_python(user: str | int, plan: dict | None) -> bool:
    """Whether ``user`` can start this Python and import the grading kit (inside ``plan``)."""

    def prepare() -> None:
        if plan is not None:
            jail.enter(plan)
        jail.drop_to(user)

    probe = jail.python_module("crosstrain.grading.probe")
    try:
        done = subprocess.run(probe, preexec_fn=prepare, capture_output=True, timeout=60, cwd="/")
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


@functools.cache
def default_isolation() -> Isolation:
    """The strongest isolation this machine allows.

    As root on Linux: learner code runs jailed (the grader's files and processes hidden), as a
    bare uid of its own per concurrent submission, or as ``nobody`` where bare uids are refused;
    where mount namespaces are not allowed, as ``nobody`` if it can run this Python. Otherwise
    (not root) it keeps the grader's user; the other limits still apply.
    """
    if os.geteuid() != 0:
        return Isolation()
    try:
        user = pwd.getpwnam("nobody").pw_name
    except KeyError:
        return Isolation()
    plan = jail.make_plan(hide=[], keep=jail.python_paths())
    if _runs_python(jail.FIRST_LEARNER_UID, plan):  # bare uids: one per submission
        return Isolation(jail.FIRST_LEARNER_UID, jailed=True)
    if _runs_python(user, plan):
        return Isolation("nobody", jailed=True)
    if _runs_python(user, None):
        return Isolation("nobody")
    return Isolation()


def _own_env(home: Path) -> dict[str, str]:
    """What learner code and its sandbox both get: their own home, a name, one math thread."""
    return {
        "HOME": str(home),
        "TMPDIR": str(home / "tmp"),
        "USER": "learner",  # getpass.getuser() without a passwd entry for a bare uid
        "LOGNAME": "learner",
        # Submissions run side by side (--jobs): one math thread each keeps OpenMP/BLAS code
        # from oversubscribing the cores and slowing every submission down.
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def learner_env(sandbox_env: dict[str, str], home: Path) -> dict[str, str]:
    """The whole environment learner code sees: nothing from the grader's own environment."""
    env = _own_env(home) | {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYTHONPATH": jail.crosstrain_path(),  # the crosstrain the grader runs, nothing else
    }
    for key, value in sandbox_env.items():
        if key.startswith(SANDBOX_KEYS) and not key.startswith("CROSSTRAIN"):
            env[key] = value
    return env


def sandbox_env(home: Path) -> dict[str, str]:
    """The environment of a submission's sandbox: what its Python needs and crosstrain's own
    settings, never the grader's secrets or cloud credentials (learner code can read it)."""
    inherited = {
        key: value
        for key, value in os.environ.items()
        if key in ("PATH", "LANG", "LC_ALL", "TZ")
        or (key.startswith("CROSSTRAIN_") and "SECRET" not in key)
    }
    # The sandbox runs the grader's own crosstrain (``python -m``, so PYTHONPATH says which).
    return inherited | _own_env(home) | {"PYTHONPATH": jail.crosstrain_path()}


def machine_report() -> dict[str, str]:
    """How grading isolates learner code on this machine, one line per layer (``doctor``)."""
    from crosstrain.grading import netns, unit

    isolation = default_isolation()
    fresh = isinstance(isolation.user, int)
    return {
        "learner code": isolation.describe(),
        "uids": "a fresh uid per submission, from a range each run reserves (lock file)"
        if fresh
        else "one shared user (bare uids are refused or grading is not run as root)",
        "supervision unit": unit.describe(),
        "network": "a network namespace per submission, its own loopback"
        if netns.available()
        else "shared with the machine; each sandbox serves only its submission's access key"
        + (
            " (kept private by the fresh uid)"
            if fresh
            else ", which code running as the same user can read: grade with --jobs 1, or as "
            "root on Linux"
        ),
    }


def hand_over(folder: Path, user: str | int | None) -> None:
    """Give ``folder`` (recursively) to ``user`` so code running as that user can write there."""
    if user is None:
        return
    uid, gid = jail.ids(user)
    for here, dirs, files in os.walk(folder):
        for name in [here, *(os.path.join(here, n) for n in dirs + files)]:
            os.lchown(name, uid, gid)


@dataclass(frozen=True)
class Confinement:
    """Where and how one submission's code runs (the same for its notebooks, scripts and the
    learner-code service): ``folder`` (whose disk use is capped), the environment, the limits,
    the user, the jail ``plan`` and the batch's ``stop`` event."""

    folder: Path
    env: dict[str, str]
    limits: Limits
    user: str | int | None = None
    plan: dict | None = None
    stop: threading.Event | None = None
    cgroup: dict | None = None  # {"kind", "procs", "dirs"} of the submission's unit
    netns: str | None = None  # the submission's network namespace, to join
    nproc: int | None = None  # no cgroup: RLIMIT_NPROC of its (fresh, own) uid instead

    def with_env(self, env: dict[str, str]) -> Confinement:
        return replace(self, env=env)


def run_supervised(argv: list[str], *, cwd: Path, unit: Confinement, timeout: float) -> dict:
    """Run ``argv`` under the supervisor (:mod:`crosstrain.grading.supervise`), confined by
    ``unit``; return the supervisor's report.

    Once ``unit.stop`` is set, a supervisor that starts anyway is told to stop at once (the batch
    was interrupted between its last look at ``stop`` and this start)."""
    limits = unit.limits
    config = {
        "argv": argv,
        "cwd": str(cwd),
        "env": unit.env,
        "folder": str(unit.folder),
        "timeout": timeout,
        "memory_mb": limits.memory_mb,
        "output_kb": limits.output_kb,
        "disk_mb": limits.disk_mb,
        "max_processes": limits.max_processes,
        "run_as": unit.user,
        "jail": unit.plan,
        "cgroup": unit.cgroup,
        "netns": unit.netns,
        "nproc": unit.nproc,
    }
    proc = subprocess.Popen(
        jail.python_module("crosstrain.grading.supervise"),
        cwd=unit.folder,
        env=unit.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    with _LIVE_LOCK:
        _LIVE.add(proc)
        if unit.stop is not None and unit.stop.is_set():
            proc.terminate()
    try:
        out, err = proc.communicate(json.dumps(config).encode(), timeout=timeout + SLACK)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return {"verdict": "timeout", "returncode": None, "seconds": timeout, "output": ""}
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    finally:
        with _LIVE_LOCK:
            _LIVE.discard(proc)
    lines = out.decode(errors="replace").strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, ValueError):
        tail = err.decode(errors="replace").strip().splitlines()[-1:] or ["no report"]
        return {"verdict": "supervisor", "returncode": proc.returncode, "error": tail[0]}


def kill_live() -> None:
    """Ask every running supervisor to kill its learner code and quit (on Ctrl-C)."""
    with _LIVE_LOCK:
        for proc in _LIVE:
            try:
                proc.terminate()
            except ProcessLookupError:
                continue


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip() and MARKER not in line]
    return lines[-1][:300] if lines else ""


def describe(rel: str, report: dict, limits: Limits, timeout: float, notebook: bool) -> RunReport:
    """Turn the supervisor's report into a status and a sentence a learner understands."""
    verdict = report.get("verdict", "")
    output = report.get("output", "")
    base = dict(
        file=rel,
        seconds=report.get("seconds", 0.0),
        output=output,
        output_bytes=report.get("output_bytes", 0),
    )
    messages = {
        "timeout": (RunStatus.TIMEOUT, f"timed out after {timeout:g} s"),
        "memory": (RunStatus.MEMORY, f"ran out of memory (limit {limits.memory_mb} MB)"),
        "disk": (RunStatus.DISK, f"wrote more than {limits.disk_mb} MB to disk"),
        "processes": (
            RunStatus.PROCESSES,
            f"started more than {limits.max_processes} processes",
        ),
        "supervisor": (RunStatus.ERROR, f"could not be run: {report.get('error', 'no report')}"),
    }
    if verdict in messages:
        status, message = messages[verdict]
        return RunReport(**base, status=status, message=message)
    code = report.get("returncode")
    marked = [line for line in output.splitlines() if line.startswith(MARKER)]
    if notebook and marked:
        result = json.loads(marked[-1][len(MARKER) :])
        status = RunStatus.OK if result.get("ok") and code == 0 else RunStatus.FAILED
        message = result.get("message", "")
        if result.get("ename") == "MemoryError":
            status = RunStatus.MEMORY
            message = f"ran out of memory (limit {limits.memory_mb} MB): {message}"
    elif code == 0:
        status, message = RunStatus.OK, RAN
    elif code is not None and code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        status, message = RunStatus.FAILED, f"was killed by {name}"
        if -code == signal.SIGXFSZ:
            status, message = RunStatus.DISK, f"wrote a file larger than {limits.disk_mb} MB"
    else:
        line = last_line(output)
        status = RunStatus.FAILED
        message = f"exited with code {code}" + (f": {line}" if line else "")
        if line.startswith("MemoryError"):
            status = RunStatus.MEMORY
            message = f"ran out of memory (limit {limits.memory_mb} MB)"
    killed = report.get("killed", 0)
    if killed:
        message += f"; {killed} process(es) it left running were stopped"
    return RunReport(**base, status=status, message=message)


def run_file(rel: str, workspace: Path, unit: Confinement, timeout: float) -> RunReport:
    """Run the notebook or script ``rel`` of ``workspace`` confined by ``unit``; never raises
    for the learner's faults."""
    path = workspace / rel
    if not path.is_file() or path.is_symlink():
        return RunReport(rel, RunStatus.MISSING, "file not found in the submission")
    notebook = path.suffix == ".ipynb"
    if notebook:
        argv = jail.python_module("crosstrain.labs.nbrun", str(path), str(timeout))
    else:
        argv = [sys.executable, path.name]
    report = run_supervised(argv, cwd=path.parent, unit=unit, timeout=timeout)
    return describe(rel, report, unit.limits, timeout, notebook)
