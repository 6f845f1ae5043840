"""The learner-code service: how a check loads a learner's artifact or calls a learner's function
without ever doing it in the checking process.

A check hands :meth:`LearnerCode.run` a script it trusts (it lives in ``graders/``), the files the
script needs and its arguments. The script runs in a fresh folder, in another process, with a
small environment; it calls ``answer(value)`` once with plain data (JSON: dicts, lists, strings,
numbers, booleans, ``None``), and that value, size-capped, is all that comes back — never a
pickled object. Whatever the learner's code does in there (a pickle that runs code, a function
that loops or allocates) ends as a :class:`LearnerCodeError` the check turns into a ``Fail``::

    SCORE = '''
    import sys, joblib
    model = joblib.load("model.joblib")
    answer({"proba": model.predict_proba(...)[:, 1].tolist()})
    '''
    found = ctx.learner.run(SCORE, files={"model.joblib": blob}, timeout=90)

Labs own this interface. :class:`LocalLearnerCode` (a subprocess as the same user) serves
``crosstrain lab check``, where the code is the learner's own; grading implements it with its
jail, the submission's uid, its limits and no secret
(:class:`crosstrain.grading.learnercode.JailedLearnerCode`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

MAX_ANSWER_BYTES = 16 * 1024 * 1024
ANSWER_FILE = "answer.json"
SCRIPT_FILE = "crosstrain_check.py"
_PRELUDE = """\
import json as _json, os as _os, sys as _sys
_sys.path.insert(0, {path!r})  # the crosstrain of the checks (for checkkit's plain-data helpers)


def answer(value):
    with open({answer!r}, "w") as fh:
        _json.dump(value, fh, allow_nan=True)


"""


class LearnerCodeError(Exception):
    """Learner code gave no answer: it crashed, overran its time or memory, or answered
    something that is not plain data. ``str(err)`` is one line for the learner's feedback."""


@runtime_checkable
class LearnerCode(Protocol):
    """Runs check scripts next to learner code, out of the checking process."""

    def run(
        self,
        script: str,
        *,
        files: Mapping[str, bytes] | None = None,
        args: Sequence[str] = (),
        timeout: float = 90,
    ) -> Any:
        """Run ``script`` with ``files`` in its folder and ``args`` as ``sys.argv[1:]``; return
        what it passed to ``answer``. Raises :class:`LearnerCodeError`."""
        ...


def prepare(folder: Path, script: str, files: Mapping[str, bytes] | None) -> list[Path]:
    """Write ``files`` and the script (prelude + ``script``) into ``folder``; return the paths."""
    import crosstrain

    written = []
    for rel, data in (files or {}).items():
        target = (folder / rel).resolve()
        if not target.is_relative_to(folder.resolve()) or rel in (ANSWER_FILE, SCRIPT_FILE):
            raise ValueError(f"{rel!r} is not a plain relative file name")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written.append(target)
    crosstrain_path = str(Path(crosstrain.__file__).resolve().parents[1])
    prelude = _PRELUDE.format(path=crosstrain_path, answer=str(folder / ANSWER_FILE))
    (folder / SCRIPT_FILE).write_text(prelude + script)
    return written


def read_answer(folder: Path, failure: str = "") -> Any:
    """The answer the script left in ``folder``; :class:`LearnerCodeError` when there is none,
    it is too large or it is not JSON. ``failure`` says how the run ended if it did not succeed."""
    path = folder / ANSWER_FILE
    if failure:
        raise LearnerCodeError(failure)
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_ANSWER_BYTES + 1)
    except OSError:
        raise LearnerCodeError("it ended without an answer") from None
    if len(data) > MAX_ANSWER_BYTES:
        raise LearnerCodeError(f"its answer is larger than {MAX_ANSWER_BYTES >> 20} MB")
    try:
        return json.loads(data)
    except ValueError:
        raise LearnerCodeError("its answer is not plain JSON data") from None


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


class LocalLearnerCode:
    """A subprocess as this user, in a temporary folder, with ``PATH``, ``HOME`` and ``LANG``
    only (``crosstrain lab check``: the code is the learner's own, on their own machine)."""

    def run(self, script, *, files=None, args=(), timeout=90) -> Any:
        with tempfile.TemporaryDirectory(prefix="crosstrain-check-") as tmp:
            folder = Path(tmp)
            prepare(folder, script, files)
            env = {
                k: os.environ[k] for k in ("PATH", "HOME", "LANG", "SYSTEMROOT") if k in os.environ
            }
            env["OMP_NUM_THREADS"] = "1"
            argv = [sys.executable, "-I", SCRIPT_FILE, *args]
            try:
                proc = subprocess.run(
                    argv, cwd=folder, env=env, capture_output=True, text=True, timeout=timeout
                )
            except subprocess.TimeoutExpired:
                return read_answer(folder, f"it did not finish within {timeout:g} s")
            failure = ""
            if proc.returncode:
                failure = last_line(proc.stderr) or f"it exited with code {proc.returncode}"
            return read_answer(folder, failure)


LOCAL = LocalLearnerCode()
