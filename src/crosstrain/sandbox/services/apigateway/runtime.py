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

import json
import re
from urllib.parse import unquote

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
from crosstrain.sandbox.services.apigateway.proxy import (
    event_v1,
    event_v2,
    internal_error,
    match_template,
    missing_token,
    not_found,
    response_from,
    specificity,
    unsupported,
)
from crosstrain.sandbox.services.awslambda.functions import Function, LambdaApiError
from crosstrain.sandbox.services.awslambda.runtime import LambdaRuntime

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
        if request.method == "GET" and request.path.rstrip("/").endswith("/urls"):
            return self._list_url_configs(request)
        response = self.router.forward(request)
        text = response.get_data(as_text=True)
        rewritten = _MOTO_URL.sub(lambda m: self.url_for(m.group("url")), text)
        if rewritten != text:
            response.set_data(rewritten)
        return response

    def _list_url_configs(self, request: Request) -> Response:
        """``ListFunctionUrlConfigs``, which moto does not route."""
        from moto.awslambda.models import lambda_backends
        from moto.core.exceptions import JsonRESTError

        name = unquote(request.path.rstrip("/").split("/")[-2])
        region = signing_scope(request)[1] or self.router.region
        with self.router.moto_lock:
            try:
                function = lambda_backends[account_for(request)][region].get_function(name)
            except JsonRESTError as exc:
                return Response(exc.get_body(), exc.code, headers=exc.get_headers())
            configs = [function.url_config.to_dict()] if function.url_config else []
        text = _MOTO_URL.sub(lambda m: self.url_for(m.group("url")), json.dumps(configs))
        return json_response({"FunctionUrlConfigs": json.loads(text)})

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
            return not_found()
        account, region, name = found
        try:
            function = self.functions.lookup(account, region, name, None)
        except LambdaApiError:
            return internal_error(False)
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
            return not_found()
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
                return missing_token()
            candidates = sorted(
                ((r.get_path(), r) for r in api.resources.values()),
                key=lambda item: specificity(item[0]),
            )
            for template, resource in candidates:
                params = match_template(template, path)
                if params is None:
                    continue
                methods = resource.resource_methods
                method = methods.get(request.method) or methods.get("ANY")
                if method is None:
                    return missing_token()
                integration = method.method_integration
                kind = integration.integration_type if integration else None
                uri = integration.uri if integration else ""
                break
            else:
                return missing_token()
        if kind != "AWS_PROXY":
            return unsupported(kind)
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
                    return not_found()
            elif stage not in stages:
                return not_found()
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
                keyed.append((specificity(template), method == "ANY", route_key, template, target))
        for _, _, route_key, template, target in sorted(keyed):
            params = match_template(template, path)
            if params is not None:
                chosen = (route_key, params, target)
                break
        if chosen is None:
            default = next((target for key, target in routes if key == "$default"), None)
            if default is None:
                return not_found()
            chosen = ("$default", {}, default)
        route_key, params, target = chosen
        integration_id = (target or "").removeprefix("integrations/")
        if integration_id not in integrations:
            return internal_error(False)
        kind, uri, payload_version = integrations[integration_id]
        if kind != "AWS_PROXY":
            return unsupported(kind)
        if payload_version == "1.0":
            event = event_v1(request, path, route_key, params, stage, api.api_id, account)
            return self._proxy_arn(uri, account, region, event, v1=True)
        event = event_v2(request, path, route_key, params, stage, api.api_id, account)
        return self._proxy_arn(uri, account, region, event, v1=False)

    # -- calling the function ------------------------------------------------------------------
    def _proxy_arn(self, uri: str, account, region, event, v1: bool) -> Response:
        match = _LAMBDA_ARN.search(uri or "")
        if match is None:
            return internal_error(v1)
        arn = match.group(1)
        try:
            function = self.functions.lookup(account, arn.split(":")[3] or region, arn, None)
        except LambdaApiError:
            return internal_error(v1)
        return self._proxy(function, event, v1)

    def _proxy(self, function: Function, event: dict, v1: bool) -> Response:
        try:
            outcome = self.functions.invoke(function, json.dumps(event).encode())
        except LambdaApiError:
            return internal_error(v1)
        if outcome.throttled:
            return json_response({"message": "Too Many Requests"}, 429)
        if outcome.function_error:
            return internal_error(v1)
        try:
            result = json.loads(outcome.payload) if outcome.payload else None
        except ValueError:
            return internal_error(v1)
        return response_from(result, v1)
