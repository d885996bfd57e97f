"""The ``hxredis`` command line (also ``python -m hxredis``).

Exit codes: 0 success, 1 failure (the error as one line on stderr; ``--debug`` shows the
traceback), 2 usage error (unknown option, bad argument, malformed filter).  The server is
``--uri``, else ``HXREDIS_URI``, else the embedded server of ``--data-dir``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from ..errors import FolioError
from .app import Context, cli
from .backup import backup, restore
from .bench import bench
from .demo import demo
from .his import his
from .http import serve, user
from .records import count, export, import_, info, read
from .server import check, provision, server

__all__ = ["Context", "cli", "main", "run"]

for command in (
    server,
    info,
    import_,
    export,
    read,
    count,
    his,
    backup,
    restore,
    demo,
    bench,
    serve,
    user,
):
    cli.add_command(command)
for command in (provision, check):  # used by the Makefile; not for users
    cli.add_command(command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        result = cli.main(args=args, prog_name="hxredis", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        click.echo("hxredis: aborted", err=True)
        return 1
    except click.ClickException as exc:
        if debug:
            raise
        hint = ""
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            hint = f" (see: {exc.ctx.command_path} --help)"
        click.echo(f"hxredis: error: {_one_line(exc.format_message())}{hint}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("hxredis: interrupted", err=True)
        return 130
    except (FolioError, OSError, ValueError) as exc:
        if debug:
            raise
        click.echo(f"hxredis: error: {_one_line(str(exc))}", err=True)
        return 1
    return result if isinstance(result, int) else 0


def _one_line(text: str) -> str:
    return " ".join(text.split())


def run() -> None:
    """The console script: exit with :func:`main`'s code."""
    sys.exit(main())
