"""boto3 sessions and clients bound to a sandbox endpoint."""

from __future__ import annotations

DEFAULT_REGION = "us-east-1"
DUMMY_KEY = "test"
_process_key = [DUMMY_KEY]  # what this process signs with by default (see use_access_key)


def use_access_key(key: str) -> None:
    """Sign this process's sandbox clients with ``key`` by default: a sandbox started with an
    access key (grading without a network namespace) serves only requests carrying it, its own
    calls to itself included."""
    _process_key[0] = key


def make_session(
    region: str = DEFAULT_REGION,
    profile: str | None = None,
    dummy: bool = True,
    key: str | None = None,
):
    """A boto3 session; dummy credentials (or ``key``) unless a real ``profile`` is named."""
    import boto3

    if profile:
        return boto3.session.Session(profile_name=profile, region_name=region)
    key = key or _process_key[0]
    return boto3.session.Session(
        aws_access_key_id=key if dummy else None,
        aws_secret_access_key=key if dummy else None,
        region_name=region,
    )


def client_config(retries: int = 1, **kwargs):
    """botocore config: one attempt (an unimplemented action must fail fast, not retry 25 s)."""
    from botocore.config import Config

    options = {"retries": {"max_attempts": retries, "mode": "standard"}}
    options.update(kwargs)
    return Config(**options)


def make_client(
    service: str,
    endpoint_url: str | None,
    region: str = DEFAULT_REGION,
    session=None,
    **config,
):
    """A boto3 client for ``service`` at ``endpoint_url`` (``None`` means real AWS)."""
    session = session or make_session(region)
    s3_path_style = {"s3": {"addressing_style": "path"}} if endpoint_url else {}
    return session.client(
        service,
        endpoint_url=endpoint_url,
        config=client_config(**s3_path_style, **config),
    )
