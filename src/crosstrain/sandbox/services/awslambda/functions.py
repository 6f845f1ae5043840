"""A Lambda function as an invocation sees it: copied out of moto, unpacked, and started.

:func:`lookup` copies a function (code, layers, configuration) out of moto's backend;
:func:`worker_spec` says how a worker process runs it (the code's folder and layers on
``sys.path``, the function's environment over a minimal one, the bootstrap as entry point);
:func:`failure` shapes a worker failure the way AWS reports it.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from werkzeug.wrappers import Response

from crosstrain.sandbox.core.environment import worker_env
from crosstrain.sandbox.core.router import Router, json_response
from crosstrain.sandbox.core.workers import (
    WorkerError,
    WorkerInitError,
    WorkerMemoryExceeded,
    WorkerSpec,
    WorkerTimeout,
)

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
PYTHON_RUNTIME = re.compile(r"^python3\.\d+$")
# Single-thread math libraries: a 2-core laptop runs many workers at once.
_THREAD_DEFAULTS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def function_name_of(name_or_arn: str) -> str:
    """``my-fn`` from ``my-fn``, ``my-fn:alias`` or ``arn:aws:lambda:...:function:my-fn[:q]``."""
    if name_or_arn.startswith("arn:"):
        return name_or_arn.split(":")[6]
    return name_or_arn.split(":")[-2] if name_or_arn.count(":") == 2 else name_or_arn.split(":")[0]


def aws_error(error_type: str, message: str, status: int, **extra) -> Response:
    body = {"__type": error_type, "Type": "User", "message": message, **extra}
    return json_response(body, status, headers={"x-amzn-ErrorType": error_type})


@dataclass(frozen=True)
class Function:
    """What an invocation needs from moto's function, copied out under the moto lock."""

    account: str
    region: str
    name: str
    arn: str
    version: str
    handler: str
    runtime: str
    package_type: str
    code_sha: str
    code: bytes = field(repr=False, compare=False)
    env: tuple[tuple[str, str], ...]
    timeout: int
    memory_mb: int
    reserved: int | None
    layers: tuple[tuple[str, str, bytes], ...] = field(repr=False, compare=False)
    role: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.account, self.region, self.name, self.version)

    @property
    def fingerprint(self) -> tuple:
        layer_shas = tuple(sha for _, sha, _ in self.layers)
        return (
            self.code_sha,
            self.handler,
            self.runtime,
            self.env,
            self.timeout,
            self.memory_mb,
            self.reserved,
            layer_shas,
            self.role,
        )

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.name}"


@dataclass
class Outcome:
    """The answer to one invocation, before it is turned into HTTP."""

    request_id: str
    payload: bytes
    function_error: str | None = None
    log_tail: str = ""
    throttled: bool = False


def lookup(router: Router, account: str, region: str, name: str, qualifier: str | None) -> Function:
    """Copy function ``name`` (a name or ARN) out of moto; raises ``LambdaApiError``."""
    from moto.awslambda.models import lambda_backends
    from moto.core.exceptions import JsonRESTError

    if qualifier is None and not name.startswith("arn:") and name.count(":") == 1:
        name, qualifier = name.split(":")
    with router.moto_lock:
        backend = lambda_backends[account][region]
        try:
            fn = backend.get_function(name, qualifier)
        except JsonRESTError as exc:
            response = Response(exc.get_body(), exc.code, headers=exc.get_headers())
            raise LambdaApiError(response) from None
        layers = []
        for layer in fn.layers or []:
            version = backend.layers_versions_by_arn(layer["Arn"])
            if version is not None:
                layers.append((layer["Arn"], version.code_sha_256, version.code_bytes))
        function = Function(
            account=account,
            region=region,
            name=fn.function_name,
            arn=fn.function_arn,
            version=str(fn.version),
            handler=fn.handler or "",
            runtime=fn.run_time or "",
            package_type=fn.package_type or "Zip",
            code_sha=fn.code_sha_256,
            role=str(fn.role or ""),
            code=fn.code_bytes,
            env=tuple(sorted((fn.environment_vars or {}).items())),
            timeout=int(fn.timeout or 3),
            memory_mb=int(fn.memory_size or 128),
            reserved=None if fn.reserved_concurrency is None else int(fn.reserved_concurrency),
            layers=tuple(layers),
        )
    if function.package_type != "Zip" or not PYTHON_RUNTIME.match(function.runtime):
        what = function.runtime or f"a {function.package_type} package"
        raise LambdaApiError(
            aws_error(
                "InvalidRuntimeException",
                f"The crosstrain sandbox runs Python zip functions only, not {what}; "
                "use a python3.x runtime",
                502,
            )
        )
    if not function.code:
        raise LambdaApiError(
            aws_error(
                "InvalidParameterValueException",
                f"Function {function.name} has no code to run; upload a zip",
                400,
            )
        )
    return function


