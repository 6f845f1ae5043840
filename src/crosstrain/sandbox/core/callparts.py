"""What a recorded call was: its operation, its client, the identifiers it named and the ARN
of what it touched.

The operation comes from botocore's model of the service (each operation's ``http.method`` and
``requestUri`` template, query keys included), as in :mod:`.protocols`. The resource is worked
out from the request path (S3 buckets and keys, Lambda functions) or the identifiers its body
names; an identifier that already is an ARN is used as it is.
"""

from __future__ import annotations

import functools
import json
import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from crosstrain.sandbox.core import protocols

if TYPE_CHECKING:
    from werkzeug.wrappers import Request

    from crosstrain.sandbox.core.calllog import Raw

IDENTIFIER_SUFFIXES = ("Name", "Arn", "ARN", "Url", "Id")
SMALL_BODY = 4096  # bodies up to this size are searched for resource identifiers
_SOURCES = (  # user-agent marker -> source, first match wins
    ("crosstrain-check", "check"),
    ("crosstrain-sandbox", "sandbox"),
    ("aws-cdk", "cdk"),
    ("aws-cli/", "cli"),
    ("localstack", "cli"),
    ("aws-sdk-js", "sdk"),
    ("boto3/", "sdk"),
    ("botocore/", "sdk"),
    ("aws-sdk-", "sdk"),
)
_FUNCTION = re.compile(r"^/\d{4}-\d{2}-\d{2}/functions/([^/]+)")
# (service, identifier) -> ARN template; {r} region, {a} account, {v} the value
_TEMPLATES = {
    ("dynamodb", "TableName"): "arn:aws:dynamodb:{r}:{a}:table/{v}",
    ("iam", "RoleName"): "arn:aws:iam::{a}:role/{v}",
    ("iam", "UserName"): "arn:aws:iam::{a}:user/{v}",
    ("iam", "PolicyArn"): "{v}",
    ("logs", "logGroupName"): "arn:aws:logs:{r}:{a}:log-group:{v}",
    ("sagemaker", "EndpointName"): "arn:aws:sagemaker:{r}:{a}:endpoint/{lv}",
    ("sagemaker", "EndpointConfigName"): "arn:aws:sagemaker:{r}:{a}:endpoint-config/{lv}",
    ("sagemaker", "ModelName"): "arn:aws:sagemaker:{r}:{a}:model/{lv}",
    ("sagemaker", "TrainingJobName"): "arn:aws:sagemaker:{r}:{a}:training-job/{lv}",
    ("athena", "WorkGroup"): "arn:aws:athena:{r}:{a}:workgroup/{v}",
    ("glue", "DatabaseName"): "arn:aws:glue:{r}:{a}:database/{v}",
    ("cloudformation", "StackName"): "arn:aws:cloudformation:{r}:{a}:stack/{v}/*",
    ("events", "Name"): "arn:aws:events:{r}:{a}:rule/{v}",
    ("kinesis", "StreamName"): "arn:aws:kinesis:{r}:{a}:stream/{v}",
    ("lambda", "FunctionName"): "arn:aws:lambda:{r}:{a}:function:{v}",
    ("secretsmanager", "SecretId"): "arn:aws:secretsmanager:{r}:{a}:secret:{v}",
    ("ssm", "Name"): "arn:aws:ssm:{r}:{a}:parameter/{v}",
}


@functools.cache
def _routes(service: str) -> tuple[tuple, ...]:
    """(method, path pattern, required query keys, required headers, specificity, operation),
    most specific first."""
    import botocore.exceptions
    import botocore.session

    try:
        model = botocore.session.get_session().get_service_model(service)
    except botocore.exceptions.UnknownServiceError:
        return ()
    if not model.protocol.startswith("rest"):
        return ()
    routes = []
    for name in model.operation_names:
        operation_model = model.operation_model(name)
        http = operation_model.http
        template, _, query = http["requestUri"].partition("?")
        keys = frozenset(k.split("=", 1)[0] for k in query.split("&") if k)
        headers = frozenset(_required_headers(operation_model.input_shape))
        regex = protocols.uri_regex(template)
        pattern = re.compile(f"^{regex.rstrip('/')}/?$")
        specificity = protocols.literal_length(template) + 100 * (len(keys) + len(headers))
        routes.append((http["method"].upper(), pattern, keys, headers, specificity, name))
    return tuple(sorted(routes, key=lambda r: -r[4]))


