"""Run a lab's checks for grading, in the trusted grader process, keeping hidden cases hidden.

Checks come from the lab engine (loaded once per batch, before any learner code runs). Each
check gets hidden data drawn from the course secret; when a check that drew hidden data fails,
it is run again on the public cases only: the learner is shown that public message, or told that
the public cases pass and the hidden ones do not. The full message stays in the instructor's
``results.json``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from crosstrain.grading.results import GradedCheck
from crosstrain.labs.checks import PASSED, CheckContext, HiddenData, run_check
from crosstrain.labs.learnercode import LOCAL, LearnerCode

HIDDEN_FAILED = (
    "passes the public cases but not the hidden ones (hidden cases are not shown: "
    "make the code correct for any input, not only for the examples)"
)
HIDDEN_PASSED = "the hidden cases passed too"


@dataclass(frozen=True)
class TrackedHidden(HiddenData):
    """Hidden data that remembers whether a check used it (its ``rng`` or its ``secret``)."""

    drawn: list = field(default_factory=list, compare=False, repr=False)

    def __getattribute__(self, name: str):
        if name in ("rng", "secret"):
            object.__getattribute__(self, "drawn").append(name)
        return object.__getattribute__(self, name)


def run_lab_checks(
    lab, specs, sandbox, workspace: Path, secret: str | None, learner: LearnerCode | None = None
) -> list[GradedCheck]:
    """Every check's result, with ``public_message`` (what the learner may see). Checks run
    learner code through ``learner`` (grading passes the submission's jailed service)."""
    clients: dict = {}
    learner = learner or LOCAL
    out = []
    for spec in specs:
        hidden = TrackedHidden(secret.encode(), lab.slug) if secret else None
        ctx = CheckContext(lab, sandbox, workspace, hidden, _clients=clients, learner=learner)
        found = run_check(spec, ctx)
        result = GradedCheck(**vars(found), hidden=bool(hidden and hidden.drawn))
        result.public_message = result.message
        if result.hidden:  # say what the public run measured, never what the hidden one saw
            public_ctx = CheckContext(lab, sandbox, workspace, None, clients, learner)
            public = run_check(spec, public_ctx)
            if result.status == PASSED:
                result.public_message = f"{public.message}; {HIDDEN_PASSED}"
            else:
                result.public_message = HIDDEN_FAILED if public.passed else public.message
        out.append(result)
    return out


def grader_fingerprint(lab) -> str:
    """A hash of the lab's grader files (a submission that rewrites them is caught)."""
    digest = hashlib.sha256()
    for path in sorted(lab.grader_dir.rglob("*.py")):
        digest.update(str(path).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
