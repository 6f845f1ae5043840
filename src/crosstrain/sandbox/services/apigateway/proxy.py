"""API Gateway's Lambda proxy contract: events for payload 1.0 and 2.0, path templates, and
turning a function's answer into HTTP, as AWS does (a function error is a 502)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from urllib.parse import parse_qsl

from werkzeug.wrappers import Request, Response

from crosstrain.sandbox.core.router import json_response


def not_found() -> Response:
    return json_response({"message": "Not Found"}, 404)


def missing_token() -> Response:
    """What a REST API answers for an unknown stage, path or method."""
    return json_response(
        {"message": "Missing Authentication Token"},
        403,
        headers={"x-amzn-ErrorType": "MissingAuthenticationTokenException"},
    )


def internal_error(v1: bool) -> Response:
    return json_response(
        {"message": "Internal server error" if v1 else "Internal Server Error"}, 502
    )


def unsupported(kind: str | None) -> Response:
    message = f"The crosstrain sandbox runs AWS_PROXY (Lambda proxy) integrations only, not {kind}"
    return json_response({"message": message}, 500)


def match_template(template: str, path: str) -> dict[str, str] | None:
    """Path parameters when ``path`` fits ``template`` (``/a/{id}``, ``/a/{proxy+}``)."""
    want = [p for p in template.split("/") if p]
    have = [p for p in path.split("/") if p]
    params: dict[str, str] = {}
    for i, part in enumerate(want):
        if part.startswith("{") and part.endswith("+}"):
            if i >= len(have):
                return None
            params[part[1:-2]] = "/".join(have[i:])
            return params
        if i >= len(have):
            return None
        if part.startswith("{") and part.endswith("}"):
            params[part[1:-1]] = have[i]
        elif part != have[i]:
            return None
    return params if len(want) == len(have) else None


def specificity(template: str) -> tuple[int, int, int]:
    """Sort key: more literal segments first, greedy paths last."""
    parts = [p for p in template.split("/") if p]
    greedy = any(p.endswith("+}") for p in parts)
    literal = sum(not p.startswith("{") for p in parts)
    return (greedy, -literal, -len(parts))


def request_body(request: Request) -> tuple[str | None, bool]:
    data = request.get_data()
    if not data:
        return None, False
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(data).decode(), True


def common_context(request: Request) -> dict:
    return {
        "request_id": str(uuid.uuid4()),
        "epoch": int(time.time() * 1000),
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
        "source_ip": request.remote_addr or "127.0.0.1",
        "user_agent": request.headers.get("User-Agent", ""),
        "domain": request.host,
    }


def event_v1(request, path, resource, params, stage, api_id, account) -> dict:
    """API Gateway proxy event, payload format 1.0."""
    c = common_context(request)
    headers = {k: v for k, v in request.headers.items()}
    multi_headers: dict[str, list[str]] = {}
    for key, value in request.headers.items():
        multi_headers.setdefault(key, []).append(value)
    query = dict(request.args.items()) or None
    multi_query = {k: request.args.getlist(k) for k in request.args} or None
    body, b64 = request_body(request)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": params or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": request.method,
            "path": f"/{stage}{path}",
            "accountId": account,
            "apiId": api_id,
            "stage": stage,
            "requestId": c["request_id"],
            "extendedRequestId": c["request_id"],
            "requestTime": c["time"],
            "requestTimeEpoch": c["epoch"],
            "domainName": c["domain"],
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "identity": {"sourceIp": c["source_ip"], "userAgent": c["user_agent"]},
        },
        "body": body,
        "isBase64Encoded": b64,
    }


def event_v2(request, path, route_key, params, stage, api_id, account) -> dict:
    """HTTP API / Function URL event, payload format 2.0."""
    c = common_context(request)
    headers: dict[str, str] = {}
    for key, value in request.headers.items():
        lower = key.lower()
        if lower == "cookie":
            continue
        headers[lower] = f"{headers[lower]},{value}" if lower in headers else value
    query: dict[str, str] = {}
    for key, value in parse_qsl(request.query_string.decode(), keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    body, b64 = request_body(request)
    event = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": request.query_string.decode(),
        "headers": headers,
        "requestContext": {
            "accountId": account,
            "apiId": api_id,
            "domainName": c["domain"],
            "domainPrefix": c["domain"].split(".", 1)[0],
            "http": {
                "method": request.method,
                "path": path,
                "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                "sourceIp": c["source_ip"],
                "userAgent": c["user_agent"],
            },
            "requestId": c["request_id"],
            "routeKey": route_key,
            "stage": stage,
            "time": c["time"],
            "timeEpoch": c["epoch"],
        },
        "isBase64Encoded": b64,
    }
    cookies = [part.strip() for part in request.headers.get("Cookie", "").split(";") if part]
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if params:
        event["pathParameters"] = params
    if body is not None:
        event["body"] = body
    return event


def response_from(result, v1: bool) -> Response:
    """Map a proxy integration's answer back to HTTP (``statusCode``, headers, body, base64)."""
    if not isinstance(result, dict) or "statusCode" not in result:
        if v1:
            return internal_error(True)  # AWS: "Malformed Lambda proxy response"
        return Response(json.dumps(result), 200, mimetype="application/json")
    body = result.get("body")
    if body is None:
        data = b""
    elif result.get("isBase64Encoded"):
        data = base64.b64decode(body)
    else:
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
    try:
        status = int(result["statusCode"])
    except (TypeError, ValueError):
        return internal_error(v1)
    response = Response(data, status)
    response.headers.remove("Content-Type")
    for key, values in (result.get("multiValueHeaders") or {}).items():
        for value in values:
            response.headers.add(key, str(value))
    for key, value in (result.get("headers") or {}).items():
        response.headers[key] = str(value)
    for cookie in result.get("cookies") or []:
        response.headers.add("Set-Cookie", cookie)
    if "Content-Type" not in response.headers:
        response.headers["Content-Type"] = "application/json"
    return response
