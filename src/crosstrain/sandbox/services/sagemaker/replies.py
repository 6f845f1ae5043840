"""SageMaker replies shaped as AWS sends them: optional structures left out, not ``{}``.

moto answers ``Describe*`` and ``List*`` calls with every attribute its model has, so structures
the caller never set come back as ``{}`` or ``null`` (``VpcConfig``, ``DataCaptureConfig``,
``ExplainerConfig``, ``AsyncInferenceConfig``, ...). AWS leaves them out, and clients that
validate replies against the service model (the SageMaker Python SDK v3's pydantic shapes)
reject an empty structure whose members are required. :func:`tidy` drops them, at any depth.
"""

from __future__ import annotations

import json

from werkzeug.wrappers import Request, Response

READ_PREFIXES = ("SageMaker.Describe", "SageMaker.List")


def wanted(request: Request) -> bool:
    return request.headers.get("X-Amz-Target", "").startswith(READ_PREFIXES)


def tidy(value):
    """``value`` without ``null`` members and empty objects (empty lists stay: AWS sends them)."""
    if isinstance(value, dict):
        cleaned = {}
        for key, item in value.items():
            item = tidy(item)
            if item is None or item == {}:
                continue
            cleaned[key] = item
        return cleaned
    if isinstance(value, list):
        return [tidy(item) for item in value]
    return value


def tidied(answer: Response) -> Response:
    """moto's answer with its JSON body tidied (errors and non-JSON bodies pass unchanged)."""
    if answer.status_code >= 400:
        return answer
    try:
        body = json.loads(answer.get_data() or b"null")
    except ValueError:
        return answer
    if not isinstance(body, dict):
        return answer
    data = json.dumps(tidy(body)).encode()
    answer.set_data(data)
    return answer