def _required_headers(shape) -> list[str]:
    if shape is None:
        return []
    required = set(shape.required_members)
    return [
        member.serialization.get("name", name).lower()
        for name, member in shape.members.items()
        if name in required and member.serialization.get("location") == "header"
    ]


def operation(
    service: str, method: str, path: str, query_keys: tuple[str, ...], headers: tuple[str, ...] = ()
) -> str:
    """The botocore operation name of a REST call (``METHOD /path`` when no route matches);
    ``headers``: the request's ``x-amz-*`` header names, lower case."""
    present, sent = set(query_keys), set(headers)
    for route_method, pattern, keys, needed, _, name in _routes(service):
        if route_method == method and keys <= present and needed <= sent and pattern.match(path):
            return name
    return f"{method} {path}" if method else "unknown"


def resource(raw: Raw, account: str) -> str:
    """The ARN of what the call touched, or ``""`` when it cannot be told."""
    region = raw.region or "us-east-1"
    if raw.service == "s3" and raw.path.strip("/"):
        return "arn:aws:s3:::" + raw.path.lstrip("/")
    if raw.service == "lambda":
        match = _FUNCTION.match(raw.path)
        if match:
            return _fill(_TEMPLATES[("lambda", "FunctionName")], match.group(1), region, account)
    for _key, value in raw.names:
        if value.startswith("arn:"):
            return value
    for key, value in raw.names:
        if key == "QueueUrl" and raw.service == "sqs":
            return f"arn:aws:sqs:{region}:{account}:{value.rstrip('/').rsplit('/', 1)[-1]}"
        template = _TEMPLATES.get((raw.service, key))
        if template:
            return _fill(template, value, region, account)
    return ""


def _fill(template: str, value: str, region: str, account: str) -> str:
    if value.startswith("arn:"):
        return value
    return template.format(r=region, a=account, v=value, lv=value.lower())


def source_of(user_agent: str) -> str:
    """``sdk``, ``cli``, ``cdk``, ``check`` (a lab check's client), ``sandbox`` (the
    sandbox's own clients) or ``other``."""
    agent = user_agent.lower()
    return next((source for marker, source in _SOURCES if marker in agent), "other")


def action_of(request: Request) -> str | None:
    """The ``Action`` of a query-protocol call (in the query string or a small form body)."""
    if request.environ.get("QUERY_STRING"):
        action = request.args.get("Action")
        if action:
            return action
    if request.environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        for key, value in parse_qsl(_small_body(request).decode("utf-8", "replace")):
            if key == "Action":
                return value
    return None


def amz_headers(environ: dict) -> tuple[str, ...]:
    """The ``x-amz-*`` header names of a REST call (its operation may depend on them)."""
    return tuple(
        sorted(k[5:].replace("_", "-").lower() for k in environ if k.startswith("HTTP_X_AMZ_"))
    )


def _small_body(request: Request) -> bytes:
    try:
        length = int(request.environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return b""
    if not length or length > SMALL_BODY:
        return b""
    try:
        return request.get_data(cache=True)
    except Exception:  # noqa: BLE001 - a handler read the stream itself: no identifiers then
        return b""


def identifiers(request: Request) -> tuple[tuple[str, str], ...]:
    """The identifiers (``...Name``, ``...Arn``, ``...Url``) a small JSON or form body names."""
    body = _small_body(request)
    if not body:
        return ()
    items: list[tuple[str, object]]
    if request.environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        items = list(parse_qsl(body.decode("utf-8", "replace")))
    else:
        try:
            data = json.loads(body)
        except ValueError:
            return ()
        items = list(data.items()) if isinstance(data, dict) else []
    return tuple(
        (k, v)
        for k, v in items
        if isinstance(v, str) and k.endswith(IDENTIFIER_SUFFIXES) and len(v) < 512
    )[:6]
