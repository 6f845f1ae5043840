"""Find labs in the content folders and resolve names the user typed.

A lab ``NN-slug`` lives in four places under the content root: ``labs/``, ``solutions/``,
``graders/`` and ``docs/labs/NN-slug.md``.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import sys
import threading
import traceback
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType

from crosstrain.errors import CrosstrainError
from crosstrain.labs.manifest import Manifest, Step, load_manifest


def content_root() -> Path:
    """The folder holding ``labs/``: ``CROSSTRAIN_CONTENT_DIR``, else the package's checkout."""
    from crosstrain.settings import settings

    configured = settings().content_dir
    root = configured if configured else Path(__file__).resolve().parents[3]
    if not (root / "labs").is_dir():
        where = "CROSSTRAIN_CONTENT_DIR" if configured else "the crosstrain checkout"
        raise CrosstrainError(
            f"no labs/ folder in {root} ({where}); set CROSSTRAIN_CONTENT_DIR to the folder "
            "that holds labs/, solutions/ and graders/"
        )
    return root.resolve()


@dataclass(frozen=True)
class Lab:
    """One lab and the paths of its four places."""

    root: Path
    slug: str

    @property
    def lab_dir(self) -> Path:
        return self.root / "labs" / self.slug

    @property
    def solution_dir(self) -> Path:
        return self.root / "solutions" / self.slug

    @property
    def grader_dir(self) -> Path:
        return self.root / "graders" / self.slug

    @property
    def doc_page(self) -> Path:
        return self.root / "docs" / "labs" / f"{self.slug}.md"

    @cached_property
    def manifest(self) -> Manifest:
        return load_manifest(self.lab_dir / "lab.yaml")

    def step(self, step_id: str) -> Step:
        """The step named ``step_id``; an unknown name gives the closest valid ones."""
        try:
            return self.manifest.step(step_id)
        except KeyError:
            raise CrosstrainError(
                unknown("step", step_id, self.manifest.step_ids, f"in lab {self.slug}")
            ) from None


def unknown(kind: str, name: str, valid: list[str], where: str = "") -> str:
    """``unknown lab 'x'; did you mean: a, b?`` (all valid names when none is close)."""
    close = difflib.get_close_matches(name, valid, n=3, cutoff=0.5)
    where = f" {where}" if where else ""
    if close:
        return f"unknown {kind} {name!r}{where}; did you mean: {', '.join(close)}?"
    return f"unknown {kind} {name!r}{where}; valid {kind}s: {', '.join(valid) or 'none'}"


def lab_slugs(root: Path | None = None) -> list[str]:
    root = root or content_root()
    return sorted(p.parent.name for p in (root / "labs").glob("*/lab.yaml"))


def list_labs(track: str | None = None, root: Path | None = None) -> list[Lab]:
    """Every lab in number order, optionally only those of ``track``."""
    root = root or content_root()
    labs = [Lab(root, slug) for slug in lab_slugs(root)]
    if track:
        labs = [lab for lab in labs if track in lab.manifest.tracks]
    return labs


def get_lab(name: str, root: Path | None = None) -> Lab:
    """The lab called ``name`` (its full slug or just its number, e.g. ``00``)."""
    root = root or content_root()
    slugs = lab_slugs(root)
    if name in slugs:
        return Lab(root, name)
    by_number = [slug for slug in slugs if slug.split("-", 1)[0] == name]
    if len(by_number) == 1:
        return Lab(root, by_number[0])
    raise CrosstrainError(unknown("lab", name, slugs) + " (see `crosstrain lab list`)")


_LOADING = threading.RLock()  # content may load content (a misconception its cases)


def load_module(path: Path) -> ModuleType:
    """Execute the content file ``path`` as a fresh module (graders, solves, misconceptions).

    Content is loaded by path each time it runs, never found on ``sys.path``, so the learner's
    workspace cannot shadow it and edits are picked up. Its folder is a package of its own: a
    grader may split its checks into sibling modules and import them relatively
    (``from .scoring import score``); only that folder is searched, and siblings are loaded
    afresh with it.
    """
    if not path.is_file():
        raise CrosstrainError(f"{path} is missing; `crosstrain author new` shows the layout")
    folder = path.parent.resolve()
    package = f"crosstrain_content_{hashlib.sha1(str(folder).encode()).hexdigest()[:10]}"
    name = f"{package}.{path.stem}"
    with _LOADING:
        for loaded in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
            del sys.modules[loaded]  # the previous load's siblings: edits are picked up
        sys.modules[package] = _folder_package(package, folder)
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses and pickling look their module up here
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            sys.modules.pop(name, None)
            frames = traceback.extract_tb(exc.__traceback__)
            files = {str(path), *(str(p) for p in folder.glob("*.py"))}
            lines = [f"{f.filename}:{f.lineno}" for f in frames if f.filename in files]
            where = lines[-1] if lines else str(path)
            raise CrosstrainError(f"{where} failed to load: {type(exc).__name__}: {exc}") from None
    return module


def _folder_package(name: str, folder: Path) -> ModuleType:
    """An empty package whose only search path is ``folder`` (for relative imports)."""
    package = ModuleType(name)
    package.__path__ = [str(folder)]
    package.__package__ = name
    package.__file__ = None
    return package
