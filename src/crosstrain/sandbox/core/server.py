"""The sandbox process: ``python -m crosstrain.sandbox.core.server``.

Binds the port first (so a busy port is reported at once), then builds the router, restores
state, and tells the parent it is ready by writing one JSON line to ``--ready-fd``. SIGTERM and
SIGINT stop it cleanly: the server stops accepting, runtimes stop their workers, state is flushed.
Kept free of heavy imports so the sandbox starts fast.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import logging
import os
import secrets
import signal
import sys
import threading
from pathlib import Path

DEFAULT_ACCOUNT = "000000000000"  # LocalStack's, so tutorials' ARNs work unchanged
TOKEN_VARIABLE = "CROSSTRAIN_SANDBOX_TOKEN"  # read once, then removed from the environment
ACCESS_VARIABLE = "CROSSTRAIN_SANDBOX_ACCESS_KEY"  # the key required on every request, if any


def _flag(value: str) -> bool:
    return str(value).lower() in ("1", "true", "yes", "on")


# Settings the runtimes read from ``Router.settings`` (names as in crosstrain.settings).
LIMITS = {
    "lambda_concurrency": int,
    "lambda_idle_seconds": float,
    "sagemaker_max_workers": int,
    "idle_workers_max": int,
    "worker_zygotes": _flag,
    "http_keep_alive": _flag,
}

# Data-plane runtimes, in routing order ("module:Class"); imported at start.
RUNTIMES: tuple[str, ...] = (
    "crosstrain.sandbox.services.iam.runtime:IamRuntime",
    "crosstrain.sandbox.services.awslambda.runtime:LambdaRuntime",
    # after Lambda (takes over async invokes), before the services that share its clock
    "crosstrain.sandbox.services.events.runtime:EventsRuntime",
    "crosstrain.sandbox.services.stepfunctions.runtime:StepFunctionsRuntime",
    "crosstrain.sandbox.services.cloudwatch.runtime:AlarmsRuntime",
    "crosstrain.sandbox.services.sagemaker.endpoints:SageMakerRuntime",
    "crosstrain.sandbox.services.apigateway.runtime:ApiGatewayRuntime",
    "crosstrain.sandbox.services.cloudformation.runtime:CloudFormationRuntime",
    "crosstrain.sandbox.services.athena.runtime:AthenaRuntime",
    "crosstrain.sandbox.services.s3.runtime:S3Runtime",
    "crosstrain.sandbox.services.logs.retention:LogRetention",
)


def _die_with_parent() -> None:
    """Ask Linux to SIGTERM us when the process that started us dies (no orphan sandboxes)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except OSError:  # not Linux: the parent's cleanup still stops us
        pass


def _report(fd: int | None, payload: dict) -> None:
    line = (json.dumps(payload) + "\n").encode()
    if fd is None:
        sys.stdout.write(line.decode())
        sys.stdout.flush()
        return
    os.write(fd, line)
    os.close(fd)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="crosstrain-sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--state-dir", type=Path, default=None)
    parser.add_argument("--enforce-iam", action="store_true")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument(
        "--account",
        default=DEFAULT_ACCOUNT,
        help="default account id (LocalStack's 000000000000; moto's is 123456789012)",
    )
    parser.add_argument("--tls-dir", type=Path, default=None, help="where the local CA lives")
    for name, kind in LIMITS.items():  # default: crosstrain's settings (CROSSTRAIN_<NAME>)
        parser.add_argument("--" + name.replace("_", "-"), type=kind, default=None)
    parser.add_argument("--ready-fd", type=int, default=None)
    parser.add_argument("--die-with-parent", action="store_true")
    parser.add_argument("--log-level", default="WARNING")
    return parser.parse_args(argv)


def limits(args: argparse.Namespace) -> dict:
    """The runtimes' limits: as passed (``crosstrain.sandbox.start`` passes them all, so the
    sandbox process need not load the settings machinery), else from the settings."""
    given = {name: getattr(args, name) for name in LIMITS}
    if any(value is None for value in given.values()):
        from crosstrain.settings import settings

        current = settings()
        given = {k: getattr(current, k) if v is None else v for k, v in given.items()}
    return given


