"""Solves: one per step, moving state from "previous step done" to "this step done".

``solutions/NN-slug/solve.py`` registers them::

    from crosstrain.labs.solves import solve, teardown

    @solve("deploy-function", files=["function/handler.py"])
    def deploy_function(ctx):
        ctx.write("function/handler.py", ctx.solution_file("function/handler.py").read_text())
        ...

    @teardown
    def remove_everything(ctx): ...   # deletes the lab's sandbox resources (used by reset)

A solve may write only the workspace files it declares, so Skip can ask before touching the
learner's changes and back them up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from crosstrain.errors import CrosstrainError
from crosstrain.labs.catalog import Lab, load_module
from crosstrain.labs.workspace import backup, changed_files

if TYPE_CHECKING:
    from crosstrain.sandbox import Sandbox


@dataclass(frozen=True)
class SolveSpec:
    fn: Callable
    step: str
    files: tuple[str, ...]


def solve(step: str, files: list[str] | tuple[str, ...] = ()):
    """Register the decorated function as the solve of ``step``, writing ``files``."""

    def register(fn):
        fn.crosstrain_solve = SolveSpec(fn, step, tuple(files))
        return fn

    return register


def teardown(fn):
    """Register the function that removes the lab's sandbox resources."""
    fn.crosstrain_teardown = True
    return fn


@dataclass
class SolveContext:
    """What a solve receives: the sandbox's clients, the workspace and the reference solution."""

    lab: Lab
    sandbox: Sandbox
    workspace: Path
    allowed: tuple[str, ...] | None = ()  # None: any file (misconception cases)
    _clients: dict = field(default_factory=dict, repr=False)

    @property
    def manifest(self):
        return self.lab.manifest

    def client(self, service: str):
        if service not in self._clients:
            self._clients[service] = self.sandbox.client(service)
        return self._clients[service]

    def solution_file(self, rel: str) -> Path:
        return self.lab.solution_dir / rel

    def starter_file(self, rel: str) -> Path:
        return self.lab.lab_dir / rel

    def write(self, rel: str, data: str | bytes) -> Path:
        """Write a workspace file this solve declared in ``files=``."""
        if self.allowed is not None and rel not in self.allowed:
            raise CrosstrainError(
                f"solve wrote {rel!r} without declaring it; add it to @solve(..., files=[...])"
            )
        path = self.workspace / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data)
        return path


@dataclass
class Solves:
    path: Path
    steps: dict[str, SolveSpec]
    teardown: Callable

    def upto(self, lab: Lab, step: str | None) -> list[SolveSpec]:
        """The solves of the steps up to and including ``step`` (all when ``None``)."""
        ids = lab.manifest.step_ids
        last = ids.index(step) if step else len(ids) - 1
        return [self.steps[i] for i in ids[: last + 1]]

    def before(self, lab: Lab, step: str) -> list[SolveSpec]:
        ids = lab.manifest.step_ids
        return [self.steps[i] for i in ids[: ids.index(step)]]


def load_solves(lab: Lab) -> Solves:
    """The solves in ``solutions/<lab>/solve.py``: exactly one per step, and a teardown."""
    path = lab.solution_dir / "solve.py"
    module = load_module(path)
    found: dict[str, SolveSpec] = {}
    cleanup = None
    for value in vars(module).values():
        spec = getattr(value, "crosstrain_solve", None)
        if spec is not None:
            if spec.step in found:
                raise CrosstrainError(f"{path}: step {spec.step!r} has two solves; keep one")
            found[spec.step] = spec
        if getattr(value, "crosstrain_teardown", False):
            cleanup = value
    steps = lab.manifest.step_ids
    missing = [s for s in steps if s not in found]
    extra = [s for s in found if s not in steps]
    if missing:
        raise CrosstrainError(f"{path}: no solve for step(s) {', '.join(missing)}; add @solve")
    if extra:
        raise CrosstrainError(f"{path}: solves name unknown step(s) {', '.join(extra)}")
    if cleanup is None:
        raise CrosstrainError(f"{path}: no @teardown; add one that deletes the lab's resources")
    return Solves(path, found, cleanup)


