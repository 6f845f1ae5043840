"""Helpers the graders share, so each lab's ``checks.py`` holds only what is its own.

>>> from crosstrain.labs import checkkit
>>> checkkit.error_code(exc)                        # "NoSuchBucket", "" when none
>>> checkkit.public_access(s3, "data")              # what makes a bucket public, in words
>>> checkkit.wildcard_grants([("inline policy p", document)])
>>> checkkit.FEATURES                               # the churn model's input columns, in order

Graders import this module; nothing here imports a grader (content stays data).
"""

from __future__ import annotations

import json
from typing import Any

from crosstrain.datasets.features import CATEGORICAL_FEATURES, NUMERIC_FEATURES
from crosstrain.datasets.features import FEATURES as ALL_FEATURES

__all__ = [
    "CATEGORICAL",
    "FEATURES",
    "NUMERIC",
    "PUBLIC_GROUPS",
    "allows",
    "as_list",
    "error_code",
    "public_access",
    "wildcard_grants",
]

PUBLIC_GROUPS = ("AllUsers", "AuthenticatedUsers")
# The churn model's input columns, in order: the one list the data card documents.
CATEGORICAL = list(CATEGORICAL_FEATURES)
NUMERIC = list(NUMERIC_FEATURES)
FEATURES = list(ALL_FEATURES)


def error_code(exc: Exception) -> str:
    """The AWS error code of a botocore ``ClientError`` (``""`` when it has none)."""
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def as_list(value: Any) -> list:
    """An IAM policy field (a value or a list of them) as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def public_access(s3, bucket: str) -> list[str]:
    """What makes ``bucket`` public: ACL grants to everyone, or a policy allowing Principal *."""
    found = []
    for grant in s3.get_bucket_acl(Bucket=bucket)["Grants"]:
        group = grant["Grantee"].get("URI", "").rsplit("/", 1)[-1]
        if group in PUBLIC_GROUPS:
            found.append(f"the ACL grants {grant['Permission']} to {group}")
    from botocore.exceptions import ClientError

    try:
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError:  # no policy (NoSuchBucketPolicy): nothing public
        policy = {}
    for statement in as_list(policy.get("Statement", [])):
        principal = statement.get("Principal")
        everyone = principal == "*" or (isinstance(principal, dict) and principal.get("AWS") == "*")
        if statement.get("Effect") == "Allow" and everyone:
            found.append("the bucket policy allows Principal '*'")
    return found


def wildcard_grants(documents: list[tuple[str, dict]]) -> list[str]:
    """Allow statements granting a wildcard action (or ``NotAction``), as "the role's WHERE
    allows ACTIONS", for each ``(where, policy document)``."""
    found = []
    for where, document in documents:
        for statement in as_list(document.get("Statement", [])):
            if statement.get("Effect", "Allow") != "Allow":
                continue
            wild = [a for a in as_list(statement.get("Action", [])) if "*" in str(a)]
            if wild or "NotAction" in statement:
                shown = ", ".join(map(str, wild)) or "NotAction"
                found.append(f"the role's {where} allows {shown}")
    return found


def allows(documents: list[tuple[str, dict]], action: str, resource: str) -> bool:
    """Whether an Allow statement grants exactly ``action`` on ``resource`` (a trailing ``*``
    in the statement's resource matches any suffix)."""
    for _, document in documents:
        for statement in as_list(document.get("Statement", [])):
            if statement.get("Effect") != "Allow" or action not in as_list(statement.get("Action")):
                continue
            for pattern in as_list(statement.get("Resource", [])):
                if resource == pattern or (
                    pattern.endswith("*") and resource.startswith(pattern[:-1])
                ):
                    return True
    return False


# -- learner code, out of the checking process (see crosstrain.labs.learnercode) ---------------


def learner_failed(exc: Exception, what: str, hint: str | None = None):
    """The ``Fail`` for learner code that gave no answer: ``WHAT: how it ended``."""
    from crosstrain.labs.checks import Fail

    return Fail(f"{what}: {exc}", hint=hint)


def untar(data: bytes, max_bytes: int = 512 * 1024 * 1024, mode: str = "r:*") -> dict[str, bytes]:
    """The regular files of a tar(.gz), by path, read in memory (nothing is extracted to disk
    and nothing in it runs); ``ValueError`` when it is not one or unpacks past ``max_bytes``."""
    import io
    import tarfile

    files: dict[str, bytes] = {}
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode=mode) as archive:
            for member in archive:
                if not member.isfile():
                    continue
                total += member.size
                if total > max_bytes:
                    raise ValueError(f"larger than {max_bytes >> 20} MB unpacked")
                files[member.name.removeprefix("./")] = archive.extractfile(member).read()
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ValueError(f"not a tar.gz archive ({exc})") from None
    return files


def frame_to_plain(frame) -> dict:
    """A DataFrame as plain JSON data that keeps each column's dtype (the learner-code service
    sends frames back this way: never a pickle, never Parquet's embedded metadata)."""
    import pandas as pd

    columns = []
    for name in frame.columns:
        col = frame[name]
        if pd.api.types.is_datetime64_any_dtype(col.dtype):
            values = [None if pd.isna(v) else v.isoformat() for v in col]
        else:
            values = [_cell(v) for v in col.astype(object).tolist()]
        columns.append({"name": str(name), "dtype": str(col.dtype), "values": values})
    return {"columns": columns}


def frame_from_plain(data: dict):
    """The DataFrame :func:`frame_to_plain` described (same columns, values and dtypes)."""
    import pandas as pd

    series = {}
    for column in data["columns"]:
        values = [_uncell(v) for v in column["values"]]
        dtype = str(column["dtype"])
        if dtype.startswith("datetime64"):
            parsed = pd.to_datetime(pd.Series(values, dtype=object), format="ISO8601")
            try:
                series[column["name"]] = parsed.astype(dtype)
            except (TypeError, ValueError):
                series[column["name"]] = parsed
            continue
        try:
            series[column["name"]] = pd.Series(values, dtype=dtype)
        except (TypeError, ValueError):
            series[column["name"]] = pd.Series(values, dtype=object)
    return pd.DataFrame(series)


def _cell(value):
    import math

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "isoformat") and not _missing(value):
        return {"kind": type(value).__name__, "iso": value.isoformat()}
    if hasattr(value, "item"):
        return _cell(value.item())
    return None if _missing(value) else {"kind": "text", "iso": str(value)}


def _missing(value) -> bool:
    import pandas as pd

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _uncell(value):
    import datetime as dt

    import pandas as pd

    if not isinstance(value, dict):
        return value
    kind, text = value.get("kind"), str(value.get("iso", ""))
    if kind == "date":
        return dt.date.fromisoformat(text)
    if kind in ("datetime", "Timestamp"):
        return pd.Timestamp(text)
    return text
