"""The labs room imports neither grading/ nor web/, and loads no content when imported."""

import ast
import subprocess
import sys
from pathlib import Path

import crosstrain.labs

LABS = Path(crosstrain.labs.__file__).parent


def imported_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_labs_never_imports_grading_or_web():
    offenders = {
        f"{path.name}: {name}"
        for path in LABS.glob("*.py")
        for name in imported_names(path)
        if name.startswith(("crosstrain.grading", "crosstrain.web"))
    }
    assert offenders == set()


def test_importing_every_labs_module_loads_no_content():
    modules = [f"crosstrain.labs.{p.stem}" for p in LABS.glob("*.py") if p.stem != "__init__"]
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "bad = [m for m in sys.modules if m.startswith(('crosstrain_content', "
        "'crosstrain.grading', 'crosstrain.web', 'nbgrader', 'boto3'))]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
