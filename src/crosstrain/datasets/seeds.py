"""Seeds: the learners' fixed seed, and a hidden grading seed derived from a course secret."""

from __future__ import annotations

import hashlib

LEARNER_SEED = 20240630  # the data every learner downloads and explores


def hidden_seed(secret: str) -> int:
    """A grading seed derived from ``secret``: stable, never ``LEARNER_SEED``, not guessable.

    Learners see the generator and ``LEARNER_SEED``; without the secret they cannot rebuild the
    hidden data their work is scored on.
    """
    if not secret:
        raise ValueError("hidden_seed needs a non-empty secret")
    digest = hashlib.sha256(f"crosstrain.datasets:{secret}".encode()).digest()
    seed = int.from_bytes(digest[:8], "big")
    return seed if seed != LEARNER_SEED else seed + 1
