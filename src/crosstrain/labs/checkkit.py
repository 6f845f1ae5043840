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
