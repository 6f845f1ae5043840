"""A sandbox that serves one holder only: the per-sandbox access key.

Grading starts each submission's sandbox with its own random key where no network namespace
keeps other submissions' code off its port (``crosstrain.sandbox.start(token=...)``). The key is
the access key id the submission's environment (and the sandbox's own workers and clients) sign
with, so boto3, the aws CLI and every SDK carry it unchanged; unsigned calls carry it in
:data:`~crosstrain.sandbox.core.handle.ACCESS_HEADER`.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from crosstrain.sandbox.core import errors
from crosstrain.sandbox.core.handle import ACCESS_HEADER

if TYPE_CHECKING:
    from werkzeug.wrappers import Request, Response

    from crosstrain.sandbox.core.router import Router

# What such a sandbox still serves without the key: health, and the public URLs of deployed
# APIs and function URLs (the apigateway runtime's data-plane handlers: anyone may call those
# on AWS too).
PUBLIC_PATHS = frozenset({"/_crosstrain/health", "/_localstack/health"})
PUBLIC_HANDLERS = frozenset({"_execute_api", "_function_url"})
INVALID = "The security token included in the request is invalid."


def gate(router: Router, request: Request) -> Response | None:
    """The AWS-shaped 403 for a request without ``router.access_key`` (``None``: serve it)."""
    from crosstrain.sandbox.core.router import READ_METHODS, signing_scope

    key, _, signing = signing_scope(request)
    if key is not None:
        if _same(key, router.access_key):
            return None
        code = {"rest-xml": "InvalidAccessKeyId", "query": "InvalidClientTokenId"}.get(
            errors.protocol_of(signing), "UnrecognizedClientException"
        )
        return errors.aws_error(signing, code, INVALID, 403)
    if _same(request.headers.get(ACCESS_HEADER, ""), router.access_key):
        return None
    if request.method in READ_METHODS and request.path in PUBLIC_PATHS:
        return None
    for runtime in router.runtimes:
        handler = runtime.route(request)
        if handler is not None:
            if getattr(handler, "__name__", "") in PUBLIC_HANDLERS:
                return None
            break
    message = "Missing Authentication Token: this sandbox serves only its own submission"
    return errors.aws_error(None, "MissingAuthenticationTokenException", message, 403)


def _same(given: str, key: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), key.encode())
