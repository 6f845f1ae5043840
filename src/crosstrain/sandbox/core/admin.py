"""The sandbox's own routes: ``/_crosstrain/*`` (health, reset, flush, shutdown) and LocalStack's
``/_localstack/health`` and ``/_localstack/init[/STAGE]``, so scripts that wait for LocalStack
work unchanged."""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from crosstrain.sandbox.core.router import json_response

if TYPE_CHECKING:
    from crosstrain.sandbox.core.router import Handler, Router

TOKEN_HEADER = "X-Crosstrain-Token"
_INIT_STAGES = ("BOOT", "START", "READY", "SHUTDOWN")


def instance_id(token: str) -> str:
    """What health shows of the start token: enough to recognise it, useless to forge it."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def internal_routes(router: Router) -> dict[tuple[str, str], Handler]:
    def health_route(request: Request) -> Response:
        return json_response(health(router))

    def localstack_health(request: Request) -> Response:
        from crosstrain import __version__
        from crosstrain.sandbox.core.ledger import LEDGER

        services = {
            entry.service: ("running" if entry.service in router.services_used else "available")
            for entry in LEDGER
        }
        return json_response(
            {"services": services, "edition": "crosstrain", "version": __version__}
        )

    def localstack_init(request: Request) -> Response:
        """LocalStack's init-hook stages; the sandbox runs no init scripts, and it answers only
        once it is ready, so every start-up stage is complete."""
        stage = request.path.rstrip("/").rpartition("/")[2].upper()
        if stage in _INIT_STAGES:
            return json_response({"completed": stage != "SHUTDOWN", "scripts": []})
        completed = {name: name != "SHUTDOWN" for name in _INIT_STAGES}
        return json_response({"completed": completed, "scripts": []})

    def reset(request: Request) -> Response:
        seconds = router.reset()
        return json_response({"reset": True, "seconds": round(seconds, 4)})

    def flush(request: Request) -> Response:
        if router.state is not None:
            router.state.flush()
            router.save_calls()
        return json_response({"flushed": router.state is not None})

    def shutdown(request: Request) -> Response:
        """Stop, for the holder of the token the sandbox was started with (nobody else)."""
        token = router.token
        given = request.headers.get(TOKEN_HEADER, "")
        if not token or not hmac.compare_digest(given.encode(), token.encode()):
            body = {"__type": "AccessDenied", "message": "not this sandbox's start token"}
            return json_response(body, 403)
        if router.on_shutdown is not None:
            router.on_shutdown()
        return json_response({"stopping": True, "pid": os.getpid()})

    def calls(request: Request) -> Response:
        """The call log: ``?service=&operation=&principal=&source=&result=&since=&limit=``."""
        args = request.args
        filters = {
            k: args.get(k) for k in ("service", "operation", "principal", "source", "result")
        }
        try:
            since = float(args["since"]) if args.get("since") else None
            limit = int(args["limit"]) if args.get("limit") else None
        except ValueError:
            return json_response(
                {"__type": "ValidationException", "message": "since and limit are numbers"}, 400
            )
        calls = router.calls.query(**filters, since=since, limit=limit)
        summary = router.calls.summary()
        return json_response({"calls": calls, "summary": summary, "enforce_iam": _enforcing()})

    def decisions(request: Request) -> Response:
        """The permission decisions: ``?role=&action=&allowed=true|false&limit=``."""
        args = request.args
        allowed = args.get("allowed")
        limit = args.get("limit", "")
        rows = router.calls.decisions(
            role=args.get("role") or None,
            action=args.get("action") or None,
            allowed=None if not allowed else allowed.lower() in ("1", "true", "yes"),
            limit=int(limit) if limit.isdigit() else None,
        )
        return json_response({"calls": rows, "enforce_iam": _enforcing()})

    return {
        ("GET", "/_crosstrain/calls"): calls,
        ("GET", "/_crosstrain/decisions"): decisions,
        ("GET", "/_crosstrain/health"): health_route,
        ("POST", "/_crosstrain/reset"): reset,
        ("POST", "/moto-api/reset"): reset,
        ("POST", "/_crosstrain/flush"): flush,
        ("POST", "/_crosstrain/shutdown"): shutdown,
        ("GET", "/_localstack/health"): localstack_health,
        ("HEAD", "/_localstack/health"): localstack_health,
        ("GET", "/_localstack/init"): localstack_init,
        **{("GET", f"/_localstack/init/{s.lower()}"): localstack_init for s in _INIT_STAGES},
    }


def _enforcing() -> bool:
    from crosstrain.sandbox.core import iam

    return iam.enabled()


def health(router: Router) -> dict:
    """What ``/_crosstrain/health`` answers: settings, state, services used, runtimes."""
    state: dict[str, Any] = {"persistent": router.state is not None}
    if router.state is not None:
        state.update(
            dir=str(router.state_dir),
            generation=router.state.generation,
            pending=router.state.pending(),
            not_persisted=dict(router.state.errors),
        )
    from crosstrain import __version__
    from crosstrain.sandbox.core.zygotes import zygotes

    return {
        "service": "crosstrain-sandbox",
        "status": "running",
        "version": __version__,
        "pid": os.getpid(),
        "endpoint": router.endpoint_url,
        "region": router.region,
        "instance": instance_id(router.token) if router.token else None,
        "uptime_seconds": round(time.time() - router.started, 3),
        "settings": router.settings,
        "state": state,
        "services_used": sorted(router.services_used),
        "notices": router.notices,
        "runtimes": {rt.name: rt.health() for rt in router.runtimes},
        "zygotes": zygotes.preloaded(),
    }
