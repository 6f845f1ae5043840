"""``crosstrain shell``: a shell wired to the sandbox (:mod:`crosstrain.web.safe_env`)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import click

from crosstrain.cli.common import sandbox_port_option
from crosstrain.errors import CrosstrainError


@click.command()
@sandbox_port_option()
@click.option("-c", "--command", "command", help="Run this command in it instead of a prompt.")
def shell(port: int | None, command: str | None) -> None:
    """A shell where crosstrain, aws, awslocal and boto3 reach the sandbox, never real AWS."""
    from crosstrain.sandbox import lifecycle
    from crosstrain.settings import settings
    from crosstrain.web.safe_env import safe_env, shell_rc

    bash = shutil.which("bash")
    if bash is None:
        raise CrosstrainError('no bash here; use eval "$(crosstrain sandbox env)" in your shell')
    from crosstrain.labs.workspace import workspace_root
    from crosstrain.web.jupyter import crosstrain_env

    target = lifecycle.connect(port)
    env = safe_env(target) | crosstrain_env(workspace_root(), target)
    rc = shell_rc(settings().run_dir / f"shell-{target.port or 'endpoint'}", env)
    args = [bash, "--rcfile", str(rc), "-i"] + (["-c", command] if command else [])
    sys.exit(subprocess.run(args, env=env).returncode)


COMMANDS = [shell]