def worker_spec(router: Router, root: Path, function: Function) -> WorkerSpec:
    """How to start a worker for ``function``: its unpacked code, layers, environment."""
    task_root = unpack(root, function.code_sha, function.code)
    path = [str(task_root)]
    for _, sha, code in function.layers:
        layer = unpack(root, sha, code)
        minor = function.runtime.removeprefix("python")
        path += [str(layer / "python"), str(layer / f"python/lib/python{minor}/site-packages")]
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        **_THREAD_DEFAULTS,
        **worker_env(router, function.role, "lambda.amazonaws.com", function.name),
        **dict(function.env),
        "AWS_REGION": function.region,
        "AWS_DEFAULT_REGION": function.region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_VERSION": function.version,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": function.log_group,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "LAMBDA_TASK_ROOT": str(task_root),
        "LAMBDA_RUNTIME_DIR": str(BOOTSTRAP.parent),
    }
    config = {
        "handler": function.handler,
        "function_name": function.name,
        "function_version": function.version,
        "function_arn": function.arn,
        "memory_mb": function.memory_mb,
        "log_group": function.log_group,
    }
    return WorkerSpec(
        factory=f"{BOOTSTRAP}:make",
        config=config,
        env=env,
        cwd=str(task_root),
        path=tuple(path),
        memory_mb=function.memory_mb,
        init_timeout=max(10.0, float(function.timeout)),
    )


def unpack(root: Path, sha: str, code: bytes) -> Path:
    """Extract a zip once per content hash; returns its folder."""
    digest = hashlib.sha256(code).hexdigest()[:24]
    target = root / "code" / digest
    if target.is_dir():
        return target
    staging = Path(tempfile.mkdtemp(dir=root, prefix="unpack-"))
    try:
        with zipfile.ZipFile(io.BytesIO(code)) as archive:
            archive.extractall(staging)
    except zipfile.BadZipFile:
        shutil.rmtree(staging, ignore_errors=True)
        raise LambdaApiError(
            aws_error("InvalidZipFileException", "The function's code is not a valid zip file", 502)
        ) from None
    target.parent.mkdir(exist_ok=True)
    try:
        staging.rename(target)
    except OSError:  # another thread unpacked the same code first
        shutil.rmtree(staging, ignore_errors=True)
    return target


def failure(exc: WorkerError, request_id: str, timeout: int) -> tuple[dict, list[str], str]:
    """The error payload, extra log lines and REPORT status of a failed invocation."""
    if isinstance(exc, WorkerInitError):
        error = {
            "errorMessage": exc.error.get("message", ""),
            "errorType": exc.error.get("type", "Runtime.Unknown"),
            "requestId": "",
            "stackTrace": exc.error.get("traceback", []),
        }
        return error, [], "error"
    if isinstance(exc, WorkerTimeout):
        status = f"Task timed out after {timeout:.2f} seconds"
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        message = f"RequestId: {request_id} Error: {status}"
        error = {"errorType": "Sandbox.Timedout", "errorMessage": message}
        return error, [f"{stamp} {request_id} {status}"], "timeout"
    if isinstance(exc, WorkerMemoryExceeded):
        error_type, exit_status = "Runtime.OutOfMemory", "signal: killed"
    else:
        error_type, exit_status = "Runtime.ExitError", getattr(exc, "exit_status", "unknown")
    message = f"RequestId: {request_id} Error: Runtime exited with error: {exit_status}"
    return {"errorType": error_type, "errorMessage": message}, [message, error_type], "error"


class LambdaApiError(Exception):
    """An API-level error answer (not a function error)."""

    def __init__(self, response: Response):
        super().__init__(response.status)
        self.response = response
