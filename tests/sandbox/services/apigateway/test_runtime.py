"""API Gateway (REST v1, HTTP v2) and Function URLs reach a real function in the sandbox.

Host-form URLs are exercised without DNS: the request goes to 127.0.0.1:PORT with a ``Host:``
header naming ``{id}.execute-api.localhost.localstack.cloud``.
"""

from __future__ import annotations

import base64
import io
import json
import textwrap
import urllib.error
import urllib.request
import zipfile

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::123456789012:role/lambda-role"

ECHO = """
import json
def handler(event, context):
    return {"statusCode": 200, "headers": {"x-echo": "yes"}, "body": json.dumps(event)}
"""


def make_zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", textwrap.dedent(source))
    return buffer.getvalue()


def fetch(url: str, host: str | None = None, method: str = "GET", data: bytes | None = None):
    """(status, headers, body) of an HTTP request; a Host header stands in for DNS."""
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Host": host} if host else {}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture
def function(sandbox):
    """function(name, source) deploys a python3.12 function and returns its ARN."""
    sandbox.client("iam").create_role(RoleName="lambda-role", AssumeRolePolicyDocument="{}")

    def deploy(name: str = "echo", source: str = ECHO) -> str:
        return sandbox.client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": make_zip(source)},
        )["FunctionArn"]

    return deploy


def _uri(arn: str) -> str:
    return f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations"


@pytest.fixture
def rest_api(sandbox, function):
    """rest_api(arn, path_parts) builds a REST API with GET on the path, deployed to ``dev``."""
    apigw = sandbox.client("apigateway")

    def build(arn: str, parts: tuple[str, ...] = ("items", "{id}"), method: str = "GET") -> str:
        api = apigw.create_rest_api(name="shop")["id"]
        parent = apigw.get_resources(restApiId=api)["items"][0]["id"]
        for part in parts:
            parent = apigw.create_resource(restApiId=api, parentId=parent, pathPart=part)["id"]
        apigw.put_method(
            restApiId=api, resourceId=parent, httpMethod=method, authorizationType="NONE"
        )
        apigw.put_integration(
            restApiId=api,
            resourceId=parent,
            httpMethod=method,
            type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=_uri(arn),
        )
        apigw.create_deployment(restApiId=api, stageName="dev")
        return api

    return build


@pytest.fixture
def http_api(sandbox):
    """http_api(arn, route_key) builds an HTTP API with one route and a ``$default`` stage."""
    v2 = sandbox.client("apigatewayv2")

    def build(arn: str, route_key: str = "GET /items/{id}", stage: str = "$default") -> str:
        api = v2.create_api(Name="shop", ProtocolType="HTTP")["ApiId"]
        integration = v2.create_integration(
            ApiId=api, IntegrationType="AWS_PROXY", IntegrationUri=arn, PayloadFormatVersion="2.0"
        )["IntegrationId"]
        v2.create_route(ApiId=api, RouteKey=route_key, Target=f"integrations/{integration}")
        v2.create_stage(ApiId=api, StageName=stage, AutoDeploy=True)
        return api

    return build


# -- REST APIs (v1) -----------------------------------------------------------------------------
def test_rest_api_round_trip_with_proxy_event_1_0(sandbox, function, rest_api):
    api = rest_api(function())
    url = f"{sandbox.endpoint_url}/restapis/{api}/dev/_user_request_/items/42?color=red"
    status, headers, body = fetch(url)
    event = json.loads(body)
    assert status == 200 and headers["x-echo"] == "yes"
    assert event["resource"] == "/items/{id}" and event["path"] == "/items/42"
    assert event["httpMethod"] == "GET" and event["pathParameters"] == {"id": "42"}
    assert event["queryStringParameters"] == {"color": "red"}
    assert event["requestContext"]["stage"] == "dev"


def test_rest_api_host_form(sandbox, function, rest_api):
    api = rest_api(function())
    host = f"{api}.execute-api.localhost.localstack.cloud:{sandbox.port}"
    status, _, body = fetch(f"{sandbox.endpoint_url}/dev/items/7", host=host)
    assert status == 200 and json.loads(body)["pathParameters"] == {"id": "7"}


def test_rest_api_passes_the_request_body(sandbox, function, rest_api):
    api = rest_api(function(), parts=("orders",), method="POST")
    url = f"{sandbox.endpoint_url}/restapis/{api}/dev/_user_request_/orders"
    status, _, body = fetch(url, method="POST", data=b'{"qty": 3}')
    assert status == 200 and json.loads(json.loads(body)["body"]) == {"qty": 3}


