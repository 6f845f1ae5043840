"""The sandbox's one endpoint: routes each request to a crosstrain runtime or to moto.

A :class:`Runtime` is a piece of the data plane (Lambda, API Gateway, SageMaker, Athena, ...).
For every request the router asks each runtime, in order, whether it serves it
(:meth:`Runtime.route`); the first handler found answers. Everything else goes to moto's server
application, under a lock, and every call moto answered is shown to the runtimes afterwards
(:meth:`Runtime.observe`), so a runtime can react to control-plane changes (new endpoint, updated
function code). Internal routes live under ``/_crosstrain/``; ``/_localstack/health`` answers like
LocalStack so scripts that wait for it work unchanged.
"""

from __future__ import annotations

import io
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from crosstrain.sandbox.core import access, calllog, errors, hosts, protocols, roles

if TYPE_CHECKING:
    from crosstrain.sandbox.core.state import StateStore

log = logging.getLogger("crosstrain.sandbox")

Handler = Callable[[Request], Response]
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
# Services whose calls change other services' state (a stack creates buckets, roles, ...).
CROSS_SERVICE = frozenset({"cloudformation"})
AUTHORIZED = "crosstrain.authorized"  # environ key: the router already checked IAM


def signing_scope(request: Request) -> tuple[str | None, str | None, str | None]:
    """(access key, region, signing service) from a SigV4 header or presigned query."""
    auth = request.headers.get("Authorization", "")
    match = _SCOPE.search(auth)
    if match:
        return match.group(1), match.group(2), match.group(3)
    credential = request.args.get("X-Amz-Credential")
    if credential:
        parts = credential.split("/")
        if len(parts) >= 4:
            return parts[0], parts[2], parts[3]
    return None, None, None


def aws_action(request: Request) -> str | None:
    """The API action of a JSON-target or query-protocol request (``None`` for REST APIs)."""
    target = request.headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1]
    if "Action" in request.args:
        return request.args["Action"]
    if request.mimetype == "application/x-www-form-urlencoded":
        values = parse_qs(request.get_data(as_text=True)).get("Action")
        if values:
            return values[0]
    return None


