"""The local cloud: moto's control plane plus crosstrain's data plane, one process per sandbox.

Public API: :func:`start`, :func:`connect` and :class:`Sandbox`.
"""

from crosstrain.sandbox.handle import Sandbox, SandboxError, start

__all__ = ["Sandbox", "SandboxError", "start", "connect"]


def connect(port: int | None = None) -> Sandbox:
    """A handle on the sandbox crosstrain is configured to use (see ``crosstrain sandbox up``)."""
    from crosstrain.sandbox.lifecycle import connect as _connect

    return _connect(port)
