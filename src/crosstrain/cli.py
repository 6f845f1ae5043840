"""The `crosstrain` command: a thin layer over the Python API.

Every command that reports takes ``--json``. Errors a user can cause are raised as
:class:`~crosstrain.errors.CrosstrainError` and printed as one line with a non-zero exit.
"""

from __future__ import annotations

import json
import sys

import click

from crosstrain import __version__
from crosstrain.errors import CrosstrainError


def emit_json(data) -> None:
    """Print ``data`` as indented JSON on stdout."""
    click.echo(json.dumps(data, indent=2, default=str))


def console():
    from rich.console import Console

    return Console()


class Group(click.Group):
    """A click group that turns user errors into one line and an exit code, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except CrosstrainError as err:
            click.echo(f"error: {err}", err=True)
            sys.exit(err.exit_code)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="crosstrain")
def main() -> None:
    """crosstrain: hands-on ML + cloud labs against a local, offline AWS."""


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def doctor(as_json: bool) -> None:
    """Check that this machine can run crosstrain; print a fix for each problem."""
    from crosstrain.doctor import healthy, run_doctor

    findings = run_doctor()
    if as_json:
        emit_json({"healthy": healthy(findings), "findings": [f.as_dict() for f in findings]})
    else:
        from rich.table import Table

        table = Table(title="crosstrain doctor")
        for col in ("check", "status", "detail", "fix"):
            table.add_column(col)
        for f in findings:
            bad = "[red]FAIL[/]" if f.required else "[yellow]warn[/]"
            status = "[green]ok[/]" if f.ok else bad
            table.add_row(f.check, status, f.detail, f.fix)
        console().print(table)
        for f in findings:
            if not f.ok and f.required:
                click.echo(f"fix: {f.check}: {f.fix}", err=True)
    if not healthy(findings):
        sys.exit(1)


# --- sandbox commands (owner: sandbox) ---
def _serve_foreground(sb, port: int) -> None:
    """Wait on a sandbox we started until Ctrl-C or until it exits; then clean up."""
    from crosstrain.sandbox import lifecycle

    try:
        code = sb.process.wait()
        click.echo(f"the sandbox stopped (exit code {code})", err=True)
    except KeyboardInterrupt:
        click.echo("stopping the sandbox ...", err=True)
        sb.stop()
    finally:
        lifecycle.clear_record(port)


def _start_sandbox(port, host, state_dir, ephemeral, enforce_iam, detach):
    from crosstrain.sandbox import lifecycle

    sb = lifecycle.up(
        port=port,
        host=host,
        state_dir=state_dir,
        ephemeral=ephemeral,
        enforce_iam=enforce_iam,
        detach=detach,
    )
    health = sb.health()
    for notice in health["notices"]:
        click.echo(f"notice: {notice}", err=True)
    where = health["state"].get("dir") or "nowhere (ephemeral)"
    click.echo(f"sandbox running at {sb.endpoint_url} (pid {sb.pid}); state kept in {where}")
    click.echo('point your shell at it:  eval "$(crosstrain sandbox env)"')
    return sb


@main.group()
def sandbox() -> None:
    """The local AWS: start, stop, inspect and reset it."""


@sandbox.command("up")
@click.option("--port", type=int, default=None, help="Port to listen on (default 4566).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--state-dir", type=click.Path(file_okay=False), help="Where state is kept.")
@click.option("--ephemeral", is_flag=True, help="Keep nothing when the sandbox stops.")
@click.option("--enforce-iam", is_flag=True, help="Check IAM policies for non-admin keys.")
@click.option("--detach", is_flag=True, help="Run in the background; stop with `sandbox down`.")
@click.option(
    "--backend",
    type=click.Choice(["embedded", "endpoint", "aws"]),
    default="embedded",
    show_default=True,
    help="embedded: our own sandbox; endpoint: an emulator you run; aws: a real account.",
)
@click.option("--endpoint-url", help="With --backend endpoint: the emulator's URL.")
@click.option("--profile", help="With --backend aws: the named AWS profile to use.")
@click.option(
    "--i-understand-this-uses-real-aws", "aws_opt_in", is_flag=True, help="Opt in to real AWS."
)
def sandbox_up(
    port,
    host,
    state_dir,
    ephemeral,
    enforce_iam,
    detach,
    backend,
    endpoint_url,
    profile,
    aws_opt_in,
) -> None:
    """Start the local AWS sandbox (or point crosstrain at another backend)."""
    from crosstrain.sandbox import lifecycle

    if state_dir and ephemeral:
        raise CrosstrainError("--state-dir and --ephemeral exclude each other; pick one")
    if backend == "endpoint":
        if not endpoint_url:
            raise CrosstrainError("--backend endpoint needs --endpoint-url URL")
        target = lifecycle.use_endpoint(endpoint_url)
        click.echo(f"crosstrain now uses the emulator at {target.endpoint_url}")
        return
    if backend == "aws":
        lifecycle.use_aws(profile, aws_opt_in)
        click.echo(f"crosstrain now uses REAL AWS with profile {profile!r}; charges may apply")
        return
    sb = _start_sandbox(port, host, state_dir, ephemeral, enforce_iam, detach)
    if detach:
        click.echo("running in the background; stop it with `crosstrain sandbox down`")
        return
    click.echo("press Ctrl-C to stop")
    _serve_foreground(sb, sb.port)


@sandbox.command("down")
@click.option("--port", type=int, default=None, help="Port of the sandbox (default 4566).")
def sandbox_down(port) -> None:
    """Stop the sandbox (its state is kept unless it was ephemeral)."""
    from crosstrain.sandbox import lifecycle

    click.echo(lifecycle.down(port))


@sandbox.command("status")
@click.option("--port", type=int, default=None, help="Port of the sandbox (default 4566).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def sandbox_status(port, as_json) -> None:
    """Is a sandbox running, where, and what does it hold?"""
    from crosstrain.sandbox import lifecycle

    info = lifecycle.status(port)
    if as_json:
        emit_json(info)
    elif not info["running"]:
        click.echo(f"no sandbox is running on port {info['port']}; start one with `make up`")
    else:
        for key, value in info.items():
            click.echo(f"{key:>15}: {value}")
    if not info["running"]:
        sys.exit(1)


@sandbox.command("reset")
@click.option("--port", type=int, default=None, help="Port of the sandbox (default 4566).")
def sandbox_reset(port) -> None:
    """Delete every resource in the sandbox (milliseconds)."""
    from crosstrain.sandbox import lifecycle

    result = lifecycle.connect(port).reset()
    click.echo(f"sandbox reset in {result['seconds'] * 1000:.1f} ms")


@sandbox.command("env")
@click.option("--port", type=int, default=None, help="Port of the sandbox (default 4566).")
def sandbox_env(port) -> None:
    """Print `export` lines that point boto3, the aws CLI and awslocal at the sandbox."""
    from crosstrain.sandbox import Sandbox, SandboxError, lifecycle

    try:
        target = lifecycle.connect(port)
    except SandboxError as err:
        click.echo(f"warning: {err}", err=True)
        target = Sandbox(f"http://127.0.0.1:{port or lifecycle.default_port()}")
    for line in lifecycle.env_lines(target):
        click.echo(line)


@sandbox.command("services")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def sandbox_services(as_json) -> None:
    """The ledger: per service, emulated by moto, run for real, or a stub."""
    from crosstrain.sandbox.ledger import ledger

    rows = ledger()
    if as_json:
        emit_json(rows)
        return
    from rich.table import Table

    table = Table(title="crosstrain sandbox services")
    for col in ("service", "mode", "note"):
        table.add_column(col)
    colour = {"real": "green", "moto": "cyan", "stub": "yellow"}
    for row in rows:
        table.add_row(row["service"], f"[{colour[row['mode']]}]{row['mode']}[/]", row["note"])
    console().print(table)


@main.command()
@click.option("--sandbox-port", type=int, default=None, help="Sandbox port (default 4566).")
@click.option("--ephemeral", is_flag=True, help="Keep nothing when the sandbox stops.")
def up(sandbox_port, ephemeral) -> None:
    """The main job: start the sandbox (reusing a running one) until Ctrl-C."""
    from crosstrain.sandbox import lifecycle

    running = lifecycle.find(sandbox_port)
    if running is not None:
        click.echo(f"a sandbox is already running at {running.endpoint_url}; using it")
        return
    sb = _start_sandbox(sandbox_port, "127.0.0.1", None, ephemeral, False, False)
    click.echo("press Ctrl-C to stop")
    _serve_foreground(sb, sb.port)


# --- data commands (owner: datasets) ---
@main.group()
def data() -> None:
    """The course dataset: a messy, realistic subscription business."""


@data.command("generate")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
@click.option("--seed", type=int, default=None, help="Seed (default: the learners' seed).")
@click.option("--secret", default=None, help="Derive the hidden grading seed from a secret.")
@click.option("--customers", type=click.IntRange(10, 1_000_000), default=5000, show_default=True)
def data_generate(out_dir, seed, secret, customers) -> None:
    """Write the raw CSVs (customers, plans, usage, tickets, labels) to --out."""
    from crosstrain import datasets

    if seed is not None and secret is not None:
        raise CrosstrainError("--seed and --secret exclude each other; pick one")
    if secret is not None:
        seed = datasets.hidden_seed(secret)
    elif seed is None:
        seed = datasets.LEARNER_SEED
    paths = datasets.write_raw(datasets.generate(seed, customers), out_dir)
    for path in paths:
        click.echo(str(path))


# --- lab and author commands (owner: labs) ---


if __name__ == "__main__":  # pragma: no cover
    main()
