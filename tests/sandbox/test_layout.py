"""The sandbox's own arrows: services build on core, core never imports a service (the server
loads runtimes by name), and every service lives in its own package under ``services/``."""

from __future__ import annotations

import ast
from pathlib import Path

import crosstrain.sandbox

SANDBOX = Path(crosstrain.sandbox.__file__).parent


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_core_never_imports_a_service():
    offenders = {
        f"{path.relative_to(SANDBOX)}: {name}"
        for path in (SANDBOX / "core").rglob("*.py")
        for name in imports_of(path)
        if name.startswith("crosstrain.sandbox.services")
    }
    assert offenders == set()


def test_only_core_and_services_under_the_sandbox():
    loose = sorted(p.name for p in SANDBOX.glob("*.py") if p.name != "__init__.py")
    folders = sorted(p.name for p in SANDBOX.iterdir() if p.is_dir() and p.name != "__pycache__")
    assert (loose, folders) == ([], ["core", "services"])


def test_every_registered_runtime_is_a_service_package():
    from crosstrain.sandbox.core.server import RUNTIMES

    for spec in RUNTIMES:
        module = spec.split(":")[0]
        assert module.startswith("crosstrain.sandbox.services."), spec
        package = SANDBOX / "services" / module.split(".")[3]
        assert (package / "__init__.py").exists(), spec
