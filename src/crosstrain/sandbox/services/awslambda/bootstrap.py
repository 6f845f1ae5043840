"""The Lambda runtime inside a worker process: load the handler once, call it per invocation.

Loaded by file path (not as ``crosstrain...``) so a cold start does not import crosstrain; keep
it standard-library only. :func:`make` is the worker factory (see ``sandbox/workers.py``). Errors
are shaped as the AWS Python runtime shapes them (``errorMessage``, ``errorType``,
``requestId``, ``stackTrace``) and logged as ``[ERROR] Type: message`` lines.
"""

from __future__ import annotations

import decimal
import importlib
import json
import logging
import os
import sys
import time
import traceback

_request = {"id": ""}


class LambdaInitError(Exception):
    """The handler could not be loaded; ``error_type`` is the AWS error type."""

    def __init__(self, error_type: str, message: str, frames: list[str] | None = None):
        super().__init__(message)
        self.error_type = error_type
        self.frames = frames or []


class Context:
    """The ``context`` argument, with the attributes and method the AWS Python runtime gives."""

    def __init__(self, config: dict, header: dict):
        self.function_name = config["function_name"]
        self.function_version = config["function_version"]
        self.memory_limit_in_mb = str(config["memory_mb"])
        self.invoked_function_arn = header.get("invoked_arn") or config["function_arn"]
        self.aws_request_id = header["request_id"]
        self.log_group_name = config["log_group"]
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = header.get("client_context")
        self._deadline_ms = header["deadline_ms"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self._deadline_ms - time.time() * 1000))

    def __repr__(self) -> str:
        return f"LambdaContext([aws_request_id={self.aws_request_id}, ...])"


class _LambdaLogFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        message = super().format(record)
        return (
            f"[{record.levelname}]\t{stamp}.{int(record.msecs):03d}Z\t{_request['id']}\t{message}"
        )


def _install_logging() -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(_LambdaLogFormatter("%(message)s"))
    logging.getLogger().addHandler(handler)


def _error(error_type: str, message: str, frames: list[str]) -> dict:
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": _request["id"],
        "stackTrace": frames,
    }


def _log_error(error: dict) -> None:
    trace = "".join(error["stackTrace"])
    tail = f"\nTraceback (most recent call last):\n{trace}" if trace else ""
    print(f"[ERROR] {error['errorType']}: {error['errorMessage']}{tail}", flush=True)


def _default(value):
    if isinstance(value, decimal.Decimal):
        return float(value) if value % 1 else int(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _load_handler(spec: str):
    module_name, _, function_name = spec.rpartition(".")
    module_name = module_name.replace("/", ".")
    if not module_name or not function_name:
        raise LambdaInitError(
            "Runtime.MalformedHandlerName", f"Bad handler '{spec}': not enough values to unpack"
        )
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as exc:
        raise LambdaInitError(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}"
        ) from None
    except ImportError as exc:
        raise LambdaInitError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        ) from None
    handler = getattr(module, function_name, None)
    if handler is None:
        raise LambdaInitError(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        )
    return handler


def make(config: dict):
    """Worker factory: import the handler (init phase) and return the per-invocation server."""
    stream = f"{time.strftime('%Y/%m/%d', time.gmtime())}/[{config['function_version']}]"
    os.environ["AWS_LAMBDA_LOG_STREAM_NAME"] = stream + os.urandom(16).hex()
    _install_logging()
    try:
        handler = _load_handler(config["handler"])
    except LambdaInitError as exc:
        _log_error(_error(exc.error_type, str(exc), []))
        raise
    except Exception as exc:  # the module raised while importing: AWS reports it as is
        frames = [
            line
            for line in traceback.format_list(traceback.extract_tb(exc.__traceback__))
            if "<frozen importlib" not in line and __file__ not in line
        ]
        _log_error(_error(type(exc).__name__, str(exc), frames))
        raise LambdaInitError(type(exc).__name__, str(exc), frames) from None

    def serve(header: dict, body: bytes) -> tuple[dict, bytes]:
        _request["id"] = header["request_id"]
        # botocore sends it as X-Amzn-Trace-Id: the sandbox bounds event loops with it, as AWS
        os.environ["_X_AMZN_TRACE_ID"] = header.get("trace_id") or ""
        meta = {"log_stream": os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]}
        event = json.loads(body) if body.strip() else {}
        context = Context(config, header)
        try:
            result = handler(event, context)
        except Exception as exc:  # noqa: BLE001 - the function's error, shaped as AWS does
            frames = traceback.format_list(traceback.extract_tb(exc.__traceback__)[1:])
            error = _error(type(exc).__name__, str(exc), frames)
            _log_error(error)
            return {**meta, "function_error": "Unhandled"}, json.dumps(error).encode()
        try:
            return meta, json.dumps(result, default=_default).encode()
        except (TypeError, ValueError) as exc:
            error = _error("Runtime.MarshalError", f"Unable to marshal response: {exc}", [])
            _log_error(error)
            return {**meta, "function_error": "Unhandled"}, json.dumps(error).encode()

    return serve
