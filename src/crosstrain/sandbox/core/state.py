"""Persistence of the sandbox's moto state: one snapshot file per AWS service.

moto keeps everything in memory. In learner mode the sandbox pickles each service's backends
(``moto.backends.get_backend(name)``) to ``<state_dir>/moto/<service>.pkl`` shortly after a call
changed it, and restores them at start. Writes are atomic (temporary file, fsync, rename), so a
crash loses at most the changes of the last debounce window and never leaves a torn file. A file
that cannot be read back is moved aside to ``<state_dir>/corrupt/`` (never deleted) and that
service starts empty.
"""

from __future__ import annotations

import copyreg
import functools
import io
import logging
import os
import pickle
import threading
import time
import weakref
from collections import ChainMap
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("crosstrain.sandbox.core.state")

FORMAT = 1
DEBOUNCE_SECONDS = 0.05


def _load_private_key(pem: bytes):
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(pem, password=None)


def _reduce_private_key(key):
    from cryptography.hazmat.primitives import serialization

    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return _load_private_key, (pem,)


def _dead_ref():
    return None


def _make_ref(target):
    """A weak reference to ``target`` (which the same pickle keeps alive if anything else does)."""
    return _dead_ref if target is None else weakref.ref(target)


def _rebuild_instance(cls, state, items):
    """Recreate a dict subclass whose ``__init__`` needs arguments (moto's ``ParameterDict``)."""
    obj = cls.__new__(cls)
    if hasattr(obj, "default_factory"):
        obj.default_factory = state.pop("__default_factory__", None)
    obj.__dict__.update(state)
    dict.update(obj, items)
    return obj


def _reduce_defaultdict_subclass(obj):
    state = dict(obj.__dict__)
    state["__default_factory__"] = obj.default_factory
    return _rebuild_instance, (type(obj), state, dict(obj))


@functools.cache
def _dispatch_table() -> dict:
    """Reducers for the objects moto keeps that the standard pickler refuses."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    table = dict(copyreg.dispatch_table)
    table[type(threading.Lock())] = lambda _: (threading.Lock, ())
    table[type(threading.RLock())] = lambda _: (threading.RLock, ())
    table[threading.Condition] = lambda _: (threading.Condition, ())
    table[threading.Event] = lambda _: (threading.Event, ())
    table[weakref.ReferenceType] = lambda ref: (_make_ref, (ref(),))
    table[weakref.WeakValueDictionary] = lambda d: (weakref.WeakValueDictionary, (dict(d),))
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    table[type(rsa_key)] = _reduce_private_key
    table[type(ec.generate_private_key(ec.SECP256R1()))] = _reduce_private_key
    try:
        from moto.ssm.models import ParameterDict

        table[ParameterDict] = _reduce_defaultdict_subclass
    except ImportError:  # pragma: no cover - moto without ssm
        pass
    return table


@functools.cache
def _pickler_class():
    import cloudpickle

    class StatePickler(cloudpickle.Pickler):
        # The C pickler reads dispatch_table when it is created: it must be a class attribute.
        dispatch_table = ChainMap(_dispatch_table(), cloudpickle.Pickler.dispatch_table)

    return StatePickler


def dumps(obj) -> bytes:
    """Pickle ``obj`` with the reducers moto needs (cloudpickle handles lambdas in defaultdicts)."""
    buffer = io.BytesIO()
    _pickler_class()(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buffer.getvalue()


def _moto_version() -> str:
    from importlib.metadata import version

    return version("moto")


@dataclass
class Restored:
    """What :meth:`StateStore.restore` found: services restored and files moved aside."""

    services: list[str] = field(default_factory=list)
    moved_aside: list[tuple[str, str, str]] = field(default_factory=list)  # (file, to, reason)

    def messages(self) -> list[str]:
        return [
            f"state file {src} could not be read ({why}); moved it to {dst} and started "
            f"{Path(src).stem} empty"
            for src, dst, why in self.moved_aside
        ]


def _backends(service: str):
    """moto's backends of ``service``: Step Functions lives in moto's executing backend (the
    sandbox always runs executions), which ``get_backend`` does not return."""
    if service == "stepfunctions":
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        return stepfunctions_parser_backends
    from moto.backends import get_backend

    return get_backend(service)


def backend_regions(service: str) -> dict[str, dict[str, object]]:
    """The plain ``{account: {region: backend}}`` view of one moto service."""
    return {account: dict(regions) for account, regions in _backends(service).items()}


def install_regions(service: str, data: dict[str, dict[str, object]]) -> None:
    """Put restored backends into moto's registry for ``service``."""
    backend_dict = _backends(service)
    for account, regions in data.items():
        account_backends = backend_dict[account]  # creates and registers the account entry
        for region, backend in regions.items():
            dict.__setitem__(account_backends, region, backend)


