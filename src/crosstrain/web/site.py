"""Build the site with ``mkdocs build --strict`` into a cache folder, only when it is stale.

The site is stale when anything under ``docs/``, ``labs/`` (the manifests feed the pages),
``mkdocs.yml``, or the code that generates pages (the hooks, the CLI, the sandbox ledger) is newer
than the last successful build.
"""

from __future__ import annotations

import io
import logging
import os
import time
from contextlib import redirect_stdout
from pathlib import Path

from crosstrain.errors import CrosstrainError
from crosstrain.settings import settings

STAMP = ".crosstrain-build"
SOURCES = ("docs", "labs", "mkdocs.yml")
PACKAGE = Path(__file__).resolve().parents[1]
GENERATORS = (PACKAGE / "site_build", PACKAGE / "cli", PACKAGE / "sandbox" / "core" / "ledger.py")
SKIPPED = ("__pycache__", ".ipynb_checkpoints")


def default_site_dir() -> Path:
    """``CROSSTRAIN_SITE_DIR``, else ``<crosstrain home>/site`` (see :mod:`crosstrain.settings`)."""
    return settings().built_site_dir


def newest_source(root: Path) -> float:
    """The newest modification time among the site's sources under ``root``."""
    paths = [root / name for name in SOURCES] + list(GENERATORS)
    newest = 0.0
    for path in paths:
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
        elif path.is_dir():
            for dirpath, dirnames, filenames in os.walk(path):
                dirnames[:] = [d for d in dirnames if d not in SKIPPED]
                newest = max(newest, os.stat(dirpath).st_mtime)
                for name in filenames:
                    newest = max(newest, os.stat(os.path.join(dirpath, name)).st_mtime)
    return newest


def is_stale(site_dir: Path, root: Path) -> bool:
    stamp = site_dir / STAMP
    if not stamp.is_file() or not (site_dir / "index.html").is_file():
        return True
    return newest_source(root) > stamp.stat().st_mtime


def build_site(
    site_dir: str | Path | None = None,
    *,
    root: str | Path | None = None,
    config_file: str | Path | None = None,
    force: bool = False,
) -> Path:
    """Build the site into ``site_dir`` if it is stale (or ``force``); return the folder.

    ``root`` is the folder holding ``mkdocs.yml`` (default: the content root). A failed strict
    build raises one :class:`CrosstrainError` with mkdocs' warnings.
    """
    from crosstrain.labs.catalog import content_root

    root = Path(root).resolve() if root else content_root()
    config_file = Path(config_file) if config_file else root / "mkdocs.yml"
    site_dir = Path(site_dir or default_site_dir()).expanduser().resolve()
    if not config_file.is_file():
        raise CrosstrainError(f"no {config_file}; run crosstrain from its checkout")
    if not force and not is_stale(site_dir, root):
        return site_dir
    started = time.time()
    run_mkdocs(config_file, site_dir)
    stamp = site_dir / STAMP
    stamp.write_text(f"built from {config_file}\n")
    os.utime(stamp, (started, started))  # a source saved during the build makes it stale
    return site_dir


class Collect(logging.Handler):
    """Keeps mkdocs' warnings and errors so a failed build can say why."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def run_mkdocs(config_file: Path, site_dir: Path) -> None:
    """``mkdocs build --strict`` through mkdocs' Python API, quietly."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    logger = logging.getLogger("mkdocs")
    collect = Collect()
    logger.addHandler(collect)
    propagate, logger.propagate = logger.propagate, False
    try:
        with redirect_stdout(io.StringIO()):
            config = load_config(str(config_file), site_dir=str(site_dir), strict=True)
            build(config)
    except MkDocsException as err:
        problems = "; ".join(dict.fromkeys([*collect.messages, str(err)]))
        raise CrosstrainError(f"the site does not build: {problems}") from None
    finally:
        logger.removeHandler(collect)
        logger.propagate = propagate
