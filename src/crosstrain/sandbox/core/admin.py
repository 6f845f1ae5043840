"""The sandbox's own routes: ``/_crosstrain/*`` (health, reset, flush, shutdown) and LocalStack's
``/_localstack/health`` and ``/_localstack/init[/STAGE]``, so scripts that wait for LocalStack
work unchanged."""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import TYPE_CHECKING

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
    def health(request: Request) -> Response:
        return json_response(router.health())

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

    return {
        ("GET", "/_crosstrain/health"): health,
        ("POST", "/_crosstrain/reset"): reset,
        ("POST", "/moto-api/reset"): reset,
        ("POST", "/_crosstrain/flush"): flush,
        ("POST", "/_crosstrain/shutdown"): shutdown,
        ("GET", "/_localstack/health"): localstack_health,
        ("HEAD", "/_localstack/health"): localstack_health,
        ("GET", "/_localstack/init"): localstack_init,
        **{("GET", f"/_localstack/init/{s.lower()}"): localstack_init for s in _INIT_STAGES},
    }
