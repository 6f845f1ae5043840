"""Wire protocols, as botocore speaks them: every protocol a client may use reaches one handler.

AWS moves services between wire protocols (Athena went from ``json`` to ``rest-json`` in botocore
1.44.18) while moto, and crosstrain's own runtimes, serve one form per service. This module lets
the sandbox accept a ``rest-json`` request for a service whose handlers speak ``json``: the
operation is found from botocore's service model (each operation's ``http.method`` and
``http.requestUri`` template, nothing written by hand), the request is rewritten to the
canonical ``json`` form (``POST /``, ``X-Amz-Target``, every input member in the JSON body), and
the ``json`` answer is turned back into the ``rest-json`` one the client parses.

A service is bridged when the installed botocore model says ``rest-json`` and moto routes the
service only at ``/`` (it dispatches on ``X-Amz-Target``). Both conditions are read from the
installed packages, so when botocore moves another service the bridge follows.
"""

from __future__ import annotations

import functools
import importlib
import io
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from werkzeug.wrappers import Request, Response

ORIGINAL = "crosstrain.wire"  # environ key: the request as the client sent it
_LABEL = re.compile(r"\{([^}]+?)(\+?)\}")


@dataclass(frozen=True)
class RestRoute:
    """One operation of a ``rest-json`` service: method, path pattern and input members."""

    operation: str
    method: str
    pattern: re.Pattern
    literal: int  # literal characters in the template: more specific routes are tried first
    members: dict[str, tuple[str, str, str]]  # member -> (location, wire name, shape type)


def _route(operation_model) -> RestRoute:
    http = operation_model.http
    template = http["requestUri"].split("?", 1)[0]
    regex = uri_regex(template)
    members: dict[str, tuple[str, str, str]] = {}
    shape = operation_model.input_shape
    for name, member in shape.members.items() if shape else []:
        location = member.serialization.get("location")
        if location:
            wire = member.serialization.get("name", name)
            members[name] = (location, wire, member.type_name)
    return RestRoute(
        operation=operation_model.name,
        method=http["method"].upper(),
        pattern=re.compile(f"^{regex.rstrip('/') or ''}/?$"),
        literal=literal_length(template),
        members=members,
    )


def uri_regex(template: str) -> str:
    """A regex for a botocore ``requestUri`` path template: each ``{Label}`` a named group
    (``{Label+}`` greedy, across slashes)."""
    regex, position = "", 0
    for match in _LABEL.finditer(template):
        regex += re.escape(template[position : match.start()])
        greedy = match.group(2) == "+"
        regex += f"(?P<{_group(match.group(1))}>{'.+' if greedy else '[^/]+'})"
        position = match.end()
    return regex + re.escape(template[position:])


def literal_length(template: str) -> int:
    """Literal characters of a path template: more specific routes are tried first."""
    return len(_LABEL.sub("", template))


def _group(label: str) -> str:
    return "g_" + re.sub(r"\W", "_", label)


@functools.cache
def rest_routes(service: str) -> tuple[RestRoute, ...]:
    """The ``rest-json`` routes of ``service`` from botocore's model, most specific first."""
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    protocols = model.metadata.get("protocols") or [model.metadata.get("protocol")]
    if "rest-json" not in protocols:
        return ()
    routes = [_route(model.operation_model(name)) for name in model.operation_names]
    return tuple(sorted(routes, key=lambda r: -r.literal))


@functools.cache
def target_prefix(service: str) -> str:
    """The ``X-Amz-Target`` prefix of ``service``'s ``json`` form (e.g. ``AmazonAthena``)."""
    import botocore.session

    metadata = botocore.session.get_session().get_service_model(service).metadata
    return metadata.get("targetPrefix") or re.sub(r"\W", "", metadata["serviceFullName"])


