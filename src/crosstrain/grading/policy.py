"""The grading policy a grade was made under: the course secret and the graders' version.

Two grades are comparable only under one policy: hidden cases drawn from another secret (or
none), or checks that changed, score differently. Each row of the grade store records its
policy's fingerprint, and a batch refuses to add rows under another one (see
:func:`crosstrain.grading.batch.grade`). Fingerprints are short hashes: they identify, never
reveal, the secret.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from crosstrain.errors import CrosstrainError

if TYPE_CHECKING:
    from crosstrain.labs.catalog import Lab

NO_SECRET = "none"
UNKNOWN = "unknown"  # rows written before policies were recorded


@dataclass(frozen=True)
class Policy:
    secret: str  # short hash of the course secret, or "none"
    graders: str  # short hash of the lab's grader files (relative paths and bytes)

    def __str__(self) -> str:
        return f"secret:{self.secret};graders:{self.graders}"

    @classmethod
    def parse(cls, text: str) -> Policy:
        parts = dict(p.split(":", 1) for p in text.split(";") if ":" in p)
        return cls(parts.get("secret", UNKNOWN), parts.get("graders", UNKNOWN))

    def describe(self) -> str:
        return f"{secret_words(self.secret)}, graders #{self.graders}"


def secret_words(secret: str) -> str:
    if secret == NO_SECRET:
        return "without a secret"
    if secret == UNKNOWN:
        return "with an unrecorded secret"
    return f"with secret #{secret}"


def short_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def graders_version(lab: Lab) -> str:
    """A hash of the lab's grader files, independent of where the course is checked out."""
    digest = hashlib.sha256()
    for path in sorted(lab.grader_dir.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(lab.grader_dir).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def current(lab: Lab, secret: str | None) -> Policy:
    """The policy a batch grades ``lab`` under with ``secret``."""
    return Policy(short_hash(secret.encode()) if secret else NO_SECRET, graders_version(lab))


def differences(old: Policy, new: Policy) -> str:
    """What changed between two policies, in words."""
    said = []
    if old.secret != new.secret:
        said.append(f"graded {secret_words(old.secret)}, this run {secret_words(new.secret)}")
    if old.graders != new.graders:
        said.append(f"the graders changed (#{old.graders} then, #{new.graders} now)")
    return "; ".join(said)


def refuse_mix(out, old: list[Policy], new: Policy) -> CrosstrainError:
    """The one-line error for a batch that would mix policies in one gradebook."""
    what = "; ".join(differences(p, new) for p in old if p != new)
    return CrosstrainError(
        f"{out} holds grades made under another grading policy ({what}): grade with the same "
        "--secret and graders, pass --regrade to regrade everyone under this one, "
        "or choose another --out folder"
    )