def run_solve(spec: SolveSpec, lab: Lab, sandbox: Sandbox, workspace: Path) -> None:
    ctx = SolveContext(lab, sandbox, workspace, allowed=spec.files)
    try:
        spec.fn(ctx)
    except CrosstrainError:
        raise
    except Exception as exc:
        raise CrosstrainError(
            f"the solve for step {spec.step!r} failed ({type(exc).__name__}: {exc}); "
            f"run `crosstrain lab reset {lab.slug}` and try again"
        ) from None


def run_teardown(lab: Lab, sandbox: Sandbox, workspace: Path, solves: Solves | None = None):
    solves = solves or load_solves(lab)
    try:
        solves.teardown(SolveContext(lab, sandbox, workspace))
    except Exception as exc:
        raise CrosstrainError(
            f"removing the resources of {lab.slug} failed ({type(exc).__name__}: {exc}); "
            "`crosstrain sandbox reset` clears the whole sandbox"
        ) from None


@dataclass
class SkipResult:
    steps: list[str]
    changed: list[str]
    backup: Path | None


def skip(
    lab: Lab,
    step: str,
    sandbox: Sandbox,
    workspace: Path,
    confirm: Callable[[list[str]], bool] = lambda files: False,
) -> SkipResult:
    """Run the solves up to and including ``step``.

    Workspace files the learner changed that a solve would overwrite are listed to ``confirm``
    first; if it declines nothing happens. Those files are backed up before they are replaced.
    """
    lab.step(step)
    specs = load_solves(lab).upto(lab, step)
    touched = sorted({rel for spec in specs for rel in spec.files})
    changed = changed_files(lab, workspace, touched)
    if changed and not confirm(changed):
        raise CrosstrainError(
            f"nothing skipped: the solves would replace your changes to {', '.join(changed)}; "
            "pass --yes to go ahead (your files are backed up first)"
        )
    saved = backup(workspace, changed)
    for spec in specs:
        run_solve(spec, lab, sandbox, workspace)
    return SkipResult([spec.step for spec in specs], changed, saved)


def skip_lab(
    name: str,
    step: str,
    root: str | Path | None = None,
    confirm: Callable[[list[str]], bool] = lambda files: False,
    sandbox: Sandbox | None = None,
) -> SkipResult:
    """What ``crosstrain lab skip`` does: the solves up to ``step`` in the learner's workspace."""
    from crosstrain.labs import progress, skips
    from crosstrain.labs.catalog import get_lab
    from crosstrain.labs.runner import connect_sandbox
    from crosstrain.labs.workspace import existing_workspace, workspace_root

    lab = get_lab(name)
    lab.step(step)
    workspace = existing_workspace(lab, root)
    done = skip(lab, step, sandbox or connect_sandbox(), workspace, confirm)
    progress.record_skips(workspace_root(root), lab.slug, done.steps)
    skips.record(workspace, done.steps)  # travels with the submission (grading marks them)
    return done


def reset_lab(
    name: str, root: str | Path | None = None, sandbox: Sandbox | None = None
) -> Path | None:
    """What ``crosstrain lab reset`` does: delete the lab's resources, restore the starter.

    The checks then run once so the progress store shows the fresh start. Returns the folder the
    learner's files were backed up to (``None`` if there were none).
    """
    from crosstrain.labs import progress
    from crosstrain.labs.catalog import get_lab
    from crosstrain.labs.runner import connect_sandbox, run_checks
    from crosstrain.labs.workspace import lab_workspace, reset_workspace, workspace_root

    lab = get_lab(name)
    sandbox = sandbox or connect_sandbox()
    run_teardown(lab, sandbox, lab_workspace(lab, root))
    saved = reset_workspace(lab, root)
    progress.clear_skips(workspace_root(root), lab.slug)
    progress.record(workspace_root(root), run_checks(lab, sandbox, lab_workspace(lab, root)))
    return saved