class StateStore:
    """Snapshots dirty moto services to disk in the background; restores them at start.

    ``lock`` is the lock the router holds while moto handles a request, so a snapshot never
    sees a half-applied change.
    """

    def __init__(self, state_dir: Path, lock: threading.RLock, debounce: float = DEBOUNCE_SECONDS):
        self.dir = Path(state_dir) / "moto"
        self.corrupt_dir = Path(state_dir) / "corrupt"
        self.lock = lock
        self.debounce = debounce
        self.dir.mkdir(parents=True, exist_ok=True)
        self._dirty: set[str] = set()
        self._known: set[str] = set()
        self._cond = threading.Condition()
        self._stop = False
        self.generation = 0  # bumped after every successful flush
        self.errors: dict[str, str] = {}  # service -> why it could not be written
        self._thread: threading.Thread | None = None

    # -- restore -------------------------------------------------------------------------------
    def restore(self) -> Restored:
        """Load every service snapshot; move unreadable ones aside."""
        result = Restored()
        meta = self.dir / "meta.txt"
        expected = f"format={FORMAT} moto={_moto_version()}"
        files = sorted(self.dir.glob("*.pkl"))
        if files and meta.exists() and meta.read_text().strip() != expected:
            for path in files:
                self._move_aside(path, f"written by {meta.read_text().strip()}", result)
            files = []
        meta.write_text(expected + "\n")
        for path in files:
            service = path.stem
            try:
                data = pickle.loads(path.read_bytes())
                if not isinstance(data, dict):
                    raise TypeError("not a service snapshot")
                install_regions(service, data)
            except Exception as exc:  # noqa: BLE001 - any unreadable file is moved aside
                self._move_aside(path, f"{type(exc).__name__}: {exc}"[:200], result)
                continue
            self._known.add(service)
            result.services.append(service)
        return result

    def _move_aside(self, path: Path, why: str, result: Restored) -> None:
        self.corrupt_dir.mkdir(parents=True, exist_ok=True)
        target = self.corrupt_dir / f"{path.name}.{time.strftime('%Y%m%dT%H%M%S')}"
        os.replace(path, target)
        log.warning("state file %s unreadable (%s); moved to %s", path, why, target)
        result.moved_aside.append((str(path), str(target), why))

    # -- snapshot ------------------------------------------------------------------------------
    def mark_dirty(self, services: Iterable[str]) -> None:
        with self._cond:
            self._dirty.update(services)
            self._known.update(services)
            self._cond.notify()

    def mark_all_dirty(self) -> None:
        self.mark_dirty(set(self._known))

    @property
    def known(self) -> set[str]:
        return set(self._known)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="state-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._dirty and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
            time.sleep(self.debounce)  # gather a burst of calls into one write
            self.flush()

    def flush(self) -> None:
        """Write every dirty service now."""
        with self._cond:
            dirty, self._dirty = self._dirty, set()
        for service in sorted(dirty):
            try:
                with self.lock:
                    data = dumps(backend_regions(service))
                self._write(service, data)
                self.errors.pop(service, None)
            except Exception as exc:  # noqa: BLE001 - keep serving; report in health
                self.errors[service] = f"{type(exc).__name__}: {exc}"
                log.warning("could not persist %s: %s", service, exc)
        with self._cond:
            self.generation += 1
            self._cond.notify_all()

    def _write(self, service: str, data: bytes) -> None:
        path = self.dir / f"{service}.pkl"
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def pending(self) -> bool:
        with self._cond:
            return bool(self._dirty)

    def clear(self) -> None:
        """Forget every snapshot (``reset``)."""
        with self._cond:
            self._dirty.clear()
            self._known.clear()
        for path in self.dir.glob("*.pkl"):
            path.unlink(missing_ok=True)

    def close(self) -> None:
        """Stop the writer after a final flush."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread:
            self._thread.join(timeout=5)
        self.flush()
