"""`make up` on a fresh clone: seconds until the site and JupyterLab both answer (target <= 120 s).

    python3 benchmarks/make_up.py                        # fresh clone and .venv: the real thing
    python3 benchmarks/make_up.py --venv path/to/.venv   # reuse an installed venv: start-up only

A fresh clone of this checkout (its committed HEAD) is made in a temporary folder with its own
``CROSSTRAIN_HOME`` and free ports. The clock starts at ``make up`` and each milestone prints as
it is reached: the sandbox, the site answering, JupyterLab answering. The baseline, measured in the
same run, is the bare interpreter importing crosstrain, so the ratio says what the workbench costs
on top of Python itself. Nothing is asserted: this prints.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
TARGET = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> dict | None:
    try:
        reply = httpx.get(url, timeout=2)
        return reply.json() if reply.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None


def baseline(python: str, clone: Path) -> float:
    started = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(clone / "src")}
    subprocess.run([python, "-c", "import crosstrain.cli"], check=True, env=env)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, help="Reuse this installed venv (skip the install).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crosstrain-make-up-") as tmp:
        clone = Path(tmp) / "crosstrain"
        subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
        site_port, sandbox_port = free_port(), free_port()
        env = {
            **os.environ,
            "CROSSTRAIN_HOME": str(Path(tmp) / "home"),
            "CROSSTRAIN_SITE_PORT": str(site_port),
            "CROSSTRAIN_SANDBOX_PORT": str(sandbox_port),
        }
        if args.venv:
            python = str(args.venv / "bin" / "python")
            env["PYTHONPATH"] = str(clone / "src")
            cmd = [python, "-m", "crosstrain.cli", "up", "--no-browser"]
            what = f"crosstrain up (venv {args.venv})"
        else:
            python = str(clone / ".venv" / "bin" / "python")
            cmd = ["make", "-C", str(clone), "up"]
            what = "make up (fresh clone, fresh .venv)"
        print(f"{what}: site :{site_port}, sandbox :{sandbox_port}", flush=True)
        started = time.perf_counter()
        up = subprocess.Popen(  # its own process group: Ctrl-C reaches make and what it runs
            cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )
        milestones: dict[str, float] = {}
        site = f"http://127.0.0.1:{site_port}"
        try:
            while len(milestones) < 3:
                if up.poll() is not None:
                    sys.exit(f"stopped early: {up.stderr.read().decode()[-2000:]}")
                now = time.perf_counter() - started
                if "sandbox" not in milestones and answers(
                    f"http://127.0.0.1:{sandbox_port}/_crosstrain/health"
                ):
                    milestones["sandbox"] = now
                    print(f"  sandbox answers   {now:7.1f} s", flush=True)
                info = answers(f"{site}/api/sandbox")
                if info and "site" not in milestones:
                    milestones["site"] = now
                    print(f"  site answers      {now:7.1f} s", flush=True)
                jupyter = (info or {}).get("jupyter")
                if jupyter and answers(f"{jupyter['base']}api/status?token={jupyter['token']}"):
                    milestones["jupyter"] = now
                    print(f"  JupyterLab ready  {now:7.1f} s", flush=True)
                time.sleep(0.2)
        finally:
            os.killpg(up.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole group
            up.wait(timeout=60)
        total = max(milestones.values())
        base = baseline(python, clone)
        print(f"workbench ready in {total:.1f} s (target {TARGET:.0f} s: {total / TARGET:.2f}x)")
        print(
            f"baseline `import crosstrain.cli`: {base:.2f} s; "
            f"workbench / baseline: {total / base:.0f}x"
        )


if __name__ == "__main__":
    main()
