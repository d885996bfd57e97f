"""``hxredis server start|stop|status``: the embedded server of a data directory; and the
Makefile's ``provision`` and ``check``."""

from __future__ import annotations

from pathlib import Path

import click

from ..embedded import open_embedded, read_state
from ..server import STATE_FILE
from ..server import main as launcher_main
from .app import Context

__all__ = ["check", "provision", "server"]


@click.group(invoke_without_command=True)
@click.pass_context
def server(ctx: click.Context) -> None:
    """The embedded Redis server of --data-dir."""
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@server.command()
@click.pass_obj
def start(ctx: Context) -> None:
    """Start the embedded server and keep it running until `hxredis server stop`."""
    state = read_state(ctx.data_dir)
    if state is not None:
        click.echo(f"already running: {state.url} (pid {state.pid}), data in {ctx.data_dir}")
        return
    srv = open_embedded(ctx.data_dir, keep=True)
    srv.stop()  # our use ends; the server stays until `hxredis server stop`
    click.echo(f"started: {srv.url} (pid {srv.pid}), data in {ctx.data_dir}")


@server.command()
@click.pass_obj
def stop(ctx: Context) -> int:
    """Stop the embedded server, also while other processes use it (it saves first)."""
    if read_state(ctx.data_dir) is None:
        click.echo(f"not running (data in {ctx.data_dir})")
        return 0
    srv = open_embedded(ctx.data_dir)
    if not srv.shutdown(timeout=120):
        click.echo(f"still shutting down (pid {srv.pid}); see {ctx.data_dir / 'redis.log'}")
        return 1
    click.echo(f"stopped (pid {srv.pid})")
    return 0


@server.command()
@click.pass_obj
def status(ctx: Context) -> int:
    """Show the embedded server: URI, pid, version, modules, data size.  Exits 1 when it is
    not running."""
    state = read_state(ctx.data_dir)
    if state is None:
        click.echo(f"not running (data in {ctx.data_dir})")
        return 1
    mods = ", ".join(f"{name} {ver}" for name, ver in sorted(state.modules.items()))
    size = sum(p.stat().st_size for p in ctx.data_dir.rglob("*") if p.is_file())
    click.echo(f"running:   {state.url} (pid {state.pid})")
    click.echo(f"password:  in {ctx.data_dir / STATE_FILE} (readable by you only)")
    click.echo(f"version:   Redis {state.version}")
    click.echo(f"modules:   {mods or 'none'}")
    click.echo(f"data:      {ctx.data_dir} ({_size(size)})")
    return 0


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


@click.command()
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path))
def provision(cache_dir: Path | None) -> int:
    """Fetch the Redis binaries into the cache (done on first use anyway)."""
    return launcher_main(["provision", *(["--cache-dir", str(cache_dir)] if cache_dir else [])])


@click.command()
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path))
def check(cache_dir: Path | None) -> int:
    """Start each kind of server once and report it."""
    return launcher_main(["check", *(["--cache-dir", str(cache_dir)] if cache_dir else [])])
