"""The check API: how a grader says whether a step is done.

A check is a function registered for a step with its points and hint::

    from crosstrain.labs.checks import Fail, Score, check

    @check("store-dataset", points=2, hint="Create the bucket ...", hints={"public": "..."})
    def bucket_exists(ctx):
        names = [b["Name"] for b in ctx.client("s3").list_buckets()["Buckets"]]
        if "data" not in names:
            raise Fail(f"buckets: {names}")           # failed, 0 points, the default hint
        return "bucket data exists"                    # passed, full points

It returns a message (passed), a :class:`Score` (partial credit) or raises :class:`Fail`. A hint
is the default one or a key of ``hints``. A check that crashes or overruns its time limit becomes
an ``error`` result; it never stops the runner. A check that overruns is stopped: its thread gets
:class:`CheckTimedOut` raised in it at its next Python instruction (a blocking call, such as a
socket read, finishes first), so it does not keep calling the sandbox behind later checks.
"""

from __future__ import annotations

import ctypes
import hashlib
import hmac
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crosstrain.errors import CrosstrainError
from crosstrain.labs.learnercode import LOCAL, LearnerCode
from crosstrain.labs.results import CheckResult, Status

if TYPE_CHECKING:
    from crosstrain.labs.catalog import Lab
    from crosstrain.labs.manifest import Manifest
    from crosstrain.sandbox import Sandbox

DEFAULT_TIMEOUT = 30.0
DEFAULT_HINT = "default"
PASSED, FAILED, ERROR, SKIPPED = Status.PASSED, Status.FAILED, Status.ERROR, Status.SKIPPED


@dataclass(frozen=True)
class CheckSpec:
    """A registered check: the function and what it is worth."""

    fn: Callable[[CheckContext], Any]
    step: str
    points: int
    hint: str
    hints: dict[str, str]
    timeout: float

    @property
    def name(self) -> str:
        return self.fn.__name__

    def hint_text(self, key: str | None) -> str:
        return self.hint if key in (None, DEFAULT_HINT) else self.hints[key]

    @property
    def hint_ids(self) -> list[str]:
        return [DEFAULT_HINT, *self.hints]


def check(
    step: str,
    points: int,
    hint: str,
    *,
    hints: dict[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
):
    """Register the decorated function as a check of ``step`` worth ``points``."""

    def register(fn):
        fn.crosstrain_check = CheckSpec(fn, step, points, hint, dict(hints or {}), timeout)
        return fn

    return register


class Fail(Exception):  # noqa: N818 - reads as `raise Fail(...)` in graders
    """Raised by a check: the step is not done. ``hint`` names one of the check's ``hints``."""

    def __init__(self, message: str, hint: str | None = None, points: int = 0):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.points = points


class CheckTimedOut(BaseException):  # noqa: N818 - a BaseException so `except Exception` lets it by
    """Raised inside a check's thread when the check overran its time limit: it stops there."""


def stop_thread(thread: threading.Thread) -> None:
    """Raise :class:`CheckTimedOut` in ``thread`` at its next Python instruction."""
    if thread.ident is not None and thread.is_alive():
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(thread.ident), ctypes.py_object(CheckTimedOut)
        )


@dataclass
class Score:
    """Returned by a check for partial (or full) credit."""

    points: int
    message: str
    hint: str | None = None


@dataclass(frozen=True)
class HiddenData:
    """Grading-only data: random draws derived from a course secret, unknowable in advance."""

    secret: bytes = field(repr=False)
    lab: str

    def rng(self, name: str = "") -> random.Random:
        """A random generator seeded by (secret, lab, ``name``): same inputs, same draws."""
        digest = hmac.new(self.secret, f"{self.lab}/{name}".encode(), hashlib.sha256).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))


def hidden_data(secret: str | None, lab: str) -> HiddenData | None:
    return HiddenData(secret.encode(), lab) if secret else None


@dataclass
class CheckContext:
    """What a check receives: the sandbox's clients, the workspace, the lab and hidden data."""

    lab: Lab
    sandbox: Sandbox
    workspace: Path
    hidden: HiddenData | None = None
    _clients: dict = field(default_factory=dict, repr=False)
    # Where learner code a check must run (load a model, call a function) runs: never here.
    learner: LearnerCode = field(default_factory=lambda: LOCAL, repr=False)

    @property
    def manifest(self) -> Manifest:
        return self.lab.manifest

    @property
    def grading(self) -> bool:
        return self.hidden is not None

    def client(self, service: str):
        """A boto3 client bound to the sandbox (cached per service)."""
        if service not in self._clients:
            self._clients[service] = self.sandbox.client(
                service, user_agent_extra="crosstrain-check"
            )
        return self._clients[service]

    def calls(self, **filters) -> list[dict]:
        """The sandbox's call log (see ``Sandbox.calls``), without the checks' own calls unless
        ``source="check"`` is asked for."""
        rows = self.sandbox.calls(**filters)
        return rows if filters.get("source") else [r for r in rows if r["source"] != "check"]