def json_response(data: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(
        json.dumps(data, default=str), status=status, headers=headers, mimetype="application/json"
    )


@dataclass
class Call:
    """A request moto answered, as shown to the runtimes."""

    request: Request
    service: str | None
    action: str | None
    status: int
    body: bytes

    @property
    def ok(self) -> bool:
        return self.status < 400

    def json(self) -> Any:
        try:
            return json.loads(self.request.get_data() or b"{}")
        except ValueError:
            return {}


class Runtime:
    """Base class of a data-plane component; override what you need."""

    name = "runtime"

    def __init__(self, router: Router):
        self.router = router

    def route(self, request: Request) -> Handler | None:
        """Return a handler when this runtime serves ``request`` instead of moto."""
        return None

    def before(self, request: Request) -> None:
        """Prepare moto for a request it is about to answer (called under the moto lock)."""

    def observe(self, call: Call) -> None:
        """React to a call moto answered (state-changing calls only)."""

    def permission(self, request: Request) -> tuple[str, str] | None:
        """The IAM action (no service prefix) and resource ARN of a request this runtime serves,
        checked against the caller's policies under ``--enforce-iam`` (``None``: not checked)."""
        action = aws_action(request)
        return (action, "*") if action else None

    def health(self) -> dict:
        return {}

    def reset(self) -> None:
        """Forget everything (the sandbox is being reset)."""

    def close(self) -> None:
        """Stop workers and threads (the sandbox is stopping)."""


class Router:
    """The WSGI application of one sandbox process."""

    def __init__(
        self,
        *,
        endpoint_url: str,
        region: str = "us-east-1",
        state_dir: Path | None = None,
        state: StateStore | None = None,
        admin_access_key: str = "test",
        settings: dict | None = None,
    ):
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        self.moto = DomainDispatcherApplication(create_backend_app)
        self.moto_lock = threading.RLock()
        self.endpoint_url = endpoint_url
        self.region = region
        self.state_dir = state_dir
        self.state = state
        self.admin_access_key = admin_access_key
        self.settings = settings or {}
        self.started = time.time()
        self.services_used: set[str] = set()
        self.runtimes: list[Runtime] = []
        self.notices: list[str] = []
        self._served: set[str] = set()  # signing names moto has a backend for
        self.token = ""  # the start token: only its holder may shut this sandbox down
        self.access_key = ""  # when set, the only key served (see :func:`access.gate`)
        self.on_shutdown: Callable[[], None] | None = None
        from crosstrain.sandbox.core.admin import internal_routes

        self._internal: dict[tuple[str, str], Handler] = internal_routes(self)
        self.calls = calllog.CallLog(account=self.settings.get("account", "000000000000"))
        self.calls.resolve_principal = self._principal
        if state_dir is not None and state is not None:
            self.calls.load(Path(state_dir) / calllog.FILE)

    # -- wiring --------------------------------------------------------------------------------
    def add_runtime(self, runtime_cls: type[Runtime]) -> Runtime:
        runtime = runtime_cls(self)
        self.runtimes.append(runtime)
        return runtime

    def mark_dirty(self, services: Iterable[str]) -> None:
        """Tell the state store that these services changed (no-op when ephemeral)."""
        services = set(services)
        self.services_used |= services
        if self.state is not None:
            if services & CROSS_SERVICE:
                self.state.mark_all_dirty()
            self.state.mark_dirty(services)

    def client(self, service: str, **kwargs):
        """A boto3 client bound to this sandbox (for runtimes that call other services)."""
        from crosstrain.sandbox.core.clients import make_client

        kwargs.setdefault("user_agent_extra", "crosstrain-sandbox")  # the call log's "sandbox"
        return make_client(service, self.endpoint_url, region=self.region, **kwargs)

    # -- WSGI ----------------------------------------------------------------------------------
    def __call__(self, environ: dict, start_response):
        hosts.s3_path_style(environ)
        request, began, answered = Request(environ), time.perf_counter(), []
        scope = signing_scope(request)

        def answer(status, headers, exc_info=None):
            answered.append(status)
            return start_response(status, headers, exc_info)

        roles.begin()  # collect the permission decisions made while serving it
        result = self._serve(request, scope[2], environ, answer)
        decisions = roles.take()
        if answered:  # the call log (see calllog.py): after the answer, never in its way
            try:
                self.calls.record(request, scope, int(answered[0][:3]), began, decisions)
            except Exception:  # noqa: BLE001 - a log entry is never worth a failed call
                log.exception("call log failed on %s %s", request.method, request.path)
        return result

    def _serve(self, request: Request, service: str | None, environ: dict, start_response):
        refused = access.gate(self, request) if self.access_key else None
        if refused is not None:
            return refused(environ, start_response)
        if protocols.bridged(service) and protocols.to_json(request, service):
            # A rest-json call of a service served in json: authorize it as the client signed
            # it, then serve the json form and answer in rest-json.
            denied = self.authorize(request, aws_action(request) or "", "*")
            if denied is not None:
                return denied(environ, start_response)
            environ[AUTHORIZED] = True
            captured: dict[str, Any] = {}

            def capture(status, headers, exc_info=None):
                captured["status"], captured["headers"] = status, headers
                return lambda data: None

            body = b"".join(self._dispatch(Request(environ), environ, capture))
            answer = protocols.to_rest(captured["status"], captured["headers"], body)
            return answer(environ, start_response)
        return self._dispatch(request, environ, start_response)

    def _dispatch(self, request: Request, environ: dict, start_response):
        handler, owner = self._internal.get((request.method, request.path)), None
        if handler is None:
            for runtime in self.runtimes:
                handler = runtime.route(request)
                if handler is not None:
                    owner = runtime
                    break
        if handler is not None:
            try:
                denied = self.denied(request, owner) if owner else None
                response = handler(request) if denied is None else denied
            except Exception as exc:  # noqa: BLE001 - one bad request never kills the sandbox
                log.exception("runtime failed on %s %s", request.method, request.path)
                response = json_response(
                    {"__type": "InternalFailure", "message": f"{type(exc).__name__}: {exc}"}, 500
                )
            return response(environ, start_response)
        return self._call_moto(request, environ, start_response)

    def forward(self, request: Request) -> Response:
        """Let moto answer ``request`` (runtimes observe it as usual); a runtime may rewrite it."""
        captured: dict[str, Any] = {}

        def start_response(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        body = b"".join(self._call_moto(request, request.environ, start_response))
        response = Response(body, status=captured["status"], headers=captured["headers"])
        length = Headers(captured["headers"]).get("Content-Length")
        if request.method == "HEAD" and length is not None:
            response.headers["Content-Length"] = length  # not the empty body's 0
        return response

    def denied(self, request: Request, runtime: Runtime) -> Response | None:
        """Under ``--enforce-iam``, the error a non-admin caller gets when its policies do not
        allow what ``runtime`` would do for ``request`` (moto's evaluation, as for its calls)."""
        if request.environ.get(AUTHORIZED):
            return None
        permission = runtime.permission(request)
        return None if permission is None else self.authorize(request, *permission)

    def authorize(self, request: Request, action: str, resource: str) -> Response | None:
        """Under ``--enforce-iam``, the error a non-admin caller gets when its policies do not
        allow ``action`` on ``resource`` (see :func:`iam.check`)."""
        from crosstrain.sandbox.core import iam

        return iam.check(request, action, resource, self.admin_access_key, self.moto_lock)

    def _principal(self, access_key: str, token: str) -> str:
        from crosstrain.sandbox.core import iam

        return iam.principal_arn(access_key, token, self.admin_access_key, self.moto_lock)

    def _call_moto(self, request: Request, environ: dict, start_response):
        from crosstrain.sandbox.core import iam

        body = request.get_data()  # read before taking the lock; moto reads it again below
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        access_key, _, _ = signing_scope(request)
        captured: dict[str, Any] = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        _, _, signing = signing_scope(request)
        unknown = self._unemulated(environ, signing)
        if unknown is not None:
            return unknown(environ, start_response)
        is_admin = access_key in (None, self.admin_access_key) or bool(environ.get(AUTHORIZED))
        with self.moto_lock, iam.principal(is_admin=is_admin, request=request):
            for runtime in self.runtimes:
                runtime.before(request)
            app = self.moto.get_application(environ)
            try:
                result = app(environ, capture)
                try:
                    payload = b"".join(result)
                finally:
                    if hasattr(result, "close"):
                        result.close()
            except NotImplementedError:
                answer = self._no_answer(request, signing or getattr(app, "service", None), 501)
                return answer(environ, start_response)
        service = getattr(app, "service", None)
        status = int(captured["status"].split(" ", 1)[0])
        if status in (404, 500, 501) and errors.is_html(captured["headers"], payload):
            answer = self._no_answer(request, signing or service, status)
            return answer(environ, start_response)
        if request.method not in READ_METHODS and status < 400 and service:
            if service != "moto_api":
                self.mark_dirty({service})
            call = Call(request, service, aws_action(request), status, payload)
            for runtime in self.runtimes:
                try:
                    runtime.observe(call)
                except Exception:  # noqa: BLE001
                    log.exception("runtime %s failed observing %s", runtime.name, call.action)
        elif service and service != "moto_api":
            self.services_used.add(service)
        start_response(captured["status"], captured["headers"])
        return [payload]

    def _unemulated(self, environ: dict, signing: str | None) -> Response | None:
        """The error for a signed request to a service neither moto nor a runtime serves."""
        if not signing or signing in self._served:
            return None
        try:
            host = self.moto.infer_service_region_host(environ, environ.get("PATH_INFO", ""))
        except (KeyError, ValueError, IndexError):  # moto could not tell: let it answer
            return None
        if host is None or self.moto.get_backend_for_host(host) is not None:
            self._served.add(signing)  # asked once per service, not on every request
            return None
        message = f"the crosstrain sandbox does not emulate {signing}; {errors.LEDGER_HINT}"
        return errors.aws_error(signing, "UnsupportedService", message, 400)

    def _no_answer(self, request: Request, service: str | None, status: int) -> Response:
        """moto had no answer (an HTML page): say so in the client's protocol, without a 5xx
        that SDKs retry."""
        action = aws_action(request) or f"{request.method} {request.path}"
        what = f"{service or 'this service'} {action}"
        if status == 404:
            message = f"the crosstrain sandbox has no route for {what}; {errors.LEDGER_HINT}"
            return errors.aws_error(service, "UnknownOperationException", message, 400)
        message = f"the crosstrain sandbox does not implement {what}; {errors.LEDGER_HINT}"
        return errors.aws_error(service, "NotImplemented", message, 501)

    # -- internal routes -----------------------------------------------------------------------
    def reset(self) -> float:
        """Clear every service, runtime and snapshot; return the seconds it took."""
        from moto.moto_api._internal.models import moto_api_backend

        began = time.perf_counter()
        with self.moto_lock:
            moto_api_backend.reset()
            if self.state is not None:
                self.state.clear()
            self.services_used.clear()
        self.calls.clear()
        for runtime in self.runtimes:
            runtime.reset()
        return time.perf_counter() - began

    def close(self) -> None:
        for runtime in reversed(self.runtimes):
            try:
                runtime.close()
            except Exception:  # noqa: BLE001
                log.exception("runtime %s failed to close", runtime.name)
        if self.state is not None:
            self.save_calls()
            self.state.close()

    def save_calls(self) -> None:
        """Persist the call log beside the state (learner mode)."""
        if self.state is not None and self.state_dir is not None:
            self.calls.save(Path(self.state_dir) / calllog.FILE)