def test_rest_api_greedy_proxy_path(sandbox, function, rest_api):
    api = rest_api(function(), parts=("files", "{proxy+}"))
    url = f"{sandbox.endpoint_url}/restapis/{api}/dev/_user_request_/files/a/b/c.txt"
    status, _, body = fetch(url)
    assert status == 200 and json.loads(body)["pathParameters"] == {"proxy": "a/b/c.txt"}


def test_rest_api_missing_route_answers_like_aws(sandbox, function, rest_api):
    api = rest_api(function())
    status, _, body = fetch(f"{sandbox.endpoint_url}/restapis/{api}/dev/_user_request_/nothing")
    assert status == 403 and json.loads(body) == {"message": "Missing Authentication Token"}


def test_rest_api_unknown_stage_answers_like_aws(sandbox, function, rest_api):
    api = rest_api(function())
    status, _, _ = fetch(f"{sandbox.endpoint_url}/restapis/{api}/prod/_user_request_/items/1")
    assert status == 403


def test_rest_api_function_error_is_502(sandbox, function, rest_api):
    api = rest_api(function("broken", "def handler(e, c):\n    raise ValueError('no')\n"))
    status, _, body = fetch(f"{sandbox.endpoint_url}/restapis/{api}/dev/_user_request_/items/1")
    assert status == 502 and json.loads(body) == {"message": "Internal server error"}


def test_rest_api_malformed_proxy_response_is_502(sandbox, function, rest_api):
    api = rest_api(function("plain", "def handler(e, c):\n    return 'not a proxy response'\n"))
    status, _, _ = fetch(f"{sandbox.endpoint_url}/restapis/{api}/dev/_user_request_/items/1")
    assert status == 502


