"""DESIGN's arrows hold: cli -> web -> workshop -> grading -> labs -> sandbox, never backwards;
every module is in a room; importing a room loads no content and no heavy library.

``docs/reference/architecture.md`` draws the same rooms; change both together.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import crosstrain

PACKAGE = Path(crosstrain.__file__).parent

# Shared by every room: the package's version, the one user-error type and the settings.
BASE = {"__init__", "errors", "settings"}
# room -> the other rooms it may import (besides BASE). A module in no room fails the test.
ALLOWED: dict[str, set[str]] = {
    "__init__": set(),
    "errors": set(),
    "settings": {"errors"},
    "datasets": set(),
    "sandbox": set(),
    "labs": {"sandbox", "datasets"},
    "grading": {"labs", "sandbox", "datasets"},
    "workshop": {"grading", "labs", "sandbox", "datasets"},
    "web": {"workshop", "grading", "labs", "sandbox", "datasets"},
    "cli": {"web", "workshop", "grading", "labs", "sandbox", "datasets"},
    # Build time only (mkdocs loads it by path); it documents the CLI, so it sits above it.
    "site_build": {"cli", "web", "workshop", "grading", "labs", "sandbox", "datasets"},
}
# room -> libraries its modules must not load at import time
HEAVY = {
    "labs": ("nbgrader", "boto3", "crosstrain_content"),
    "grading": ("nbgrader", "boto3", "matplotlib", "nbclient", "moto", "crosstrain_content"),
    "cli": ("boto3", "moto", "nbgrader", "torch", "sklearn", "pandas", "starlette", "mkdocs"),
}


def room_of(package: Path, path: Path) -> str:
    """The room of the module at ``path``: its first folder, or its name for a top module."""
    first = path.relative_to(package).parts[0]
    return first.removesuffix(".py")


def crosstrain_imports(package: Path, path: Path) -> set[str]:
    """Every ``crosstrain...`` module ``path`` imports anywhere in it (relative ones resolved)."""
    parts = ("crosstrain", *path.relative_to(package).parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            # `from crosstrain import datasets` imports the datasets room, not the package root
            for alias in node.names:
                sub = f"{base}.{alias.name}".split(".")[1:]
                is_module = sub and (
                    (package.joinpath(*sub)).is_dir()
                    or package.joinpath(*sub[:-1], f"{sub[-1]}.py").is_file()
                )
                found.add(f"{base}.{alias.name}" if is_module else base)
    return {name for name in found if name == "crosstrain" or name.startswith("crosstrain.")}


def target_room(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def layering_problems(package: Path) -> list[str]:
    """Every module in no room and every import against the arrows, one line each."""
    problems = []
    for path in sorted(package.rglob("*.py")):
        where = path.relative_to(package)
        room = room_of(package, path)
        if room not in ALLOWED:
            problems.append(f"{where}: in no room (add it to a room, or a room to ALLOWED)")
            continue
        for name in sorted(crosstrain_imports(package, path)):
            other = target_room(name)
            if other != room and other not in ALLOWED[room] | BASE:
                problems.append(f"{where}: {room} must not import {name}")
    return problems


def test_every_module_is_in_a_room_and_no_import_goes_against_the_arrows():
    assert layering_problems(PACKAGE) == []


def test_a_planted_back_arrow_and_a_module_in_no_room_are_caught(tmp_path):
    package = tmp_path / "crosstrain"
    for rel, text in {
        "sandbox/__init__.py": "",
        "sandbox/core/router.py": "from crosstrain.labs.checks import check\n",
        "sandbox/core/state.py": "def f():\n    from ...web import app\n",
        "labs/__init__.py": "from crosstrain import grading\n",
        "labs/fine.py": "from crosstrain.sandbox import core\nfrom . import __init__\n",
        "web/__init__.py": "",
        "grading/__init__.py": "",
        "stray.py": "",
    }.items():
        (package / rel).parent.mkdir(parents=True, exist_ok=True)
        (package / rel).write_text(text)
    assert layering_problems(package) == [
        "labs/__init__.py: labs must not import crosstrain.grading",
        "sandbox/core/router.py: sandbox must not import crosstrain.labs.checks",
        "sandbox/core/state.py: sandbox must not import crosstrain.web",
        "stray.py: in no room (add it to a room, or a room to ALLOWED)",
    ]


def test_the_sandbox_knows_nothing_of_labs_and_labs_nothing_of_grading():
    """DESIGN's two sentences, stated directly so a loosened ALLOWED cannot drop them."""
    assert not {"labs", "grading", "workshop", "web", "cli"} & ALLOWED["sandbox"]
    assert not {"grading", "workshop", "web", "cli"} & ALLOWED["labs"]
    assert "cli" not in ALLOWED["web"]


@pytest.mark.parametrize("room", sorted(HEAVY))
def test_importing_a_room_loads_nothing_heavy(room):
    modules = sorted(
        "crosstrain." + ".".join(p.relative_to(PACKAGE).with_suffix("").parts)
        for p in (PACKAGE / room).rglob("*.py")
        if p.stem not in ("__init__", "__main__")
    )
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY[room]!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
