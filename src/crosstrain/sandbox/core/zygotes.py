"""Which zygotes run, what they preload, and which one a new worker forks from.

A cold start in a blank process pays for Python's start-up, then for every import the code does
(``import sklearn.linear_model`` alone is about a second). Workers fork instead from a
:class:`~crosstrain.sandbox.core.zygote.Zygote` that has those imports done, then receive the
same setup frame as a blank worker (environment, folder, output file, memory limit, code), so
isolation is unchanged; whatever a worker imports or changes stays in its own copy.

*Families*: a zygote serves the workers whose environment agrees on the variables libraries read
at import time (:data:`IMPORT_SENSITIVE`: thread counts and the like); at most
:data:`MAX_FAMILIES`. Each family has up to two zygotes: a *light* one (Python and crosstrain's own
factory files, e.g. the Lambda bootstrap) and, once deployed code was seen to import them, a
*heavy* one that also preloads the packages that code imported
(:data:`~crosstrain.sandbox.core.worker_process.PRELOADABLE`: numpy, pandas, scikit-learn,
joblib, torch, ...; at most :data:`MAX_PRELOAD` packages). Forking a light zygote is cheaper, so a
worker forks from the heavy one only when its code needs it: it was seen to import one of those
packages, or a ``.py`` file at the top of its code folder imports one. What to preload is learned
from what workers report after loading; a zygote whose set grew is rebuilt in the background and
the old one retires (it exits when its last worker has).

A worker starts blank (as before zygotes) when its code folder ships its own copy of a preloaded
package (a vendored numpy, say), while its family's zygotes are being built, and when the
``worker_zygotes`` setting is off (``CROSSTRAIN_WORKER_ZYGOTES=false``).
"""

from __future__ import annotations

import atexit
import os
import re
import threading
from collections.abc import Mapping

from crosstrain.sandbox.core.worker_spawner import spares
from crosstrain.sandbox.core.zygote import ForkedProcess, Zygote, ZygoteGone

IMPORT_SENSITIVE = (
    "OMP_",
    "MKL_",
    "OPENBLAS_",
    "NUMEXPR_",
    "VECLIB_",
    "KMP_",
    "SKLEARN_",
    "JOBLIB_",
    "TORCH_",
    "PYTORCH_",
    "NUMPY_",
    "ARROW_",
)
MAX_PRELOAD = 6  # packages a heavy zygote preloads
MAX_MODULES = 4000  # modules of those packages (what deployed code imported)
MAX_FAMILIES = 3
MAX_FAILURES = 3  # zygotes of one tier that did not start; then that tier is not used
_PACKAGE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))) + os.sep
_SCAN_FILES, _SCAN_BYTES = 50, 1 << 20
LIGHT, HEAVY = "light", "heavy"


class _Family:
    def __init__(self, env: dict[str, str]):
        self.env = env  # the zygotes' environment
        self.modules: list[str] = []
        self.factories: list[str] = []
        self.failed: set[str] = set()
        self.zygotes: dict[str, Zygote | None] = {LIGHT: None, HEAVY: None}
        self.building: set[str] = set()
        self.failures = {LIGHT: 0, HEAVY: 0}

    def wanted(self, tier: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return (tuple(self.modules) if tier == HEAVY else ()), tuple(self.factories)

    def packages(self) -> set[str]:
        return {m.partition(".")[0] for m in self.modules}


def _sensitive(env: Mapping) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in env.items() if k.startswith(IMPORT_SENSITIVE)))


def _own_file(factory: str) -> bool:
    """Factory files of crosstrain's own (side-effect free at import) are preloaded too."""
    return factory.endswith(".py") and factory.startswith(_PACKAGE)


def _shadows(path: tuple[str, ...], packages: tuple[str, ...]) -> bool:
    """Whether the worker's own folders ship one of the preloaded packages."""
    for folder in path:
        for name in packages:
            base = os.path.join(folder, name)
            if os.path.isdir(base) or os.path.exists(base + ".py"):
                return True
    return False


def _imports_any(folder: str, packages: set[str]) -> bool:
    """Whether a ``.py`` file at the top of ``folder`` imports one of ``packages``."""
    names = "|".join(re.escape(p) for p in sorted(packages))
    pattern = re.compile(rf"^\s*(?:import|from)\s+(?:{names})\b", re.MULTILINE)
    try:
        entries = sorted(e for e in os.listdir(folder) if e.endswith(".py"))[:_SCAN_FILES]
    except OSError:
        return False
    for entry in entries:
        try:
            with open(os.path.join(folder, entry), encoding="utf-8", errors="replace") as fh:
                if pattern.search(fh.read(_SCAN_BYTES)):
                    return True
        except OSError:
            continue
    return False


