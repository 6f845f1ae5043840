"""DESIGN's arrows hold: web -> grading -> labs -> sandbox, never backwards; importing a room
loads no content and no heavy library (nothing happens at import time)."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import crosstrain

PACKAGE = Path(crosstrain.__file__).parent
# room -> rooms it must never import
FORBIDDEN = {
    "sandbox": ("labs", "grading", "web", "datasets"),
    "labs": ("grading", "web"),
    "grading": ("web",),
    "datasets": ("sandbox", "labs", "grading", "web"),
}
# room -> libraries its modules must not load at import time
HEAVY = {
    "labs": ("nbgrader", "boto3", "crosstrain_content"),
    "grading": ("nbgrader", "boto3", "matplotlib", "nbclient", "moto", "crosstrain_content"),
}


def imported_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_room_never_imports_against_the_arrows(room):
    banned = tuple(f"crosstrain.{other}" for other in FORBIDDEN[room])
    offenders = {
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in (PACKAGE / room).rglob("*.py")
        for name in imported_names(path)
        if name.startswith(banned)
    }
    assert offenders == set()


@pytest.mark.parametrize("room", sorted(HEAVY))
def test_importing_a_room_loads_nothing_heavy(room):
    modules = [
        f"crosstrain.{room}.{p.stem}" for p in (PACKAGE / room).glob("*.py") if p.stem != "__init__"
    ]
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY[room]!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
