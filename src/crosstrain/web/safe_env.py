"""The environment of everything the workbench starts: AWS clients reach the sandbox, nothing else.

:func:`safe_env` is how crosstrain makes "no bill" true by construction rather than by care. From
the parent's environment it

- drops every ``AWS_*`` variable (keys, session tokens, ``AWS_PROFILE``, ``AWS_CONFIG_FILE``, web
  identity and container credentials, per-service endpoint overrides ...);
- points boto3, the aws CLI and awslocal at the sandbox with dummy credentials
  (:meth:`crosstrain.sandbox.Sandbox.env`);
- points ``AWS_CONFIG_FILE`` and ``AWS_SHARED_CREDENTIALS_FILE`` at private files whose only
  profile pins ``endpoint_url`` to the sandbox (botocore honours it), so a client that ignores
  ``AWS_ENDPOINT_URL`` or names a profile still cannot reach an account, and SSO caches are never
  consulted;
- turns off the EC2 metadata lookup and puts this Python's ``bin`` (``crosstrain``, ``aws``,
  ``awslocal``) first on ``PATH``.

A real-AWS backend (``crosstrain sandbox up --backend aws`` with its explicit opt-in) is the one
exception: its environment is the parent's plus the chosen profile.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crosstrain.sandbox import Sandbox

__all__ = ["aws_files", "safe_env", "shell_exports", "shell_rc"]

LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


def aws_files(sandbox: Sandbox, folder: Path) -> dict[str, str]:
    """Write the private aws config and credentials files into ``folder``; their variables."""
    folder.mkdir(parents=True, exist_ok=True)
    env = sandbox.env()
    config = folder / "config"
    credentials = folder / "credentials"
    config.write_text(
        "# Written by crosstrain: every AWS client started from the workbench uses the sandbox.\n"
        "[default]\n"
        f"region = {sandbox.region}\n"
        f"endpoint_url = {sandbox.endpoint_url}\n"
        "output = json\n"
    )
    credentials.write_text(
        "# Written by crosstrain: dummy keys the sandbox accepts; no AWS account knows them.\n"
        "[default]\n"
        f"aws_access_key_id = {env['AWS_ACCESS_KEY_ID']}\n"
        f"aws_secret_access_key = {env['AWS_SECRET_ACCESS_KEY']}\n"
    )
    return {"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(credentials)}


def safe_env(
    sandbox: Sandbox, folder: Path | None = None, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """``base`` (default: this process's environment) made safe for learners' code, as above.

    ``folder`` holds the private aws files (default: ``<crosstrain home>/run/aws-<port>``).
    """
    base = dict(os.environ if base is None else base)
    bin_dir = str(Path(sys.executable).parent)
    path = os.pathsep.join([bin_dir, *[p for p in base.get("PATH", "").split(os.pathsep) if p]])
    if sandbox.kind == "aws":
        return {**base, **sandbox.env(), "PATH": path}
    if folder is None:
        from crosstrain.settings import settings

        folder = settings().run_dir / f"aws-{sandbox.port or 'endpoint'}"
    env = {key: value for key, value in base.items() if not key.startswith("AWS_")}
    env.update(sandbox.env())
    env.update(aws_files(sandbox, folder))
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env["PATH"] = path
    return env


def shell_exports(env: Mapping[str, str], base: Mapping[str, str] | None = None) -> list[str]:
    """Shell lines turning ``base``'s environment into ``env`` for the AWS part: unsets, exports."""
    import shlex

    base = os.environ if base is None else base
    unset = sorted(k for k in base if k.startswith("AWS_") and k not in env)
    lines = [f"unset {' '.join(unset)}"] if unset else []
    return lines + [
        f"export {key}={shlex.quote(value)}"
        for key, value in env.items()
        if key.startswith(("AWS_", "LOCALSTACK_", "EDGE_PORT", "DISABLE_DEPRECATION"))
    ]


def shell_rc(folder: Path, env: Mapping[str, str]) -> Path:
    """A bash rc for workbench shells: the learner's own ``~/.bashrc``, then ``env``'s AWS part.

    Applied after the learner's rc, so an ``export AWS_PROFILE=...`` there cannot win.
    """
    import shlex

    prefixes = ("AWS_", "LOCALSTACK_", "EDGE_PORT", "CROSSTRAIN_WORKSPACE", "CROSSTRAIN_SANDBOX")
    keep = [k for k in env if k.startswith(prefixes)] + ["PATH"]
    endpoint = env.get("AWS_ENDPOINT_URL", "the configured backend")
    lines = [
        "# Written by crosstrain: a workbench shell talks to the sandbox, never to AWS.",
        '[ -f "$HOME/.bashrc" ] && . "$HOME/.bashrc"',
        "for v in $(compgen -e | grep '^AWS_'); do unset \"$v\"; done",
        *[f"export {key}={shlex.quote(env[key])}" for key in keep if key in env],
        'PS1="(crosstrain) ${PS1:-\\w \\$ }"',
        f"echo 'crosstrain: aws, awslocal, boto3 and crosstrain here talk to the sandbox at "
        f"{endpoint}' >&2",
    ]
    folder.mkdir(parents=True, exist_ok=True)
    rc = folder / "shell.bashrc"
    rc.write_text("\n".join(lines) + "\n")
    return rc
