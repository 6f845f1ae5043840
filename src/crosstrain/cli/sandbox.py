"""``crosstrain sandbox ...``: start, stop, inspect and reset the local AWS."""

from __future__ import annotations

import sys

import click

from crosstrain.cli.common import Suggesting, console, emit_json, sandbox_port_option
from crosstrain.errors import CrosstrainError
from crosstrain.settings import default, settings


def _announce(sb) -> None:
    """Say where the sandbox runs, where its state lives, and any notice it gave."""
    health = sb.health()
    for notice in health["notices"]:
        click.echo(f"notice: {notice}", err=True)
    where = health["state"].get("dir") or "nowhere (ephemeral)"
    click.echo(f"sandbox running at {sb.endpoint_url} (pid {sb.pid}); state kept in {where}")
    click.echo('point your shell at it:  eval "$(crosstrain sandbox env)"')


def _serve_foreground(sb) -> None:
    """Announce a sandbox we started, wait until Ctrl-C or until it exits, then clean up.

    Everything after the start happens inside the ``try``, so a Ctrl-C at any moment stops the
    sandbox and removes its run record.
    """
    from crosstrain.sandbox import lifecycle

    try:
        _announce(sb)
        click.echo("press Ctrl-C to stop")
        code = sb.process.wait()
        click.echo(f"the sandbox stopped (exit code {code})", err=True)
    except KeyboardInterrupt:
        click.echo("stopping the sandbox ...", err=True)
        sb.stop()
    finally:
        lifecycle.clear_record(sb.port)


@click.group(cls=Suggesting)
def sandbox() -> None:
    """The local AWS: start, stop, inspect and reset it."""


@sandbox.command("up")
@sandbox_port_option(what="Port to listen on")
@click.option("--host", default=None, help=f"Address to bind (default {default('host')}).")
@click.option("--state-dir", type=click.Path(file_okay=False), help="Where state is kept.")
@click.option("--ephemeral", is_flag=True, help="Keep nothing when the sandbox stops.")
@click.option("--enforce-iam", is_flag=True, help="Check IAM policies for non-admin keys.")
@click.option("--detach", is_flag=True, help="Run in the background; stop with `sandbox down`.")
@click.option(
    "--account",
    default=None,
    help=f"Default account id (default {default('account')}, LocalStack's; moto's: 123456789012).",
)
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
    account,
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
    sb = lifecycle.up(
        port=port,
        host=host or settings().host,
        state_dir=state_dir,
        ephemeral=ephemeral,
        enforce_iam=enforce_iam,
        detach=detach,
        account=account,
    )
    if not detach:
        _serve_foreground(sb)
        return
    _announce(sb)
    click.echo("running in the background; stop it with `crosstrain sandbox down`")


@sandbox.command("down")
@sandbox_port_option()
def sandbox_down(port) -> None:
    """Stop the sandbox (its state is kept unless it was ephemeral)."""
    from crosstrain.sandbox import lifecycle

    click.echo(lifecycle.down(port))


@sandbox.command("status")
@sandbox_port_option()
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
@sandbox_port_option()
def sandbox_reset(port) -> None:
    """Delete every resource in the sandbox (milliseconds)."""
    from crosstrain.sandbox import lifecycle

    result = lifecycle.connect(port).reset()
    click.echo(f"sandbox reset in {result['seconds'] * 1000:.1f} ms")


@sandbox.command("env")
@sandbox_port_option()
def sandbox_env(port) -> None:
    """Print shell lines that point boto3, the aws CLI and awslocal at the sandbox.

    They also unset your real AWS credentials and profile in that shell, and point
    AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE at private files pinned to the sandbox.
    """
    from crosstrain.sandbox import Sandbox, SandboxError, lifecycle
    from crosstrain.web.safe_env import safe_env, shell_exports

    try:
        target = lifecycle.connect(port)
    except SandboxError as err:
        click.echo(f"warning: {err}", err=True)
        config = settings()
        target = Sandbox(f"http://{config.host}:{port or config.sandbox_port}")
    for line in shell_exports(safe_env(target)):
        click.echo(line)


