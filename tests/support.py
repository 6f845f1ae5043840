"""Small helpers shared by test modules (importable because pytest puts tests/ on the path)."""

from __future__ import annotations

import io
import json
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


LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def lambda_role(sandbox, name: str) -> str:
    """Create an IAM role Lambda may assume; return its ARN."""
    role = sandbox.client("iam").create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST)
    )
    return role["Role"]["Arn"]
