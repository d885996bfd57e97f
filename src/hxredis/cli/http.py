"""``hxredis serve`` (the Haystack HTTP API with uvicorn) and ``hxredis user ...`` (its
users)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..folio import Folio
from ..http.auth import UserStore  # no starlette needed: hxredis.http imports the app lazily
from .app import Context

__all__ = ["serve", "user"]


@click.command()
@click.option("--uri", metavar="URI", help="Redis to use (overrides the global --uri).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--session-ttl",
    default=3600.0,
    show_default=True,
    type=click.FloatRange(min=1),
    help="Idle expiry of bearer tokens, seconds.",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
@click.pass_obj
def serve(
    ctx: Context,
    uri: str | None,
    host: str,
    port: int,
    workers: int,
    tls_cert: Path | None,
    tls_key: Path | None,
    session_ttl: float,
    log_level: str,
) -> None:
    """Serve the Project Haystack HTTP API of --name at http://HOST:PORT/api/ (also
    /api/NAME/).  Every worker process opens its own Folio; all share users and sessions
    through Redis."""
    try:
        import uvicorn
    except ImportError:
        raise click.ClickException(
            "hxredis serve needs the http extra: pip install hxredis[http]"
        ) from None
    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    effective = uri or ctx.effective_uri
    os.environ["HXREDIS_HTTP_URI"] = effective or ""
    os.environ["HXREDIS_HTTP_NAME"] = ctx.name
    os.environ["HXREDIS_HTTP_SESSION_TTL"] = str(session_ttl)
    os.environ["HXREDIS_HTTP_DEBUG"] = "1" if ctx.debug else "0"
    os.environ["HXREDIS_HTTP_DATA_DIR"] = "" if effective else str(ctx.data_dir)
    scheme = "https" if tls_cert else "http"
    click.echo(f"hxredis: serving database {ctx.name} at {scheme}://{host}:{port}/api/", err=True)
    uvicorn.run(
        "hxredis.http.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
    )


@click.group(invoke_without_command=True)
@click.pass_context
def user(ctx: click.Context) -> None:
    """Users of the HTTP API (stored in Redis with salted, iterated SCRAM keys)."""
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


def _store(ctx: Context) -> tuple[Folio, UserStore]:
    """The database of --name and its HTTP users."""
    db = ctx.open()
    return db, UserStore(db.client, "hx", db.name)


def _password(stdin: bool) -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


_PASSWORD_STDIN = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)


@user.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(["viewer", "operator", "admin"]),
    default="viewer",
    show_default=True,
)
@_PASSWORD_STDIN
@click.pass_obj
def user_add(ctx: Context, name: str, role: str, password_stdin: bool) -> None:
    """Add user NAME with a role (asks for the password)."""
    password = _password(password_stdin)
    db, store = _store(ctx)
    with db:
        store.add(name, password, role)
    click.echo(f"added user {name} ({role})")


@user.command("passwd")
@click.argument("name")
@_PASSWORD_STDIN
@click.pass_obj
def user_passwd(ctx: Context, name: str, password_stdin: bool) -> None:
    """Set the password of user NAME (ends its sessions)."""
    password = _password(password_stdin)
    db, store = _store(ctx)
    with db:
        store.passwd(name, password)
    click.echo(f"password of {name} changed")


@user.command("remove")
@click.argument("name")
@click.pass_obj
def user_remove(ctx: Context, name: str) -> None:
    """Remove user NAME (ends its sessions)."""
    db, store = _store(ctx)
    with db:
        store.remove(name)
    click.echo(f"removed user {name}")


@user.command("disable")
@click.argument("name")
@click.pass_obj
def user_disable(ctx: Context, name: str) -> None:
    """Refuse logins of user NAME (ends its sessions)."""
    db, store = _store(ctx)
    with db:
        store.set_disabled(name, True)
    click.echo(f"disabled user {name}")


@user.command("enable")
@click.argument("name")
@click.pass_obj
def user_enable(ctx: Context, name: str) -> None:
    """Allow logins of user NAME again."""
    db, store = _store(ctx)
    with db:
        store.set_disabled(name, False)
    click.echo(f"enabled user {name}")


@user.command("list")
@click.pass_obj
def user_list(ctx: Context) -> None:
    """List the users: name, role, and whether disabled."""
    db, store = _store(ctx)
    with db:
        for entry in store.list():
            flag = "  disabled" if entry["disabled"] else ""
            click.echo(f"{entry['user']}  {entry['role']}{flag}")
