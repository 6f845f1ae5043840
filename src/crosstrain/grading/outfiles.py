"""Writing a batch's output files: whole files only, under names any file system takes."""

from __future__ import annotations

import os
from pathlib import Path


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and a rename (never half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def safe_name(student: str) -> str:
    """A student id usable as a file name."""
    cleaned = "".join(ch if ch.isalnum() or ch in "-_.@" else "_" for ch in student)
    return cleaned.lstrip(".") or "student"
