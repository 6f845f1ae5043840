"""Errors shaped the way each wire protocol carries them, so every SDK parses them.

moto answers an action it does not implement with an HTML page and status 500, which boto3
retries for up to 25 s before it fails to parse it; a path it does not route gets an HTML 404.
The router turns both into an error the client's protocol understands, at once: 501
``NotImplemented`` (not retried) for an unimplemented action, 400 ``UnknownOperationException``
for an unknown route, and 400 ``UnsupportedService`` for a service the sandbox does not emulate,
each naming ``crosstrain sandbox services`` (the ledger).
"""

from __future__ import annotations

import functools
import json
from xml.sax.saxutils import escape

from werkzeug.wrappers import Response

LEDGER_HINT = "`crosstrain sandbox services` lists what the sandbox emulates"


@functools.cache
def protocol_of(service: str | None) -> str:
    """The protocol the newest botocore uses for ``service`` (``json`` when unknown)."""
    if not service:
        return "json"
    import botocore.session
    from botocore.exceptions import UnknownServiceError

    try:
        metadata = botocore.session.get_session().get_service_model(service).metadata
    except UnknownServiceError:
        return "json"
    return (metadata.get("protocols") or [metadata["protocol"]])[0]


def aws_error(service: str | None, code: str, message: str, status: int = 400) -> Response:
    """An error answer in ``service``'s wire protocol."""
    protocol = protocol_of(service)
    headers = {"x-amzn-ErrorType": code}
    if protocol in ("query", "ec2"):
        body = (
            "<ErrorResponse><Error><Type>Sender</Type>"
            f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
            "<RequestId>crosstrain</RequestId></ErrorResponse>"
        )
        return Response(body, status, headers=headers, mimetype="text/xml")
    if protocol == "rest-xml":
        body = f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        return Response(body, status, headers=headers, mimetype="application/xml")
    body = json.dumps({"__type": code, "message": message, "Message": message})
    return Response(body, status, headers=headers, mimetype="application/json")


def is_html(headers: list[tuple[str, str]], body: bytes) -> bool:
    """An HTML page (what moto's web framework answers when moto itself has no answer).

    An empty body is never one: it is moto's answer to a HEAD (``HeadBucket`` on a missing
    bucket is a 404 the SDKs read as "create it")."""
    if not body:
        return False
    content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
    return "text/html" in content_type or body[:15].lower().startswith(b"<!doctype html")