def test_rest_api_non_proxy_integration_says_it_is_unsupported(sandbox):
    apigw = sandbox.client("apigateway")
    api = apigw.create_rest_api(name="mocked")["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
    apigw.create_deployment(restApiId=api, stageName="dev")
    status, _, body = fetch(f"{sandbox.endpoint_url}/restapis/{api}/dev/_user_request_/")
    assert status == 500 and "AWS_PROXY" in json.loads(body)["message"]


# -- HTTP APIs (v2) -----------------------------------------------------------------------------
def test_http_api_round_trip_with_payload_2_0(sandbox, function, http_api):
    api = http_api(function())
    host = f"{api}.execute-api.localhost.localstack.cloud:{sandbox.port}"
    status, _, body = fetch(f"{sandbox.endpoint_url}/items/9?size=2", host=host)
    event = json.loads(body)
    assert status == 200 and event["version"] == "2.0"
    assert event["routeKey"] == "GET /items/{id}" and event["rawPath"] == "/items/9"
    assert event["pathParameters"] == {"id": "9"}
    assert event["queryStringParameters"] == {"size": "2"}


def test_http_api_path_form(sandbox, function, http_api):
    api = http_api(function())
    url = f"{sandbox.endpoint_url}/restapis/{api}/$default/_user_request_/items/5"
    status, _, body = fetch(url)
    assert status == 200 and json.loads(body)["pathParameters"] == {"id": "5"}


def test_http_api_named_stage_in_host_form(sandbox, function, http_api):
    api = http_api(function(), stage="v1")
    host = f"{api}.execute-api.localhost.localstack.cloud:{sandbox.port}"
    status, _, body = fetch(f"{sandbox.endpoint_url}/v1/items/3", host=host)
    assert status == 200 and json.loads(body)["requestContext"]["stage"] == "v1"


def test_http_api_plain_result_becomes_json_200(sandbox, function, http_api):
    api = http_api(function("plain", "def handler(e, c):\n    return {'answer': 42}\n"))
    url = f"{sandbox.endpoint_url}/restapis/{api}/$default/_user_request_/items/1"
    status, headers, body = fetch(url)
    assert status == 200 and json.loads(body) == {"answer": 42}
    assert headers["Content-Type"] == "application/json"


def test_http_api_base64_body_is_decoded(sandbox, function, http_api):
    source = f"""
    def handler(event, context):
        return {{"statusCode": 200, "isBase64Encoded": True,
                 "headers": {{"Content-Type": "application/octet-stream"}},
                 "body": "{base64.b64encode(bytes(range(5))).decode()}"}}
    """
    api = http_api(function("binary", source))
    url = f"{sandbox.endpoint_url}/restapis/{api}/$default/_user_request_/items/1"
    status, _, body = fetch(url)
    assert status == 200 and body == bytes(range(5))


def test_http_api_missing_route_is_404(sandbox, function, http_api):
    api = http_api(function())
    url = f"{sandbox.endpoint_url}/restapis/{api}/$default/_user_request_/elsewhere"
    status, _, body = fetch(url)
    assert status == 404 and json.loads(body) == {"message": "Not Found"}


def test_http_api_function_error_is_502(sandbox, function, http_api):
    api = http_api(function("broken", "def handler(e, c):\n    raise ValueError('no')\n"))
    url = f"{sandbox.endpoint_url}/restapis/{api}/$default/_user_request_/items/1"
    status, _, body = fetch(url)
    assert status == 502 and json.loads(body) == {"message": "Internal Server Error"}


def test_http_api_endpoint_returned_by_the_api_answers(sandbox, function, http_api):
    api = http_api(function())
    endpoint = sandbox.client("apigatewayv2").get_api(ApiId=api)["ApiEndpoint"]
    assert endpoint.startswith(sandbox.endpoint_url)
    status, _, body = fetch(f"{endpoint}/items/11")
    assert status == 200 and json.loads(body)["pathParameters"] == {"id": "11"}


def test_http_api_endpoint_with_a_named_stage(sandbox, function, http_api):
    api = http_api(function(), stage="prod")
    endpoint = sandbox.client("apigatewayv2").get_api(ApiId=api)["ApiEndpoint"]
    status, _, body = fetch(f"{endpoint}/prod/items/12")
    assert status == 200 and json.loads(body)["requestContext"]["stage"] == "prod"


def test_http_api_quick_create_with_a_target(sandbox, function):
    arn = function()
    created = sandbox.client("apigatewayv2").create_api(
        Name="quick", ProtocolType="HTTP", Target=arn
    )
    status, _, body = fetch(f"{created['ApiEndpoint']}/anything/at/all")
    event = json.loads(body)
    assert status == 200 and event["routeKey"] == "$default"
    assert event["rawPath"] == "/anything/at/all"


def test_unknown_api_is_404(sandbox):
    status, _, _ = fetch(f"{sandbox.endpoint_url}/restapis/nosuchapi/dev/_user_request_/x")
    assert status == 404


# -- Function URLs ------------------------------------------------------------------------------
def test_function_url_returned_by_the_api_answers(sandbox, function):
    function()
    lam = sandbox.client("lambda")
    url = lam.create_function_url_config(FunctionName="echo", AuthType="NONE")["FunctionUrl"]
    assert url.startswith(sandbox.endpoint_url)
    status, _, body = fetch(url + "hello?x=1")
    event = json.loads(body)
    assert status == 200 and event["rawPath"] == "/hello" and event["version"] == "2.0"
    assert event["queryStringParameters"] == {"x": "1"}


def test_get_function_url_config_returns_the_same_url(sandbox, function):
    function()
    lam = sandbox.client("lambda")
    created = lam.create_function_url_config(FunctionName="echo", AuthType="NONE")
    assert lam.get_function_url_config(FunctionName="echo")["FunctionUrl"] == created["FunctionUrl"]


def test_list_function_url_configs(sandbox, function):
    function()
    lam = sandbox.client("lambda")
    assert lam.list_function_url_configs(FunctionName="echo")["FunctionUrlConfigs"] == []
    created = lam.create_function_url_config(FunctionName="echo", AuthType="NONE")
    listed = lam.list_function_url_configs(FunctionName="echo")["FunctionUrlConfigs"]
    assert [c["FunctionUrl"] for c in listed] == [created["FunctionUrl"]]
    with pytest.raises(ClientError) as caught:
        lam.list_function_url_configs(FunctionName="ghost")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_function_url_host_form(sandbox, function):
    function()
    url = sandbox.client("lambda").create_function_url_config(FunctionName="echo", AuthType="NONE")[
        "FunctionUrl"
    ]
    url_id = url.rstrip("/").rsplit("/", 1)[1]
    host = f"{url_id}.lambda-url.us-east-1.localhost.localstack.cloud:{sandbox.port}"
    status, _, body = fetch(f"{sandbox.endpoint_url}/ping", host=host)
    assert status == 200 and json.loads(body)["rawPath"] == "/ping"


def test_unknown_function_url_is_404(sandbox):
    status, _, _ = fetch(f"{sandbox.endpoint_url}/_aws/lambda-url/0123456789abcdef/")
    assert status == 404
