"""Who a request is from: the account and region moto would resolve for it."""

from __future__ import annotations

import os

from werkzeug.wrappers import Request

from crosstrain.sandbox.core.router import signing_scope


def account_for(request: Request) -> str:
    """The account moto would use for this request (header, access key, then the default)."""
    from moto.core import DEFAULT_ACCOUNT_ID

    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    if request.headers.get("x-moto-account-id"):
        return request.headers["x-moto-account-id"]
    access_key, _, _ = signing_scope(request)
    if not access_key:
        return DEFAULT_ACCOUNT_ID
    from moto.iam.models import get_account_id_from

    return get_account_id_from(access_key)


def caller(request: Request, default_region: str) -> tuple[str, str]:
    """(account, region) of the caller, as moto would resolve them."""
    _, region, _ = signing_scope(request)
    return account_for(request), region or default_region
