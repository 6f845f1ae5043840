"""API Gateway (REST v1, HTTP v2) and Lambda Function URLs answering HTTP with a function.

URL forms served (LocalStack's, so labs run unchanged there):

- ``/restapis/{api_id}/{stage}/_user_request_/{path}`` and ``/_aws/execute-api/{api_id}/{stage}/
  {path}`` on the sandbox endpoint (the latter is what ``apiEndpoint`` of an HTTP API says);
- host ``{api_id}.execute-api.localhost.localstack.cloud:PORT`` with ``/{stage}/{path}`` (HTTP
  APIs with a ``$default`` stage: ``/{path}``);
- Function URLs at host ``{url_id}.lambda-url.{region}.localhost.localstack.cloud:PORT`` and at
  the path form ``/_aws/lambda-url/{url_id}/{path}``, which needs no DNS and is the URL that
  ``CreateFunctionUrlConfig`` / ``GetFunctionUrlConfig`` return.

The host forms need that name to resolve to 127.0.0.1 (public DNS does, offline it does not);
without DNS send the request to ``127.0.0.1:PORT`` with a ``Host:`` header.

REST APIs support ``AWS_PROXY`` (payload 1.0); HTTP APIs and Function URLs ``AWS_PROXY`` with
payload 2.0 (or 1.0 when the integration asks). A function error answers 502 as AWS does.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from urllib.parse import parse_qsl

from werkzeug.wrappers import Request, Response

from crosstrain.sandbox.core.accounts import account_for
from crosstrain.sandbox.core.router import (
    Call,
    Handler,
    Router,
    Runtime,
    json_response,
    signing_scope,
)
from crosstrain.sandbox.services.awslambda.runtime import (
    Function,
    LambdaApiError,
    LambdaRuntime,
)

_USER_REQUEST = re.compile(
    r"^/restapis/(?P<api>[^/]+)/(?P<stage>[^/]+)/_user_request_(?P<path>/.*)?$"
)
_EXECUTE_API_PATH = re.compile(r"^/_aws/execute-api/(?P<api>[^/]+)(?P<path>/.*)?$")
_EXECUTE_API_HOST = re.compile(
    r"^(?P<api>[a-z0-9]+)\.execute-api\.localhost\.localstack\.cloud(:\d+)?$"
)
_URL_HOST = re.compile(
    r"^(?P<url>[a-z0-9]+)\.lambda-url\.(?P<region>[a-z0-9-]+)\.localhost\.localstack\.cloud(:\d+)?$"
)
_URL_PATH = re.compile(r"^/_aws/lambda-url/(?P<url>[a-z0-9]+)(?P<path>/.*)?$")
_HTTP_API_API = re.compile(r"^/v2/apis(/[^/]+)?/?$")
_MOTO_API_ENDPOINT = re.compile(
    r"https://(?P<api>[a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com"
)
_URL_CONFIG_API = re.compile(r"^/\d{4}-\d{2}-\d{2}/functions/[^/]+/urls?/?$")
_MOTO_URL = re.compile(r"https://(?P<url>[0-9a-f]{32})\.lambda-url\.[a-z0-9-]+\.on\.aws/?")
_LAMBDA_ARN = re.compile(r"(arn:aws[a-z-]*:lambda:[^/]+?:function:[^/]+?)(/invocations)?$")


def _not_found() -> Response:
    return json_response({"message": "Not Found"}, 404)


def _missing_token() -> Response:
    """What a REST API answers for an unknown stage, path or method."""
    return json_response(
        {"message": "Missing Authentication Token"},
        403,
        headers={"x-amzn-ErrorType": "MissingAuthenticationTokenException"},
    )


def _internal_error(v1: bool) -> Response:
    return json_response(
        {"message": "Internal server error" if v1 else "Internal Server Error"}, 502
    )


def _unsupported(kind: str | None) -> Response:
    message = f"The crosstrain sandbox runs AWS_PROXY (Lambda proxy) integrations only, not {kind}"
    return json_response({"message": message}, 500)


def _match(template: str, path: str) -> dict[str, str] | None:
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


def _specificity(template: str) -> tuple[int, int, int]:
    """Sort key: more literal segments first, greedy paths last."""
    parts = [p for p in template.split("/") if p]
    greedy = any(p.endswith("+}") for p in parts)
    literal = sum(not p.startswith("{") for p in parts)
    return (greedy, -literal, -len(parts))


def _body(request: Request) -> tuple[str | None, bool]:
    data = request.get_data()
    if not data:
        return None, False
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(data).decode(), True


def _common(request: Request) -> dict:
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
    c = _common(request)
    headers = {k: v for k, v in request.headers.items()}
    multi_headers: dict[str, list[str]] = {}
    for key, value in request.headers.items():
        multi_headers.setdefault(key, []).append(value)
    query = dict(request.args.items()) or None
    multi_query = {k: request.args.getlist(k) for k in request.args} or None
    body, b64 = _body(request)
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
    c = _common(request)
    headers: dict[str, str] = {}
    for key, value in request.headers.items():
        lower = key.lower()
        if lower == "cookie":
            continue
        headers[lower] = f"{headers[lower]},{value}" if lower in headers else value
    query: dict[str, str] = {}
    for key, value in parse_qsl(request.query_string.decode(), keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    body, b64 = _body(request)
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


def _response_from(result, v1: bool) -> Response:
    """Map a proxy integration's answer back to HTTP (``statusCode``, headers, body, base64)."""
    if not isinstance(result, dict) or "statusCode" not in result:
        if v1:
            return _internal_error(True)  # AWS: "Malformed Lambda proxy response"
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
        return _internal_error(v1)
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


