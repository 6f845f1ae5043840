"""The local cloud: moto's control plane plus crosstrain's data plane, one process per sandbox.

Public API: :func:`start`, :func:`connect`, :class:`Sandbox`, and the modules other rooms use:
``lifecycle`` (the learner's long-lived sandbox: up, down, status, env) and ``ledger`` (what
each service really does). ``core/`` holds the router and process plumbing, ``services/`` one
package per AWS service crosstrain serves itself; both are private to the sandbox.
"""

from types import ModuleType

from crosstrain.sandbox.core.handle import Sandbox, SandboxError, start

__all__ = ["Sandbox", "SandboxError", "start", "connect", "lifecycle", "ledger"]
_MODULES = {"lifecycle", "ledger"}


def connect(port: int | None = None) -> Sandbox:
    """A handle on the sandbox crosstrain is configured to use (see ``crosstrain sandbox up``)."""
    from crosstrain.sandbox.core.lifecycle import connect as _connect

    return _connect(port)


def __getattr__(name: str) -> ModuleType:
    """``lifecycle`` and ``ledger`` load on first use (nothing heavy at import time)."""
    if name in _MODULES:
        import importlib

        return importlib.import_module(f"crosstrain.sandbox.core.{name}")
    raise AttributeError(f"module 'crosstrain.sandbox' has no attribute {name!r}")
