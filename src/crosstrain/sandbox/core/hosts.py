"""LocalStack's host names: ``localhost.localstack.cloud`` and every name below it is this machine.

Public DNS answers 127.0.0.1 for them; offline nothing does. Code crosstrain starts (Lambda and
endpoint workers) resolves them in process with :func:`resolve_locally`, so a handler written
for LocalStack (``http://localhost.localstack.cloud:4566``, ``s3.localhost.localstack.cloud``)
reaches the sandbox unchanged. On the host, ``crosstrain doctor`` says whether the names resolve
and which ``/etc/hosts`` line to add when they do not.
"""

from __future__ import annotations

import socket

LOCALSTACK_DOMAIN = "localhost.localstack.cloud"
SIGNED_AS = "crosstrain.signed-as"  # environ key: the request as signed, before rewrites
_patched = False


def is_local_name(host: str) -> bool:
    """True for ``localhost.localstack.cloud`` and any name below it (port ignored)."""
    name = host.rsplit(":", 1)[0].rstrip(".").lower() if host.count(":") <= 1 else host
    return name == LOCALSTACK_DOMAIN or name.endswith("." + LOCALSTACK_DOMAIN)


def resolve_locally() -> None:
    """Make this process resolve LocalStack's names to 127.0.0.1 (idempotent)."""
    global _patched
    if _patched:
        return
    original = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        name = host.decode(errors="replace") if isinstance(host, bytes) else host or ""
        if name and is_local_name(name):
            host = "127.0.0.1"
        return original(host, port, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo
    _patched = True


def resolves_here(name: str = LOCALSTACK_DOMAIN) -> bool:
    """Whether this machine's resolver answers a loopback address for ``name``."""
    try:
        infos = socket.getaddrinfo(name, None)
    except OSError:
        return False
    return any(info[4][0] in ("127.0.0.1", "::1") for info in infos)


def _as_sent(environ: dict) -> dict:
    """Method, path and headers as the client signed them (before any rewrite)."""
    from werkzeug.datastructures import EnvironHeaders

    path = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not path:
        query = environ.get("QUERY_STRING")
        path = (environ.get("PATH_INFO") or "/") + (f"?{query}" if query else "")
    headers = dict(EnvironHeaders(environ))
    return {"method": environ.get("REQUEST_METHOD", "GET"), "path": path, "headers": headers}


def s3_path_style(environ: dict) -> None:
    """Serve LocalStack's S3 host names path-style, as moto expects.

    ``s3.localhost.localstack.cloud`` is S3's endpoint; ``BUCKET.s3.localhost.localstack.cloud``
    a virtual-hosted bucket (moto would read ``s3`` as a bucket name in the first case and miss
    the bucket in the second). The bucket moves into the path and the host becomes
    ``localhost``, which moto serves path-style. The request as signed is kept under
    :data:`SIGNED_AS` so ``--enforce-iam`` checks the signature the client made.
    """
    host = environ.get("HTTP_HOST", "")
    name, _, port = host.partition(":")
    suffix = "s3." + LOCALSTACK_DOMAIN
    if name != suffix and not name.endswith("." + suffix):
        return
    bucket = name[: -len(suffix) - 1] if name != suffix else ""
    environ[SIGNED_AS] = _as_sent(environ)
    if bucket:
        environ["PATH_INFO"] = f"/{bucket}{environ.get('PATH_INFO') or '/'}"
        for key in ("RAW_URI", "REQUEST_URI"):
            if environ.get(key):
                environ[key] = f"/{bucket}{environ[key]}"
    environ["HTTP_HOST"] = f"localhost:{port}" if port else "localhost"
