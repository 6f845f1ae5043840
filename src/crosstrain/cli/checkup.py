"""The doctor's checks: is this machine ready to run crosstrain? (``crosstrain doctor``).

It looks across every room (packages, the sandbox's and the site's ports, how grading would
isolate learner code), so it lives at the top, in the CLI's room, as the Python API the
``doctor`` command calls.
"""

from __future__ import annotations

import importlib
import json
import shutil
import sys
import urllib.request
from dataclasses import asdict, dataclass

from crosstrain.sandbox.core.ports import port_holder, port_is_free

KEY_PACKAGES = (
    "boto3",
    "moto",
    "sklearn",
    "torch",
    "pandas",
    "pyarrow",
    "duckdb",
    "nbclient",
    "nbgrader",
    "jupyterlab",
    "mkdocs",
    "starlette",
    "uvicorn",
)
# Libraries only some labs use (the `labs` extra): missing, those labs cannot run, the rest can.
LAB_PACKAGES = {"optuna": "13-model-selection"}
CHROMIUM_PATHS = ("chromium", "chromium-browser", "google-chrome")


@dataclass
class Finding:
    """One line of the doctor's table: what was checked, whether it is fine, and the fix."""

    check: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True

    def as_dict(self) -> dict:
        return asdict(self)


def check_python() -> Finding:
    v = sys.version_info
    ok = v >= (3, 11)
    return Finding(
        "python",
        ok,
        f"{v.major}.{v.minor}.{v.micro}",
        "" if ok else "install Python 3.11 or newer and re-run `make up`",
    )


def check_package(name: str) -> Finding:
    try:
        module = importlib.import_module(name)
    except Exception as exc:  # noqa: BLE001 - any import failure is the finding
        return Finding(
            f"package {name}", False, f"{type(exc).__name__}: {exc}", "run `make up` to reinstall"
        )
    return Finding(f"package {name}", True, getattr(module, "__version__", "importable"))


def check_lab_package(name: str, lab: str) -> Finding:
    """A lab extra's package: when missing, a warning (not a failure) naming the lab."""
    found = check_package(name)
    if found.ok:
        return found
    return Finding(
        found.check,
        False,
        f"{found.detail} (lab {lab} needs it)",
        "run `make up`, or `pip install -e '.[labs]'`",
        required=False,
    )


def crosstrain_on(port: int) -> str | None:
    """What of crosstrain answers on ``port`` (its sandbox or its site), if anything does."""
    base = f"http://127.0.0.1:{port}"
    try:
        with urllib.request.urlopen(f"{base}/_crosstrain/health", timeout=2) as answer:
            pid = json.load(answer).get("pid")
        return f"crosstrain's sandbox (pid {pid})"
    except (OSError, ValueError, AttributeError):
        pass
    try:
        with urllib.request.urlopen(f"{base}/api/sandbox", timeout=2) as answer:
            if "running" in json.load(answer):
                return "crosstrain's site"
    except (OSError, ValueError, TypeError):
        pass
    return None


def check_port(port: int, role: str) -> Finding:
    if port_is_free(port):
        return Finding(f"port {port}", True, f"free for the {role}")
    ours = crosstrain_on(port)
    if ours:
        return Finding(f"port {port}", True, f"in use by {ours}: already running")
    holder = port_holder(port)
    held = f"in use by {holder}" if holder else "in use"
    flag = "--sandbox-port" if role == "sandbox" else "--port"
    return Finding(
        f"port {port}",
        False,
        held,
        f"stop what holds port {port} or pass {flag} with another port to `crosstrain up`",
    )


def check_chromium() -> Finding:
    for name in CHROMIUM_PATHS:
        path = shutil.which(name)
        if path:
            return Finding("chromium", True, path, required=False)
    return Finding(
        "chromium",
        False,
        "not found (only the browser tests need it)",
        "apt-get install chromium",
        required=False,
    )


def check_grading_isolation() -> Finding:
    """How `crosstrain grade` would isolate learner code here (never blocks the rest)."""
    from crosstrain.grading.isolate import default_isolation, machine_report

    isolation = default_isolation()
    layers = "; ".join(f"{layer}: {how}" for layer, how in machine_report().items())
    warning = isolation.warning()
    fix = warning.split("; ", 1)[-1] if warning else ""
    return Finding("grading isolation", isolation.jailed, layers, fix, required=False)


def default_ports() -> dict[int, str]:
    """The ports crosstrain serves on, from the settings: ``{port: role}``."""
    from crosstrain.settings import settings

    config = settings()
    return {config.sandbox_port: "sandbox", config.site_port: "site"}


def run_doctor(ports: dict[int, str] | None = None) -> list[Finding]:
    """Check Python, packages, ports, the browser and grading isolation; return every finding."""
    findings = [check_python()]
    findings += [check_package(name) for name in KEY_PACKAGES]
    findings += [check_lab_package(name, lab) for name, lab in LAB_PACKAGES.items()]
    findings += [check_port(port, role) for port, role in (ports or default_ports()).items()]
    findings.append(check_chromium())
    findings.append(check_grading_isolation())
    return findings


def healthy(findings: list[Finding]) -> bool:
    """True when no required check failed."""
    return all(f.ok or not f.required for f in findings)