class ApiGatewayRuntime(Runtime):
    """execute-api URLs (REST and HTTP APIs) and Lambda Function URLs, proxied to functions."""

    name = "apigateway"

    def __init__(self, router: Router):
        super().__init__(router)
        self.requests = 0

    @property
    def functions(self) -> LambdaRuntime:
        for runtime in self.router.runtimes:
            if isinstance(runtime, LambdaRuntime):
                return runtime
        raise RuntimeError("the Lambda runtime is not registered")

    def health(self) -> dict:
        return {"requests": self.requests}

    def route(self, request: Request) -> Handler | None:
        host = request.host.lower()
        if _URL_HOST.match(host):
            return self._function_url
        if _EXECUTE_API_HOST.match(host):
            return self._execute_api
        path = request.path
        if _USER_REQUEST.match(path) or _EXECUTE_API_PATH.match(path):
            return self._execute_api
        if _URL_PATH.match(path):
            return self._function_url
        if _URL_CONFIG_API.match(path):
            return self._url_config_api
        if _HTTP_API_API.match(path):
            return self._http_api_api
        return None

    def observe(self, call: Call) -> None:
        """HTTP API quick create: ``CreateApi`` with a ``Target`` gets its route and stage.

        moto ignores ``Target``; AWS creates an ``AWS_PROXY`` integration, a route (``RouteKey``,
        default ``$default``) and an auto-deployed ``$default`` stage.
        """
        if call.service not in ("apigateway", "apigatewayv2") or call.request.method != "POST":
            return
        if call.request.path.rstrip("/") != "/v2/apis":
            return
        spec = call.json()
        if not spec.get("target"):
            return
        from moto.apigatewayv2.models import apigatewayv2_backends

        api_id = json.loads(call.body).get("apiId")
        account = account_for(call.request)
        region = signing_scope(call.request)[1] or self.router.region
        target = spec["target"]
        kind = "AWS_PROXY" if ":lambda:" in target else "HTTP_PROXY"
        with self.router.moto_lock:
            api = apigatewayv2_backends[account][region].apis.get(api_id)
            if api is None or api.routes:
                return
            integration = api.create_integration(
                connection_type="INTERNET",
                description="Created by quick create",
                integration_method="POST" if kind == "AWS_PROXY" else "ANY",
                integration_type=kind,
                integration_uri=target,
                payload_format_version="2.0",
            )
            api.create_route(
                api_key_required=False,
                authorization_scopes=[],
                route_key=spec.get("routeKey") or "$default",
                target=f"integrations/{integration.id}",
            )
            api.create_stage({"stageName": "$default", "autoDeploy": True})
        self.router.mark_dirty({"apigatewayv2"})

    def endpoint_for(self, api_id: str) -> str:
        """An HTTP API's base URL that works against this sandbox (no DNS needed)."""
        return f"{self.router.endpoint_url}/_aws/execute-api/{api_id}"

    def _http_api_api(self, request: Request) -> Response:
        """HTTP API control plane, with ``apiEndpoint`` rewritten to a URL that answers here."""
        response = self.router.forward(request)
        text = response.get_data(as_text=True)
        rewritten = _MOTO_API_ENDPOINT.sub(lambda m: self.endpoint_for(m.group("api")), text)
        if rewritten != text:
            response.set_data(rewritten)
        return response

    # -- Function URLs -------------------------------------------------------------------------
    def url_for(self, url_id: str) -> str:
        """The Function URL that works against this sandbox (path form, no DNS needed)."""
        return f"{self.router.endpoint_url}/_aws/lambda-url/{url_id}/"

    def _url_config_api(self, request: Request) -> Response:
        response = self.router.forward(request)
        text = response.get_data(as_text=True)
        rewritten = _MOTO_URL.sub(lambda m: self.url_for(m.group("url")), text)
        if rewritten != text:
            response.set_data(rewritten)
        return response

    def _find_url(self, url_id: str) -> tuple[str, str, str] | None:
        """(account, region, function name) of the function whose URL id is ``url_id``."""
        from moto.awslambda.models import lambda_backends

        with self.router.moto_lock:
            for account, regions in list(lambda_backends.items()):
                for region, backend in list(regions.items()):
                    for group in list(backend._lambdas._functions.values()):
                        fn = group["latest"]
                        if fn.url_config is not None and url_id in fn.url_config.url:
                            return account, region, fn.function_name
        return None

    def _function_url(self, request: Request) -> Response:
        self.requests += 1
        match = _URL_HOST.match(request.host.lower())
        path = request.path
        if match is None:
            match = _URL_PATH.match(request.path)
            path = match.group("path") or "/"
        found = self._find_url(match.group("url"))
        if found is None:
            return _not_found()
        account, region, name = found
        try:
            function = self.functions.lookup(account, region, name, None)
        except LambdaApiError:
            return _internal_error(False)
        event = event_v2(request, path, "$default", None, "$default", match.group("url"), account)
        return self._proxy(function, event, v1=False)

    # -- execute-api ---------------------------------------------------------------------------
    def _execute_api(self, request: Request) -> Response:
        self.requests += 1
        host = _EXECUTE_API_HOST.match(request.host.lower())
        match = _USER_REQUEST.match(request.path)
        if host is not None:  # the stage (if any) is the first segment of the path
            api_id, stage, path = host.group("api"), None, request.path
        elif match is not None:
            api_id, stage, path = match.group("api"), match.group("stage"), match.group("path")
        else:  # /_aws/execute-api/{api_id}/...: as the host form
            match = _EXECUTE_API_PATH.match(request.path)
            api_id, stage, path = match.group("api"), None, match.group("path")
        path = path or "/"
        found = self._find_api(api_id)
        if found is None:
            return _not_found()
        version, account, region, api = found
        if version == 1:
            return self._rest_api(request, account, region, api, stage, path)
        return self._http_api(request, account, region, api, stage, path)

    def _find_api(self, api_id: str):
        from moto.apigateway.models import apigateway_backends
        from moto.apigatewayv2.models import apigatewayv2_backends

        with self.router.moto_lock:
            for version, backends in ((1, apigateway_backends), (2, apigatewayv2_backends)):
                for account, regions in list(backends.items()):
                    for region, backend in list(regions.items()):
                        api = backend.apis.get(api_id)
                        if api is not None:
                            return version, account, region, api
        return None

    def _rest_api(self, request, account, region, api, stage, path) -> Response:
        if stage is None:  # host form: the stage is the first path segment
            stage, _, rest = path.lstrip("/").partition("/")
            path = "/" + rest
        with self.router.moto_lock:
            if stage not in api.stages:
                return _missing_token()
            candidates = sorted(
                ((r.get_path(), r) for r in api.resources.values()),
                key=lambda item: _specificity(item[0]),
            )
            for template, resource in candidates:
                params = _match(template, path)
                if params is None:
                    continue
                methods = resource.resource_methods
                method = methods.get(request.method) or methods.get("ANY")
                if method is None:
                    return _missing_token()
                integration = method.method_integration
                kind = integration.integration_type if integration else None
                uri = integration.uri if integration else ""
                break
            else:
                return _missing_token()
        if kind != "AWS_PROXY":
            return _unsupported(kind)
        event = event_v1(request, path, template, params, stage, api.id, account)
        return self._proxy_arn(uri, account, region, event, v1=True)

    def _http_api(self, request, account, region, api, stage, path) -> Response:
        with self.router.moto_lock:
            stages = set(api.stages)
            if stage is None:
                first, _, rest = path.lstrip("/").partition("/")
                if first in stages and first != "$default":
                    stage, path = first, "/" + rest
                elif "$default" in stages:
                    stage = "$default"
                else:
                    return _not_found()
            elif stage not in stages:
                return _not_found()
            routes = [(r.route_key, r.target) for r in api.routes.values()]
            integrations = {
                i.id: (i.integration_type, i.integration_uri, i.payload_format_version)
                for i in api.integrations.values()
            }
        chosen = None
        keyed = []
        for route_key, target in routes:
            if route_key == "$default":
                continue
            method, _, template = route_key.partition(" ")
            if method in (request.method, "ANY"):
                keyed.append((_specificity(template), method == "ANY", route_key, template, target))
        for _, _, route_key, template, target in sorted(keyed):
            params = _match(template, path)
            if params is not None:
                chosen = (route_key, params, target)
                break
        if chosen is None:
            default = next((target for key, target in routes if key == "$default"), None)
            if default is None:
                return _not_found()
            chosen = ("$default", {}, default)
        route_key, params, target = chosen
        integration_id = (target or "").removeprefix("integrations/")
        if integration_id not in integrations:
            return _internal_error(False)
        kind, uri, payload_version = integrations[integration_id]
        if kind != "AWS_PROXY":
            return _unsupported(kind)
        if payload_version == "1.0":
            event = event_v1(request, path, route_key, params, stage, api.api_id, account)
            return self._proxy_arn(uri, account, region, event, v1=True)
        event = event_v2(request, path, route_key, params, stage, api.api_id, account)
        return self._proxy_arn(uri, account, region, event, v1=False)

    # -- calling the function ------------------------------------------------------------------
    def _proxy_arn(self, uri: str, account, region, event, v1: bool) -> Response:
        match = _LAMBDA_ARN.search(uri or "")
        if match is None:
            return _internal_error(v1)
        arn = match.group(1)
        try:
            function = self.functions.lookup(account, arn.split(":")[3] or region, arn, None)
        except LambdaApiError:
            return _internal_error(v1)
        return self._proxy(function, event, v1)

    def _proxy(self, function: Function, event: dict, v1: bool) -> Response:
        try:
            outcome = self.functions.invoke(function, json.dumps(event).encode())
        except LambdaApiError:
            return _internal_error(v1)
        if outcome.throttled:
            return json_response({"message": "Too Many Requests"}, 429)
        if outcome.function_error:
            return _internal_error(v1)
        try:
            result = json.loads(outcome.payload) if outcome.payload else None
        except ValueError:
            return _internal_error(v1)
        return _response_from(result, v1)