@sandbox.command("services")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.option(
    "--cloudformation-types",
    "cfn_types",
    is_flag=True,
    help="List the CloudFormation resource types the sandbox creates and those it does not.",
)
def sandbox_services(as_json, cfn_types) -> None:
    """The ledger: per service, emulated by moto, run for real, or a stub."""
    from crosstrain.sandbox.core.ledger import ledger

    if cfn_types:
        from crosstrain.sandbox.services.cloudformation.support import (
            supported_types,
            unsupported_types,
        )

        types = {"supported": list(supported_types()), "unsupported": unsupported_types()}
        if as_json:
            emit_json(types)
        else:
            for kind, names in types.items():
                click.echo(f"{kind} ({len(names)}):")
                click.echo("\n".join(f"  {name}" for name in names))
        return
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


COMMANDS = [sandbox]


@sandbox.command("events")
@sandbox_port_option(what="Port of the sandbox")
@click.option("--source", help="Only deliveries whose source ARN contains this.")
@click.option("--target", help="Only deliveries whose target ARN contains this.")
@click.option("--kind", help="Only this kind of delivery (e.g. s3, sqs, sns, events, async).")
@click.option("--result", help="Only this result (delivered, failed, ...).")
@click.option("--limit", type=int, default=50, show_default=True, help="The newest N.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def sandbox_events(port, source, target, kind, result, limit, as_json) -> None:
    """The delivery log: every event the sandbox delivered (or failed to), oldest first."""
    from rich.table import Table

    from crosstrain.sandbox import lifecycle

    filters = {"source": source, "target": target, "kind": kind, "result": result, "limit": limit}
    rows = lifecycle.connect(port).events(**filters)
    if as_json:
        emit_json(rows)
        return
    table = Table(title="sandbox deliveries")
    columns = ("kind", "source", "target", "result", "attempts", "error")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(str(row.get(column, "")) for column in columns))
    console().print(table if rows else "no deliveries yet")


@sandbox.command("advance-time")
@sandbox_port_option(what="Port of the sandbox")
@click.argument("seconds", type=float)
def sandbox_advance_time(port, seconds) -> None:
    """Move the sandbox clock SECONDS forward: schedules fire, waits and retries elapse."""
    from crosstrain.sandbox import lifecycle

    answer = lifecycle.connect(port).advance_time(seconds)
    click.echo(f"sandbox clock now {answer.get('now', answer)}")


@sandbox.command("calls")
@sandbox_port_option(what="Port of the sandbox")
@click.option("--service", help="Only calls to this service (its signing name, e.g. s3, lambda).")
@click.option("--operation", help="Only this operation (e.g. PutObject).")
@click.option("--principal", "--role", help="Only callers whose ARN contains this (a role name).")
@click.option("--source", help="Only calls from sdk, cli, cdk, check or sandbox.")
@click.option("--result", type=click.Choice(["ok", "denied", "error"]), help="Only this result.")
@click.option("--action", help="Permission decisions instead: only IAM actions containing this.")
@click.option("--denied", is_flag=True, help="Permission decisions instead: only the denied ones.")
@click.option("--limit", type=int, default=50, show_default=True, help="The newest N.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def sandbox_calls(
    port, service, operation, principal, source, result, action, denied, limit, as_json
) -> None:
    """The call log: every AWS call the sandbox answered, who made it and on what. With
    --action or --denied: the permission decisions --enforce-iam made, one per row."""
    from rich.table import Table

    from crosstrain.sandbox import lifecycle

    handle = lifecycle.connect(port)
    if action or denied:
        allowed = False if denied else None
        rows = handle.decisions(role=principal, action=action, allowed=allowed, limit=limit)
        columns = ("principal", "action", "resource", "allowed")
        empty = "no permission decisions (is --enforce-iam on?)"
    else:
        filters = {"service": service, "operation": operation, "principal": principal}
        rows = handle.calls(**filters, source=source, result=result, limit=limit)
        columns = ("service", "operation", "principal", "resource", "result", "iam")
        empty = "no calls yet"
    if as_json:
        emit_json(rows)
        return
    table = Table(title="sandbox calls")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row, column) for column in columns))
    console().print(table if rows else empty)


def _cell(row: dict, column: str) -> str:
    if column == "iam":  # a call's permission decisions, e.g. "s3:GetObject(denied)"
        return " ".join(d["action"] + ("" if d["allowed"] else "(denied)") for d in row["iam"])
    return str(row.get(column, ""))