class Zygotes:
    """The families' zygotes: hands out forked workers and learns what to preload."""

    def __init__(self):
        self._lock = threading.Lock()
        self._built = threading.Condition(self._lock)
        self._families: dict[tuple, _Family] = {}
        self._heavy_paths: set[tuple[str, ...]] = set()  # code seen importing preloadables
        self.enabled = True  # the sandbox sets it from the worker_zygotes setting

    def _family(self, env: Mapping | None) -> _Family | None:
        key = _sensitive(os.environ if env is None else env)
        family = self._families.get(key)
        if family is None and len(self._families) < MAX_FAMILIES:
            base = {k: v for k, v in os.environ.items() if not k.startswith(IMPORT_SENSITIVE)}
            family = self._families[key] = _Family({**base, **dict(key)})
        return family

    def _needs_heavy(self, spec, packages: set[str]) -> bool:
        if not spec.path or spec.path in self._heavy_paths:
            return True
        return _imports_any(spec.path[0], packages)

    def process_for(self, spec) -> ForkedProcess | None:
        """A worker forked for ``spec`` (a WorkerSpec), or None: start it blank."""
        if not self.enabled:
            return None
        factory = spec.factory.rpartition(":")[0]
        with self._lock:
            family = self._family(spec.env)
            if family is None:
                return None
            if _own_file(factory) and factory not in family.factories:
                family.factories.append(factory)
            self._build(family, LIGHT)
            packages = family.packages()
            heavy, light = family.zygotes[HEAVY], family.zygotes[LIGHT]
        zygote = light
        if heavy is not None and not heavy.dead and self._needs_heavy(spec, packages):
            zygote = heavy
        if zygote is None or _shadows(spec.path, zygote.packages):
            return None
        try:
            return zygote.fork()
        except ZygoteGone:
            return None

    def learn(self, spec, imports: list[str]) -> None:
        """A worker of ``spec`` imported these preloadable modules: preload them next time."""
        if not self.enabled or not imports:
            return
        with self._lock:
            family = self._family(spec.env)
            if family is None:
                return
            if spec.path:
                if len(self._heavy_paths) > 10_000:
                    self._heavy_paths.clear()
                self._heavy_paths.add(spec.path)
            packages = family.packages()
            known = set(family.modules) | family.failed
            for name in imports:
                top = name.partition(".")[0]
                if name in known or len(family.modules) >= MAX_MODULES:
                    continue
                if top in packages or len(packages) < MAX_PRELOAD:
                    packages.add(top)
                    family.modules.append(name)
            self._build(family, HEAVY)

    def _build(self, family: _Family, tier: str) -> None:  # with self._lock held
        current = family.zygotes[tier]
        if tier in family.building or family.failures[tier] >= MAX_FAILURES:
            return
        if tier == HEAVY and not family.modules:
            return
        alive = current is not None and not current.dead
        if alive and (current.modules, current.factories) == family.wanted(tier):
            return
        family.building.add(tier)
        threading.Thread(
            target=self._run_build, args=(family, tier), name="crosstrain-zygote", daemon=True
        ).start()

    def _run_build(self, family: _Family, tier: str) -> None:
        with self._lock:
            modules, factories = family.wanted(tier)
        try:
            zygote = Zygote(modules, factories, family.env)
        except (ZygoteGone, OSError):
            zygote = None
        with self._lock:
            family.building.discard(tier)
            old = family.zygotes[tier]
            if zygote is None:
                family.failures[tier] += 1
                if old is not None:  # what was added broke it: do not preload that again
                    family.failed.update(set(modules) - set(old.modules))
                    family.modules = [m for m in family.modules if m in old.modules]
            else:
                family.failed.update(zygote.failed)
                family.modules = [m for m in family.modules if m not in family.failed]
                family.factories = [f for f in family.factories if f not in family.failed]
                family.zygotes[tier] = zygote
                self._build(family, tier)  # what was learned while this one was built
            self._built.notify_all()
        if old is not None and zygote is not None:
            old.retire()
        if zygote is not None:  # workers fork now: the blank spare would only hold memory
            spares.close()

    def wait_ready(self, spec, modules: tuple[str, ...] = (), timeout: float = 60.0) -> bool:
        """Wait until ``spec``'s family has its light zygote (with ``spec``'s factory file, if
        crosstrain's) or, when ``modules`` are named, a heavy one preloading those packages."""
        factory = spec.factory.rpartition(":")[0]
        key = _sensitive(os.environ if spec.env is None else spec.env)

        def ready() -> bool:
            family = self._families.get(key)
            zygote = family.zygotes[HEAVY if modules else LIGHT] if family else None
            return (
                zygote is not None
                and not zygote.dead
                and (factory in zygote.factories or not _own_file(factory))
                and set(modules) <= set(zygote.packages)
            )

        with self._built:
            return self._built.wait_for(ready, timeout)

    def preloaded(self) -> dict[str, list[str]]:
        """The packages each family's heavy zygote preloads (for health and tests)."""
        with self._lock:
            return {
                ",".join(f"{k}={v}" for k, v in key) or "default": list(
                    f.zygotes[HEAVY].packages if f.zygotes[HEAVY] else ()
                )
                for key, f in self._families.items()
                if f.zygotes[LIGHT] or f.zygotes[HEAVY]
            }

    def close(self) -> None:
        """Kill every zygote (their workers die with them)."""
        with self._lock:
            found = [z for f in self._families.values() for z in f.zygotes.values() if z]
            self._families.clear()
            self._heavy_paths.clear()
        for zygote in found:
            zygote.kill()


zygotes = Zygotes()
atexit.register(zygotes.close)
