"""The learner's workspace: ``<root>/NN-slug`` holds a copy of the lab's starter kit.

``start`` never overwrites a learner's file; ``reset`` backs every file up before restoring the
starter. Backups go to ``<root>/.backups/NN-slug-<time>/``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from crosstrain.errors import CrosstrainError
from crosstrain.labs.catalog import Lab

IGNORED = {"lab.yaml", "__pycache__", ".ipynb_checkpoints", ".DS_Store"}


def workspace_root(root: str | Path | None = None) -> Path:
    """Where workspaces live: ``root``, else ``CROSSTRAIN_WORKSPACE``, else ``./workspace``."""
    from crosstrain.settings import settings

    return Path(root or settings().workspace).expanduser().resolve()


def lab_workspace(lab: Lab, root: str | Path | None = None) -> Path:
    return workspace_root(root) / lab.slug


def existing_workspace(lab: Lab, root: str | Path | None = None) -> Path:
    """The lab's workspace, which must exist already."""
    path = lab_workspace(lab, root)
    if not path.is_dir():
        raise CrosstrainError(
            f"no workspace for {lab.slug} at {path}; run `crosstrain lab start {lab.slug}` first "
            "(or pass the --dir you started it with)"
        )
    return path


def starter_files(lab: Lab) -> list[str]:
    """The starter kit's files, relative to ``labs/NN-slug`` (the manifest stays behind)."""
    files = []
    for path in sorted(lab.lab_dir.rglob("*")):
        rel = path.relative_to(lab.lab_dir)
        if path.is_file() and not IGNORED & set(rel.parts):
            files.append(rel.as_posix())
    return files


@dataclass
class StartResult:
    workspace: Path
    copied: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def start_workspace(lab: Lab, root: str | Path | None = None) -> StartResult:
    """Copy the starter into the workspace; files already there are kept as they are."""
    target = lab_workspace(lab, root)
    result = StartResult(target)
    for rel in starter_files(lab):
        dest = target / rel
        if dest.exists():
            result.kept.append(rel)
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(lab.lab_dir / rel, dest)
        result.copied.append(rel)
    target.mkdir(parents=True, exist_ok=True)
    return result


def changed_files(lab: Lab, workspace: Path, rels: list[str] | None = None) -> list[str]:
    """Of ``rels`` (default: the starter's files), those the learner changed or created."""
    changed = []
    for rel in rels if rels is not None else starter_files(lab):
        mine, starter = workspace / rel, lab.lab_dir / rel
        if not mine.is_file():
            continue
        if not starter.is_file() or mine.read_bytes() != starter.read_bytes():
            changed.append(rel)
    return changed


def backup(workspace: Path, rels: list[str]) -> Path | None:
    """Copy ``rels`` from ``workspace`` into a new timestamped backup folder; return it."""
    present = [rel for rel in rels if (workspace / rel).is_file()]
    if not present:
        return None
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    folder = workspace.parent / ".backups" / f"{workspace.name}-{stamp}"
    for rel in present:
        dest = folder / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(workspace / rel, dest)
    return folder


def all_files(workspace: Path) -> list[str]:
    return sorted(
        p.relative_to(workspace).as_posix()
        for p in workspace.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )


def reset_workspace(lab: Lab, root: str | Path | None = None) -> Path | None:
    """Back up every file of the lab's workspace, then restore the untouched starter."""
    target = lab_workspace(lab, root)
    saved = backup(target, all_files(target)) if target.is_dir() else None
    if target.is_dir():
        shutil.rmtree(target)
    start_workspace(lab, root)
    return saved
