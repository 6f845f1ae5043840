"""Step Functions on the router: executions really run (see :mod:`.engine`).

At start the runtime turns on moto's executing backend and wires its interpreter to this
sandbox: service calls go to the sandbox's own endpoint (Lambda tasks run in crosstrain's Lambda
runtime) and waits run on the events runtime's clock. It also fixes what moto gets wrong at the
API: ``StartExecution`` without a ``name`` gets a UUID (moto would name it ``None`` and refuse
the second one), and a definition moto's parser refuses answers ``InvalidDefinition``.
"""

from __future__ import annotations

import json
import threading
import uuid

from werkzeug.wrappers import Request, Response

from crosstrain.sandbox.core.router import Handler, Router, Runtime, json_response
from crosstrain.sandbox.services.events.runtime import events_runtime
from crosstrain.sandbox.services.events.schedule import Clock
from crosstrain.sandbox.services.stepfunctions import engine

_TARGET = "AWSStepFunctions."
WATCH_SECONDS = 1.0


class StepFunctionsRuntime(Runtime):
    name = "stepfunctions"

    def __init__(self, router: Router):
        super().__init__(router)
        events = events_runtime(router)
        self.clock = events.clock if events is not None else Clock()
        engine.enable_execution()  # cheap; the interpreter itself loads on first use
        self._clients: dict[tuple[str, str], object] = {}
        self._stop = threading.Event()
        self._installed = False
        self._install_lock = threading.Lock()
        self._watcher: threading.Thread | None = None

    def ensure_installed(self) -> None:
        """Load and wire moto's interpreter (seconds of imports) the first time it is needed,
        not at sandbox start."""
        if self._installed:
            return
        with self._install_lock:
            if self._installed:
                return
            engine.install(self.clock, self._client)
            self._watcher = threading.Thread(target=self._watch, name="crosstrain-sfn", daemon=True)
            self._watcher.start()
            self._installed = True

    def close(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)

    def _watch(self) -> None:
        """Executions change state in their own threads: tell persistence when they do."""
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        seen: dict[str, str] = {}
        while not self._stop.wait(WATCH_SECONDS):
            with self.router.moto_lock:
                now = {
                    execution.execution_arn: str(execution.exec_status)
                    for regions in list(stepfunctions_parser_backends.values())
                    for backend in list(regions.values())
                    for execution in backend._get_executions()
                }
            if now != seen:
                seen = now
                self.router.mark_dirty({"stepfunctions"})

    def _client(self, service: str, region: str):
        key = (service, region)
        client = self._clients.get(key)
        if client is None:
            from crosstrain.sandbox.core.clients import make_client

            client = make_client(
                service,
                self.router.endpoint_url,
                region=region,
                read_timeout=900,
                connect_timeout=10,
            )
            self._clients[key] = client
        return client

    def route(self, request: Request) -> Handler | None:
        target = request.headers.get("X-Amz-Target", "")
        if not target.startswith(_TARGET):
            return None
        action = target[len(_TARGET) :]
        self.ensure_installed()
        if action == "StartExecution":
            return self._start_execution
        if action in ("CreateStateMachine", "UpdateStateMachine"):
            return self._definition_errors
        return None

    def permission(self, request: Request):
        return None  # moto checks these calls when it answers them

    def _start_execution(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError:
            return self.router.forward(request)
        if not body.get("name"):
            body["name"] = str(uuid.uuid4())
            data = json.dumps(body).encode()
            request.environ["wsgi.input"] = _BytesIO(data)
            request.environ["CONTENT_LENGTH"] = str(len(data))
            request = Request(request.environ)
        return self.router.forward(request)

    def _definition_errors(self, request: Request) -> Response:
        response = self.router.forward(request)
        if response.status_code < 400:
            return response
        try:
            body = json.loads(response.get_data())
        except ValueError:
            return response
        if body.get("__type") or "definition" not in body.get("message", ""):
            return response
        message = body.get("message", "Invalid State Machine Definition")
        return json_response(
            {"__type": "InvalidDefinition", "message": message},
            400,
            headers={"x-amzn-ErrorType": "InvalidDefinition"},
        )


def _BytesIO(data: bytes):
    import io

    return io.BytesIO(data)