def load_checks(lab: Lab, *, validate_hints: bool = True) -> list[CheckSpec]:
    """The checks in ``graders/<lab>/checks.py``, in file order, validated against the manifest
    and (``validate_hints``) every literal hint key they raise against the hints they declare."""
    from crosstrain.labs.catalog import load_module
    from crosstrain.labs.hintkeys import undeclared_hints

    path = lab.grader_dir / "checks.py"
    module = load_module(path)
    specs = [v.crosstrain_check for v in vars(module).values() if hasattr(v, "crosstrain_check")]
    steps = lab.manifest.step_ids
    for spec in specs:
        if spec.step not in steps:
            raise CrosstrainError(
                f"{path}: check {spec.name} names step {spec.step!r}, which lab.yaml lacks; "
                f"use one of: {', '.join(steps)}"
            )
    for step in lab.manifest.steps:
        total = sum(s.points for s in specs if s.step == step.id)
        if total != step.points:
            raise CrosstrainError(
                f"{path}: the checks of step {step.id!r} are worth {total} points but lab.yaml "
                f"says {step.points}; make them agree"
            )
    undeclared = undeclared_hints(path, specs) if validate_hints else []
    if undeclared:
        more = f" (and {len(undeclared) - 1} more)" if len(undeclared) > 1 else ""
        raise CrosstrainError(undeclared[0].describe(path) + more)
    specs.sort(key=lambda s: steps.index(s.step))
    return specs


def run_check(spec: CheckSpec, ctx: CheckContext) -> CheckResult:
    """Run one check within its time limit and turn whatever happens into a result."""
    outcome: dict[str, Any] = {}

    def target():
        try:
            outcome["value"] = spec.fn(ctx)
        except BaseException as exc:  # noqa: BLE001 - a check's crash is a result
            outcome["error"] = exc

    started = time.monotonic()
    worker = threading.Thread(target=target, name=f"check-{spec.name}", daemon=True)
    worker.start()
    worker.join(spec.timeout)
    seconds = round(time.monotonic() - started, 3)
    base = dict(lab=ctx.lab.slug, step=spec.step, check=spec.name, max_points=spec.points)
    if worker.is_alive():
        stop_thread(worker)
        message = f"the check did not finish within {spec.timeout:g} s (stopped)"
        return CheckResult(**base, status=ERROR, points=0, message=message, seconds=seconds)
    return interpret(spec, outcome, base, seconds)


def interpret(spec: CheckSpec, outcome: dict, base: dict, seconds: float) -> CheckResult:
    """Map a check's return value or exception to a :class:`CheckResult`."""

    def result(status, points, message, hint_id=None):
        if hint_id is not None and hint_id != DEFAULT_HINT and hint_id not in spec.hints:
            message = f"check bug: hint {hint_id!r} is not one of {spec.hint_ids} ({message})"
            return CheckResult(**base, status=ERROR, points=0, message=message, seconds=seconds)
        hint_id = hint_id or DEFAULT_HINT
        hint = spec.hint_text(hint_id) if status != PASSED else ""
        return CheckResult(
            **base,
            status=status,
            points=points,
            message=message,
            hint=hint,
            hint_id=hint_id if status != PASSED else "",
            seconds=seconds,
        )

    error = outcome.get("error")
    if isinstance(error, Fail):
        return result(FAILED, max(0, min(error.points, spec.points)), error.message, error.hint)
    if error is not None:
        message = f"the check crashed: {type(error).__name__}: {error}"
        return CheckResult(**base, status=ERROR, points=0, message=message, seconds=seconds)
    value = outcome.get("value")
    if value is None or isinstance(value, str):
        return result(PASSED, spec.points, value or "done")
    if isinstance(value, Score):
        points = max(0, min(value.points, spec.points))
        status = PASSED if points == spec.points else FAILED
        return result(status, points, value.message, value.hint)
    message = f"check bug: returned {type(value).__name__}; return a message, a Score or raise Fail"
    return CheckResult(**base, status=ERROR, points=0, message=message, seconds=seconds)
