"""Lambda ``Invoke`` for real: the function's handler runs in a warm worker subprocess.

moto stores the functions (control plane); this runtime answers ``Invoke`` itself. The code zip
(and any layers) is unpacked once per code hash; a
:class:`~crosstrain.sandbox.core.workers.WorkerPool` per function version runs :mod:`.bootstrap`
on the sandbox's own Python with the code's folder first on ``sys.path``. Results and failures
are shaped as AWS shapes them; every invocation writes ``START``/``END``/``REPORT`` lines to
CloudWatch Logs ``/aws/lambda/<name>`` and ``Invocations``/``Errors``/``Duration``/``Throttles``
to CloudWatch ``AWS/Lambda``. Changing or deleting a function retires its workers.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import unquote

from werkzeug.wrappers import Request, Response

from crosstrain.sandbox.core.accounts import account_for
from crosstrain.sandbox.core.router import (
    Call,
    Handler,
    Router,
    Runtime,
    signing_scope,
)
from crosstrain.sandbox.core.telemetry import metric, put_log_lines, put_metrics
from crosstrain.sandbox.core.workers import (
    CallInfo,
    PoolClosed,
    PoolFull,
    WorkerError,
    WorkerPool,
)
from crosstrain.sandbox.services.awslambda.functions import (
    Function,
    LambdaApiError,
    Outcome,
    aws_error,
    failure,
    function_name_of,
    lookup,
    worker_spec,
)

log = logging.getLogger("crosstrain.sandbox.lambda")

MAX_SYNC_PAYLOAD = 6 * 1024 * 1024
MAX_ASYNC_PAYLOAD = 256 * 1024
TAIL_BYTES = 4096
_INVOKE = re.compile(r"^/2015-03-31/functions/(?P<name>.+)/invocations/?$")
_MOTO_LAMBDA_APPS = frozenset({"awslambda", "awslambda_simple", "lambda"})
# UpdateFunctionCode (PUT .../code), UpdateFunctionConfiguration (PUT .../configuration) and
# DeleteFunction (DELETE .../functions/NAME): the calls after which a warm worker is stale.
_STALE_AFTER = re.compile(
    r"^/\d{4}-\d{2}-\d{2}/functions/(?P<name>[^/]+)(?P<part>/code|/configuration)?/?$"
)


def _payload_refused(payload: bytes, invocation_type: str) -> Response | None:
    """The error AWS gives a payload that is too large or not JSON, else ``None``."""
    limit = MAX_ASYNC_PAYLOAD if invocation_type == "Event" else MAX_SYNC_PAYLOAD
    if len(payload) > limit:
        return aws_error(
            "RequestTooLargeException",
            f"Request must be smaller than {limit} bytes for the InvokeFunction operation",
            413,
        )
    if payload.strip():
        try:
            json.loads(payload)
        except ValueError as exc:
            return aws_error(
                "InvalidRequestContentException",
                f"Could not parse request body into json: {exc}",
                400,
            )
    return None


class LambdaRuntime(Runtime):
    """Serves ``Invoke`` (RequestResponse, Event, DryRun) by running the handler."""

    name = "lambda"

    def __init__(self, router: Router):
        super().__init__(router)
        self._root = Path(tempfile.mkdtemp(prefix="crosstrain-lambda-"))
        self._pools: dict[tuple, tuple[tuple, WorkerPool]] = {}
        self._retired: list[WorkerPool] = []  # closed pools whose last calls are still running
        self._streams: dict[str, str] = {}
        self._lock = threading.Lock()
        self._events = ThreadPoolExecutor(4, thread_name_prefix="crosstrain-lambda-event")
        self.invocations = 0
        # Set by the events service: takes over InvocationType=Event (retries, destinations, DLQ)
        self.on_event: Callable[[Function, bytes, Request], Response] | None = None

    # -- router hooks -------------------------------------------------------------------------
    def route(self, request: Request) -> Handler | None:
        if request.method == "POST" and _INVOKE.match(request.path):
            return self._invoke_route
        return None

    def permission(self, request: Request) -> tuple[str, str]:
        name = unquote(_INVOKE.match(request.path).group("name"))
        region = signing_scope(request)[1] or self.router.region
        arn = f"arn:aws:lambda:{region}:{account_for(request)}:function:{function_name_of(name)}"
        return "InvokeFunction", arn

    def observe(self, call: Call) -> None:
        """Changing or deleting a function retires its workers (moto names the app
        ``awslambda``; clients sign as ``lambda``)."""
        if call.service not in _MOTO_LAMBDA_APPS and signing_scope(call.request)[2] != "lambda":
            return
        match = _STALE_AFTER.match(unquote(call.request.path))
        method = call.request.method
        if match and (method, bool(match.group("part"))) in (("PUT", True), ("DELETE", False)):
            self.retire(function_name_of(match.group("name")))

    def health(self) -> dict:
        with self._lock:
            pools = {"/".join(key[2:]): pool.stats() for key, (_, pool) in self._pools.items()}
        return {"invocations": self.invocations, "pools": pools}

    def reset(self) -> None:
        self._close_pools()

    def close(self) -> None:
        self._events.shutdown(wait=False, cancel_futures=True)
        self._close_pools()
        shutil.rmtree(self._root, ignore_errors=True)

    def retire(self, name: str) -> None:
        """Retire the workers of every version of function ``name`` (code or config changed).

        Idle workers stop now; running invocations finish on the old code, then their workers
        stop. The next invocation starts cold on the new code.
        """
        with self._lock:
            doomed = [key for key in self._pools if key[2] == name]
            pools = [self._pools.pop(key)[1] for key in doomed]
        self._retire_pools(pools)

    def _retire_pools(self, pools: list[WorkerPool]) -> None:
        for pool in pools:
            pool.close(kill_busy=False)
        with self._lock:
            self._retired = [p for p in [*self._retired, *pools] if p.busy()]

    def worker_pids(self) -> list[int]:
        with self._lock:
            pools = [pool for _, pool in self._pools.values()] + self._retired
        return [pid for pool in pools for pid in pool.pids()]

    def _close_pools(self) -> None:
        with self._lock:
            pools = [pool for _, pool in self._pools.values()] + self._retired
            self._pools.clear()
            self._retired = []
            self._streams.clear()
        for pool in pools:
            pool.close()

    # -- the Invoke API ------------------------------------------------------------------------
    def _invoke_route(self, request: Request) -> Response:
        name = _INVOKE.match(request.path).group("name")
        qualifier = request.args.get("Qualifier")
        region = signing_scope(request)[1] or self.router.region
        invocation_type = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if invocation_type not in ("RequestResponse", "Event", "DryRun"):
            return aws_error(
                "InvalidParameterValueException",
                f"Unsupported invocation type {invocation_type}: use RequestResponse, "
                "Event or DryRun",
                400,
            )
        try:
            function = self.lookup(account_for(request), region, name, qualifier)
        except LambdaApiError as exc:
            return exc.response
        payload = request.get_data()
        refused = _payload_refused(payload, invocation_type)
        if refused is not None:
            return refused
        headers = {"X-Amz-Executed-Version": function.version}
        if invocation_type == "DryRun":
            return Response(status=204, headers=headers)
        client_context = request.headers.get("X-Amz-Client-Context")
        if client_context:
            try:
                client_context = json.loads(base64.b64decode(client_context))
            except ValueError:
                client_context = None
        if invocation_type == "Event" and self.on_event is not None:
            return self.on_event(function, payload, request)
        if invocation_type == "Event":
            request_id = str(uuid.uuid4())
            self._events.submit(self._invoke_quietly, function, payload, request_id, client_context)
            return Response(status=202, headers={"x-amzn-RequestId": request_id})
        try:
            outcome = self.invoke(function, payload, client_context=client_context)
        except LambdaApiError as exc:
            return exc.response
        if outcome.throttled:
            return aws_error(
                "TooManyRequestsException",
                "Rate Exceeded.",
                429,
                Reason="ReservedFunctionConcurrentInvocationLimitExceeded",
            )
        headers["x-amzn-RequestId"] = outcome.request_id
        if outcome.function_error:
            headers["X-Amz-Function-Error"] = outcome.function_error
        if request.headers.get("X-Amz-Log-Type") == "Tail":
            tail = outcome.log_tail.encode()[-TAIL_BYTES:]
            headers["X-Amz-Log-Result"] = base64.b64encode(tail).decode()
        return Response(outcome.payload, 200, headers=headers, mimetype="application/json")

    # -- invoking ------------------------------------------------------------------------------
    def lookup(self, account: str, region: str, name: str, qualifier: str | None) -> Function:
        """Copy function ``name`` (a name or ARN) out of moto; raises ``LambdaApiError``."""
        return lookup(self.router, account, region, name, qualifier)

    def invoke(
        self,
        function: Function,
        payload: bytes,
        *,
        client_context: dict | None = None,
        request_id: str | None = None,
        trace_id: str | None = None,
    ) -> Outcome:
        """Run the handler once and record logs and metrics (the synchronous path)."""
        request_id = request_id or str(uuid.uuid4())
        pool = self._pool(function)
        deadline_ms = int(time.time() * 1000) + function.timeout * 1000
        header = {
            "request_id": request_id,
            "deadline_ms": deadline_ms,
            "client_context": client_context,
            "invoked_arn": function.arn,
            "trace_id": trace_id,
        }
        with self._lock:
            self.invocations += 1
        try:
            result = pool.call(
                header, payload, timeout=function.timeout, wait=function.reserved is None
            )
        except PoolFull:
            self._metrics(function, throttled=True)
            return Outcome(request_id, b"", throttled=True)
        except PoolClosed:
            raise LambdaApiError(
                aws_error(
                    "ServiceException",
                    f"Function {function.name} changed (or the sandbox was reset) while this "
                    "invocation waited for a worker; invoke it again",
                    503,
                )
            ) from None
        except WorkerError as exc:
            error, lines, status = failure(exc, request_id, function.timeout)
            return self._finish(
                function, request_id, exc.info, error=error, lines=lines, status=status
            )
        if result.header.get("log_stream"):
            with self._lock:
                self._streams[result.info.worker_id] = result.header["log_stream"]
        if not result.ok:  # the bootstrap itself failed (it catches the handler's errors)
            error = {
                "errorMessage": result.error.get("message", ""),
                "errorType": result.error.get("type", "Runtime.Unknown"),
            }
            return self._finish(function, request_id, result.info, error=error, status="error")
        return self._finish(
            function,
            request_id,
            result.info,
            payload=result.body,
            function_error=result.header.get("function_error"),
        )

    def _invoke_quietly(self, function, payload, request_id, client_context) -> None:
        try:
            self.invoke(function, payload, request_id=request_id, client_context=client_context)
        except Exception:  # noqa: BLE001 - an async invocation has nobody to report to
            log.exception("event invocation of %s failed", function.name)

    def _pool(self, function: Function) -> WorkerPool:
        with self._lock:
            fingerprint, pool = self._pools.get(function.key, (None, None))
            if pool is not None and fingerprint == function.fingerprint:
                return pool
            old = pool
            pool = WorkerPool(
                worker_spec(self.router, self._root, function),
                max_workers=(
                    self.router.settings["lambda_concurrency"]
                    if function.reserved is None
                    else function.reserved
                ),
                idle_seconds=self.router.settings["lambda_idle_seconds"],
                output_dir=self._root,
                name=f"{function.name}-{uuid.uuid4().hex[:6]}",
            )
            self._pools[function.key] = (function.fingerprint, pool)
        if old is not None:
            self._retire_pools([old])
        return pool

    # -- logs and metrics ----------------------------------------------------------------------
    def _finish(
        self,
        function: Function,
        request_id: str,
        info: CallInfo,
        *,
        payload: bytes = b"",
        function_error: str | None = None,
        error: dict | None = None,
        lines: list[str] | None = None,
        status: str | None = None,
    ) -> Outcome:
        """Write the invocation's log lines and metrics; shape the answer."""
        if error is not None:
            payload, function_error = json.dumps(error).encode(), "Unhandled"
        init: list[str] = []
        if info.cold:
            init += [f"INIT_START Runtime Version: {function.runtime.replace('thon', 'thon:')}"]
            init += info.init_output.splitlines()
        invocation = [f"START RequestId: {request_id} Version: {function.version}"]
        invocation += info.output.splitlines() + (lines or [])
        invocation.append(f"END RequestId: {request_id}")
        duration_ms = info.duration * 1000
        billed = duration_ms + (info.init_duration or 0) * 1000
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {max(1, math.ceil(billed))} ms\t"
            f"Memory Size: {function.memory_mb} MB\t"
            f"Max Memory Used: {max(1, round(info.max_memory_mb))} MB\t"
        )
        if info.init_duration is not None:
            report += f"Init Duration: {info.init_duration * 1000:.2f} ms\t"
        if status:
            report += f"Status: {status}\t"
        if status == "error" and error is not None:
            report += f"Error Type: {error['errorType']}\t"
        invocation.append(report)
        with self._lock:
            stream = self._streams.get(info.worker_id)
        if stream is None:
            day = time.strftime("%Y/%m/%d", time.gmtime())
            stream = f"{day}/[{function.version}]{uuid.uuid4().hex}"
        self._logs(function, stream, init + invocation)
        self._metrics(function, duration_ms=duration_ms, error=function_error is not None)
        tail = "\n".join(invocation) + "\n"
        return Outcome(request_id, payload, function_error, tail)

    def _logs(self, function: Function, stream: str, lines: list[str]) -> None:
        put_log_lines(
            self.router, function.account, function.region, function.log_group, stream, lines
        )

    def _metrics(
        self,
        function: Function,
        *,
        duration_ms: float = 0.0,
        error: bool = False,
        throttled: bool = False,
    ) -> None:
        dims = {"FunctionName": function.name}
        if throttled:
            data = [metric("Throttles", 1, "Count", dims)]
        else:
            data = [
                metric("Invocations", 1, "Count", dims),
                metric("Errors", 1 if error else 0, "Count", dims),
                metric("Duration", round(duration_ms, 2), "Milliseconds", dims),
            ]
        put_metrics(self.router, function.account, function.region, "AWS/Lambda", data)
