"""HTTPS on the sandbox's own port, with a certificate made on this machine (nothing downloaded).

LocalStack answers HTTP and HTTPS on 4566, and tutorials use ``https://localhost.localstack.cloud:
4566``. The sandbox does the same: :class:`DualProtocolServer` looks at the first byte a client
sends and wraps the connection in TLS when it is a TLS handshake. The certificate is signed by a
local certificate authority kept in ``<home>/tls/`` (made once, on first use); clients trust it
through ``AWS_CA_BUNDLE`` (boto3, the aws CLI), which ``crosstrain sandbox env`` and every worker
the sandbox starts carry.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
import ssl
import threading
from pathlib import Path

from werkzeug.serving import ThreadedWSGIServer

from crosstrain.sandbox.core.hosts import LOCALSTACK_DOMAIN

SECURE_TRANSPORT_ENV = "CROSSTRAIN_SECURE_TRANSPORT"
CA_FILE = "ca.pem"
NAMES = (
    "localhost",
    LOCALSTACK_DOMAIN,
    f"*.{LOCALSTACK_DOMAIN}",
    f"s3.{LOCALSTACK_DOMAIN}",
    f"*.s3.{LOCALSTACK_DOMAIN}",
    f"*.execute-api.{LOCALSTACK_DOMAIN}",
)
_TLS_HANDSHAKE = b"\x16"
_lock = threading.Lock()


def tls_only() -> bool:
    """``CROSSTRAIN_SECURE_TRANSPORT=tls-only``: only HTTPS counts as secure transport (bucket
    policies' ``aws:SecureTransport``), so the sandbox's own workers call it over HTTPS."""
    return os.environ.get(SECURE_TRANSPORT_ENV, "").strip().lower() == "tls-only"


def ca_bundle(tls_dir: Path) -> Path:
    """The local CA certificate clients should trust (made on first use)."""
    _ensure_ca(tls_dir)
    return tls_dir / CA_FILE


def _new_key():
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _certificate(subject: str, key, issuer_name, issuer_key, *, ca: bool, names=()):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=825 if not ca else 3650))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if names:
        alternatives = [x509.DNSName(n) for n in names] + [
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1")),
        ]
        builder = builder.add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


def _write(path: Path, data: bytes, private: bool = False) -> None:
    staging = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
    staging.write_bytes(data)
    if private:
        staging.chmod(0o600)
    staging.replace(path)


def _ensure_ca(tls_dir: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    with _lock:
        if (tls_dir / CA_FILE).exists() and (tls_dir / "ca.key").exists():
            return
        tls_dir.mkdir(parents=True, exist_ok=True)
        key = _new_key()
        cert = _certificate("crosstrain local sandbox CA", key, None, None, ca=True)
        _write(tls_dir / "ca.key", _pem_key(key), private=True)
        _write(tls_dir / CA_FILE, cert.public_bytes(serialization.Encoding.PEM))


def server_context(tls_dir: Path) -> ssl.SSLContext:
    """A TLS context with a fresh certificate for the sandbox's names, signed by the local CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    _ensure_ca(tls_dir)
    ca_cert = x509.load_pem_x509_certificate((tls_dir / CA_FILE).read_bytes())
    ca_key = serialization.load_pem_private_key((tls_dir / "ca.key").read_bytes(), None)
    key = _new_key()
    cert = _certificate("localhost", key, ca_cert.subject, ca_key, ca=False, names=NAMES)
    leaf = tls_dir / f"server-{os.getpid()}.pem"
    _write(leaf, _pem_key(key) + cert.public_bytes(serialization.Encoding.PEM), private=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(leaf)
    leaf.unlink()
    return context


class DualProtocolServer(ThreadedWSGIServer):
    """werkzeug's threaded server, answering HTTP and HTTPS on the same port.

    The first byte of each connection decides (``0x16`` opens a TLS handshake); the TLS context
    is made on the first HTTPS connection, so a sandbox nobody reaches over HTTPS pays nothing.
    """

    tls_dir: Path | None = None
    _context: ssl.SSLContext | None = None

    def tls_context(self) -> ssl.SSLContext | None:
        if self.tls_dir is None:
            return None
        with _lock:
            context = self._context
        if context is None:
            context = server_context(self.tls_dir)
            with _lock:
                self._context = context
        return context

    def finish_request(self, request, client_address) -> None:
        try:
            request.settimeout(30)
            first = request.recv(1, socket.MSG_PEEK)
            request.settimeout(None)
        except OSError:
            return
        context = self.tls_context() if first == _TLS_HANDSHAKE else None
        if context is None:
            super().finish_request(request, client_address)
            return
        try:
            secure = context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # a client that does not trust us, or gave up: nothing to answer
        try:
            super().finish_request(secure, client_address)
        finally:
            self.shutdown_request(secure)


def scheme_of(connection) -> str:
    """``https`` for a connection :class:`DualProtocolServer` wrapped in TLS, else ``http``."""
    return "https" if isinstance(connection, ssl.SSLSocket) else "http"
