"""Unpack a submission (a folder or a zip file) into a fresh folder, safely.

Refused, with a message saying why: path traversal (``../``), absolute paths, symlinks pointing
outside the submission, archive bombs (too large uncompressed or too high a compression ratio),
oversize files, too many files, encrypted or unreadable archives. Sizes are counted while copying,
so an archive that lies about its sizes is caught too.
"""

from __future__ import annotations

import os
import shutil
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from crosstrain.errors import CrosstrainError
from crosstrain.grading.limits import MB, Limits

JUNK = {"__MACOSX", ".DS_Store", "__pycache__", ".ipynb_checkpoints", ".git"}
CHUNK = 1 << 16


class Rejected(CrosstrainError):
    """A submission that cannot be graded safely; ``str(err)`` says why."""


@dataclass
class Unpacked:
    """What landed in the folder: file count, bytes, and notes for the feedback."""

    files: int = 0
    bytes: int = 0
    notes: list[str] = field(default_factory=list)


class _Budget:
    """Counts files and bytes against the limits while a submission is copied."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.out = Unpacked()

    def add_file(self, name: str) -> None:
        self.out.files += 1
        if self.out.files > self.limits.max_files:
            raise Rejected(f"more than {self.limits.max_files} files; submit only your lab files")

    def copy(self, src, dest: Path, name: str) -> None:
        """Stream ``src`` (a binary file object) into ``dest``, enforcing the size caps."""
        written = 0
        file_cap, total_cap = self.limits.max_file_mb * MB, self.limits.max_total_mb * MB
        with open(dest, "wb") as out:
            while chunk := src.read(CHUNK):
                written += len(chunk)
                self.out.bytes += len(chunk)
                if written > file_cap:
                    raise Rejected(f"{name} is larger than {self.limits.max_file_mb} MB")
                if self.out.bytes > total_cap:
                    raise Rejected(f"the submission is larger than {self.limits.max_total_mb} MB")
                out.write(chunk)


def unpack(source: Path, dest: Path, limits: Limits = Limits()) -> Unpacked:
    """Copy the submission at ``source`` (folder or ``.zip``) into the empty folder ``dest``."""
    source = Path(source)
    dest.mkdir(parents=True, exist_ok=True)
    if source.is_symlink():
        raise Rejected(f"{source.name} is a symlink; submit a folder or a zip file")
    if source.is_dir():
        return _copy_folder(source, dest, _Budget(limits))
    if source.is_file() and zipfile.is_zipfile(source):
        return _extract_zip(source, dest, _Budget(limits))
    raise Rejected(f"{source.name} is neither a folder nor a zip file")


def safe_relpath(name: str) -> PurePosixPath:
    """``name`` as a relative path inside the submission, or :class:`Rejected`."""
    posix = name.replace("\\", "/")
    path = PurePosixPath(posix)
    if posix.startswith("/") or (len(posix) > 1 and posix[1] == ":"):
        raise Rejected(f"{name!r} is an absolute path; archives must hold relative paths")
    if ".." in path.parts:
        raise Rejected(f"{name!r} leaves the submission folder (path traversal)")
    return path


def _junk(rel: PurePosixPath) -> bool:
    return bool(JUNK & set(rel.parts))


def _copy_folder(source: Path, dest: Path, budget: _Budget) -> Unpacked:
    root = source.resolve()
    for here, dirs, files in os.walk(source, followlinks=False):
        here_path = Path(here)
        for name in [*dirs, *files]:
            path = here_path / name
            rel = PurePosixPath(path.relative_to(source).as_posix())
            if _junk(rel):
                continue
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                target = path.resolve()
                if not target.is_relative_to(root):
                    raise Rejected(f"{rel} is a symlink to {os.readlink(path)}, outside the folder")
                if target.is_file():
                    budget.add_file(str(rel))
                    (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                    with open(target, "rb") as src:
                        budget.copy(src, dest / rel, str(rel))
                else:
                    budget.out.notes.append(f"ignored the symlink {rel}")
            elif stat.S_ISDIR(mode):
                (dest / rel).mkdir(parents=True, exist_ok=True)
            elif stat.S_ISREG(mode):
                budget.add_file(str(rel))
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                with open(path, "rb") as src:
                    budget.copy(src, dest / rel, str(rel))
            else:
                budget.out.notes.append(f"ignored {rel}: not a regular file")
        dirs[:] = [d for d in dirs if d not in JUNK and not (here_path / d).is_symlink()]
    return budget.out


def _extract_zip(source: Path, dest: Path, budget: _Budget) -> Unpacked:
    limits = budget.limits
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise Rejected(f"{source.name} is not a readable zip file ({exc})") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_files * 2:
            raise Rejected(f"more than {limits.max_files} files; submit only your lab files")
        declared = sum(i.file_size for i in infos)
        packed = max(1, sum(i.compress_size for i in infos))
        if declared > limits.max_total_mb * MB:
            raise Rejected(f"the archive unpacks to more than {limits.max_total_mb} MB")
        if declared > 1 * MB and declared / packed > limits.max_ratio:
            raise Rejected(
                f"the archive's compression ratio is {declared // packed}:1 "
                f"(limit {limits.max_ratio}:1): it looks like a zip bomb"
            )
        for info in infos:
            rel = safe_relpath(info.filename)
            if _junk(rel) or not rel.parts:
                continue
            if info.flag_bits & 0x1:
                raise Rejected(f"{info.filename} is encrypted; submit a zip without a password")
            kind = stat.S_IFMT(info.external_attr >> 16)
            if kind == stat.S_IFLNK:
                target = archive.read(info)[:4096].decode(errors="replace")
                inside = PurePosixPath(os.path.normpath(rel.parent / target))
                if target.startswith("/") or inside.parts[:1] == ("..",):
                    raise Rejected(f"{rel} is a symlink to {target}, outside the submission")
                budget.out.notes.append(f"ignored the symlink {rel}")
                continue
            if info.is_dir():
                (dest / rel).mkdir(parents=True, exist_ok=True)
                continue
            budget.add_file(str(rel))
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            try:
                with archive.open(info) as src:
                    budget.copy(src, dest / rel, str(rel))
            except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError) as exc:
                raise Rejected(f"{rel} cannot be extracted ({exc})") from None
    return budget.out


def settle_root(folder: Path, expected: list[str]) -> str | None:
    """Lift the files out of a lone top-level folder (``alice.zip`` → ``alice/...``).

    Done only when none of the ``expected`` files is at the top; returns the folder's name.
    """
    if any((folder / rel).exists() for rel in expected):
        return None
    entries = [p for p in folder.iterdir() if p.name not in JUNK]
    if len(entries) != 1 or not entries[0].is_dir() or entries[0].is_symlink():
        return None
    inner = entries[0]
    holding = folder / f".crosstrain-lift-{os.getpid()}"
    inner.rename(holding)
    for child in holding.iterdir():
        shutil.move(str(child), folder / child.name)
    holding.rmdir()
    return inner.name
