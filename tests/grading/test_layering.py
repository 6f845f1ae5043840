"""The grading room imports labs and sandbox, never web, and does nothing heavy at import."""

import ast
import subprocess
import sys
from pathlib import Path

import crosstrain.grading

GRADING = Path(crosstrain.grading.__file__).parent


def test_grading_never_imports_web():
    offenders = set()
    for path in GRADING.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders |= {f"{path.name}: {n}" for n in names if n.startswith("crosstrain.web")}
    assert offenders == set()


def test_importing_grading_loads_no_heavy_library():
    modules = [f"crosstrain.grading.{p.stem}" for p in GRADING.glob("*.py") if p.stem != "__init__"]
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "print([m for m in sys.modules if m.split('.')[0] in "
        "('nbgrader', 'boto3', 'matplotlib', 'nbclient', 'moto', 'crosstrain_content')])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
