"""Small helpers shared by test modules (importable because pytest puts tests/ on the path)."""

from __future__ import annotations

import io
import tarfile
import time

import pytest


def tgz(files: dict[str, bytes | str]) -> bytes:
    """A gzipped tar archive holding ``files`` (name -> content), as SageMaker expects."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def wait_for(fetch, done, timeout: float = 90.0):
    """Poll ``fetch()`` until ``done(value)``; fail with the last value after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting; last value: {value}")
        time.sleep(0.05)