def _load(path: str):
    module_name, _, attr = path.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def _prewarm(tls_dir: Path | None) -> None:
    """Import moto's S3 app while we wait for the first request (most first calls are S3), and
    make the local CA clients trust for HTTPS."""
    with contextlib.suppress(Exception):  # warming is an optimisation only
        import moto.s3.responses  # noqa: F401
    from crosstrain.sandbox.core.tls import ca_bundle

    if tls_dir is None:
        return
    try:
        ca_bundle(tls_dir)
    except OSError as exc:
        logging.getLogger("crosstrain.sandbox").warning("no local CA in %s: %s", tls_dir, exc)


def _localstack_defaults(account: str) -> None:
    """Before moto loads: LocalStack's default account. AWS-managed IAM policies are loaded one
    by one when a request names them (the IAM runtime), not all at once by moto: that would cost
    ~50 MB and seconds on the first IAM call (``MOTO_IAM_LOAD_MANAGED_POLICIES=true`` still asks
    moto for all of them)."""
    import moto.core
    import moto.core.models

    moto.core.DEFAULT_ACCOUNT_ID = moto.core.models.DEFAULT_ACCOUNT_ID = account


def _bind(args: argparse.Namespace):
    """The HTTP+HTTPS server on the asked address (its app is set once the router is built)."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    from crosstrain.sandbox.core.tls import DualProtocolServer, scheme_of

    class Handler(MotoRequestHandler):
        def make_environ(self) -> dict:
            environ = super().make_environ()
            environ["wsgi.url_scheme"] = scheme_of(self.connection)
            return environ

    if limits(args)["http_keep_alive"]:
        from crosstrain.sandbox.core.front import keep_alive

        Handler = keep_alive(Handler)  # noqa: N806 - a class
    placeholder = lambda environ, start_response: []  # noqa: E731 - replaced by the router
    server = DualProtocolServer(args.host, args.port, placeholder, handler=Handler)
    server.tls_dir = args.tls_dir  # None: HTTP only (crosstrain.sandbox.start always passes one)
    return server


def _router(args: argparse.Namespace, endpoint: str, port: int):
    """The router with its state restored, its runtimes loaded and its start token."""
    from crosstrain.sandbox.core import iam
    from crosstrain.sandbox.core.router import Router

    router = Router(
        endpoint_url=endpoint,
        region=args.region,
        state_dir=args.state_dir,
        settings={
            "enforce_iam": args.enforce_iam,
            "host": args.host,
            "port": port,
            "account": args.account,
            "ca_bundle": str(args.tls_dir / "ca.pem") if args.tls_dir else None,
            **limits(args),
        },
    )
    if args.state_dir is not None:
        from crosstrain.sandbox.core.state import StateStore

        router.state = StateStore(args.state_dir, lock=router.moto_lock)
        restored = router.state.restore()
        router.notices = restored.messages()
        router.services_used.update(restored.services)
        router.state.start()
    router.token = os.environ.pop(TOKEN_VARIABLE, "") or secrets.token_hex(16)
    access_key = os.environ.pop(ACCESS_VARIABLE, "")
    if access_key:  # its workers and its own clients sign with it too
        from crosstrain.sandbox.core.clients import use_access_key

        router.access_key = router.admin_access_key = access_key
        use_access_key(access_key)
    if args.enforce_iam:
        iam.enable()
    from crosstrain.sandbox.core.idle import idle_workers
    from crosstrain.sandbox.core.zygotes import zygotes

    idle_workers.cap = router.settings["idle_workers_max"]
    zygotes.enabled = router.settings["worker_zygotes"]
    for path in RUNTIMES:
        router.add_runtime(_load(path))
    return router


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.die_with_parent:
        _die_with_parent()
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(name)s %(message)s")
    _localstack_defaults(args.account)
    try:
        server = _bind(args)
    except OSError as exc:
        _report(args.ready_fd, {"ready": False, "error": f"{exc.strerror or exc}"})
        return 3
    port = server.server_port
    endpoint = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '') else args.host}:{port}"
    os.environ.setdefault("MOTO_PORT", str(port))
    threading.Thread(target=_prewarm, args=(args.tls_dir,), daemon=True).start()
    router = server.app = _router(args, endpoint, port)

    stopping = threading.Event()

    def stop(signum, frame):
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    router.on_shutdown = lambda: stop(None, None)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    ready = {"ready": True, "port": port, "pid": os.getpid(), "endpoint": endpoint}
    ready |= {"ca_bundle": router.settings["ca_bundle"], "notices": router.notices}
    _report(args.ready_fd, ready)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        router.close()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
