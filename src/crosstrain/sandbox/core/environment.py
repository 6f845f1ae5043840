"""The environment every process the sandbox starts (Lambda and endpoint workers, training
scripts) gets, so its AWS clients reach this sandbox, and only it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crosstrain.sandbox.core.tls import tls_only

if TYPE_CHECKING:
    from crosstrain.sandbox.core.router import Router


def worker_env(
    router: Router, role_arn: str | None = None, service: str = "", session: str = "worker"
) -> dict[str, str]:
    """The endpoint, the admin key, LocalStack's variables and the local CA for HTTPS (the
    endpoint is ``https://`` when only TLS counts as secure transport, see :func:`tls_only`);
    under ``--enforce-iam`` a worker given its ``role_arn`` (assumed by ``service``) calls
    with the role's credentials instead of the admin key (:func:`roles.role_env`)."""
    scheme, _, address = router.endpoint_url.partition("://")
    host, _, port = address.rpartition(":")
    if tls_only() and router.settings.get("ca_bundle"):
        scheme = "https"
    env = {
        "AWS_ENDPOINT_URL": f"{scheme}://{address}",
        "AWS_ACCESS_KEY_ID": router.admin_access_key,
        "AWS_SECRET_ACCESS_KEY": router.admin_access_key,
        "LOCALSTACK_HOSTNAME": host,
        "EDGE_PORT": port,
    }
    if router.settings.get("ca_bundle"):
        env["AWS_CA_BUNDLE"] = router.settings["ca_bundle"]
    if service:
        from crosstrain.sandbox.core.roles import role_env

        env.update(role_env(router, role_arn, service, session))
    return env