@functools.cache
def moto_speaks_json_only(service: str) -> bool:
    """True when moto routes ``service`` only at ``/`` (it dispatches on ``X-Amz-Target``)."""
    try:
        paths = importlib.import_module(f"moto.{service}.urls").url_paths
    except (ImportError, AttributeError):
        return False
    return set(paths) <= {"{0}/$", "{0}/"}


def bridged(service: str | None) -> bool:
    return bool(service) and moto_speaks_json_only(service) and bool(rest_routes(service))


def find(service: str, method: str, path: str) -> tuple[RestRoute, dict[str, str]] | None:
    """The operation a ``rest-json`` request calls, with its URI labels (``None``: no route)."""
    for route in rest_routes(service):
        if route.method != method:
            continue
        match = route.pattern.match(path)
        if match:
            return route, match.groupdict()
    return None


def _typed(value: str, type_name: str) -> Any:
    if type_name in ("integer", "long"):
        return int(value)
    if type_name == "boolean":
        return value.lower() == "true"
    return value


def to_json(request: Request, service: str) -> str | None:
    """Rewrite ``request``'s environ to the ``json`` form; return the operation (``None``: the
    request is not a ``rest-json`` call of ``service`` and is left alone)."""
    if request.headers.get("X-Amz-Target") or request.path in ("", "/"):
        return None
    raw_uri = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    path = raw_uri.split("?", 1)[0] if raw_uri else quote(request.path)
    found = find(service, request.method, path)
    if found is None:
        return None
    route, labels = found
    raw = request.get_data()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    query = parse_qsl(request.query_string.decode(), keep_blank_values=True)
    for name, (location, wire, type_name) in route.members.items():
        if location == "uri":
            value = labels.get(_group(wire))
            if value is not None:
                body[name] = unquote(value)
        elif location == "querystring":
            values = [v for k, v in query if k == wire]
            if values:
                body[name] = values if type_name == "list" else _typed(values[-1], type_name)
        elif location == "header" and wire in request.headers:
            body[name] = _typed(request.headers[wire], type_name)
    environ = request.environ
    environ[ORIGINAL] = {
        "method": request.method,
        "path": raw_uri or request.full_path,
        "body": raw,
        "headers": dict(request.headers),
    }
    payload = json.dumps(body).encode()
    environ.update(
        REQUEST_METHOD="POST",
        PATH_INFO="/",
        QUERY_STRING="",
        CONTENT_TYPE="application/x-amz-json-1.1",
        CONTENT_LENGTH=str(len(payload)),
        HTTP_X_AMZ_TARGET=f"{target_prefix(service)}.{route.operation}",
    )
    environ["wsgi.input"] = io.BytesIO(payload)
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ.pop("werkzeug.request", None)
    return route.operation


def to_rest(status: str, headers: list[tuple[str, str]], body: bytes) -> Response:
    """Turn a ``json`` protocol answer into the ``rest-json`` one (errors name their type in the
    ``x-amzn-ErrorType`` header, as botocore's rest-json parser reads it first)."""
    code = int(status.split(" ", 1)[0])
    kept = [(k, v) for k, v in headers if k.lower() not in ("content-type", "content-length")]
    if code >= 400:
        try:
            error = json.loads(body or b"{}")
        except ValueError:
            error = {}
        kind = str(error.get("__type") or error.get("code") or "")
        if kind and not any(k.lower() == "x-amzn-errortype" for k, _ in kept):
            kept.append(("x-amzn-ErrorType", kind.rsplit("#", 1)[-1]))
    return Response(body, status=code, headers=kept, mimetype="application/json")


def served(service: str) -> list[str]:
    """The wire protocols the sandbox answers for ``service``: every one the installed botocore
    lists, plus ``json`` where the sandbox bridges ``rest-json`` to it (older botocore)."""
    import botocore.session
    from botocore.exceptions import UnknownServiceError

    try:
        metadata = botocore.session.get_session().get_service_model(service).metadata
    except UnknownServiceError:
        return []
    found = list(metadata.get("protocols") or [metadata["protocol"]])
    if bridged(service) and "json" not in found:
        found.append("json")
    return found
