"""What the SageMaker endpoint and training runtimes share: S3 artifacts, archives, API errors."""

from __future__ import annotations

import tarfile
from pathlib import Path

from werkzeug.wrappers import Response

from crosstrain.sandbox.core.router import json_response


class ApiError(Exception):
    """An error answer of the SageMaker API (``__type`` and ``message``, as AWS sends them)."""

    def __init__(self, code: str, message: str, status: int = 400, **extra):
        super().__init__(message)
        self.code, self.message, self.status, self.extra = code, message, status, extra

    def response(self) -> Response:
        body = {"__type": self.code, "message": self.message, **self.extra}
        return json_response(body, self.status, headers={"x-amzn-ErrorType": self.code})


class ArtifactError(Exception):
    """An S3 object or archive could not be fetched or unpacked; the message is user-facing."""


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``("bucket", "key/prefix")`` from ``s3://bucket/key/prefix``."""
    if not uri.startswith("s3://"):
        raise ArtifactError(f"{uri!r} is not an S3 URI (s3://bucket/key)")
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


def download(s3, uri: str, target: Path) -> Path:
    """Download one object to ``target``; ``ArtifactError`` when it is not there."""
    from botocore.exceptions import ClientError

    bucket, key = split_s3_uri(uri)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        s3.download_file(bucket, key, str(target))
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        raise ArtifactError(f"there is no object at {uri} ({code or exc})") from None
    return target


def download_prefix(s3, uri: str, target: Path) -> int:
    """Copy every object under an S3 prefix into ``target`` (keys relative to the prefix).

    A URI naming one object copies that object. Returns the number of files.
    """
    from botocore.exceptions import ClientError

    bucket, prefix = split_s3_uri(uri)
    target.mkdir(parents=True, exist_ok=True)
    count = 0
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                key = item["Key"]
                if key.endswith("/"):
                    continue
                relative = key[len(prefix) :].lstrip("/") or key.rsplit("/", 1)[-1]
                path = (target / relative).resolve()
                if not path.is_relative_to(target.resolve()):
                    continue
                path.parent.mkdir(parents=True, exist_ok=True)
                s3.download_file(bucket, key, str(path))
                count += 1
    except ClientError as exc:
        raise ArtifactError(f"Could not read {uri}: {exc}") from None
    return count


def unpack(archive: Path, target: Path) -> None:
    """Extract a ``.tar.gz`` safely (no paths outside ``target``)."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            tar.extractall(target, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise ArtifactError(f"not a valid tar.gz archive ({exc})") from None


def pack(folder: Path, archive: Path) -> Path:
    """``folder``'s contents at the root of a ``.tar.gz`` (as SageMaker packs ``/opt/ml/model``)."""
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(folder.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(folder)), recursive=False)
    return archive


def sagemaker_backend(account: str, region: str):
    from moto.sagemaker.models import sagemaker_backends

    return sagemaker_backends[account][region]
