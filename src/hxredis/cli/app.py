"""The ``hxredis`` command group, its global options and what every command shares: opening
the database, parsing filters, choosing files and showing progress."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import click

from .. import __version__
from ..embedded import default_data_dir
from ..errors import ParseError
from ..filter import Filter
from ..folio import Folio
from ..folio import open as open_folio
from ..redis_errors import redis_failures

__all__ = ["Context", "FilterType", "cli", "open_path", "progress"]

PROGRESS_MIN = 5000  # records, samples or characters before a progress bar is worth showing


@dataclass
class Context:
    """The global options: where the database is."""

    uri: str | None
    name: str
    data_dir: Path
    debug: bool

    @property
    def effective_uri(self) -> str | None:
        """``--uri``, else ``HXREDIS_URI``, else None (the embedded server)."""
        return self.uri or os.environ.get("HXREDIS_URI") or None

    @property
    def where(self) -> str:
        """The chosen server for messages: ``host:port/db`` (never a password)."""
        uri = self.effective_uri
        if uri is None:
            return f"the embedded server of {self.data_dir}"
        parts = urlsplit(uri)
        if parts.scheme == "unix":
            return f"unix:{parts.path}"
        return f"{parts.hostname}:{parts.port or 6379}{parts.path or '/0'}"

    def open(self, **kwargs: Any) -> Folio:
        """The Folio of ``--name`` on the chosen server; Redis failures as hxredis errors."""
        with redis_failures(self.where):
            return open_folio(self.effective_uri, name=self.name, data_dir=self.data_dir, **kwargs)


class FilterType(click.ParamType):
    """A Haystack filter; a malformed one is a usage error (exit code 2)."""

    name = "filter"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, Filter):
            return value
        try:
            return Filter.parse(value)
        except ParseError as exc:
            self.fail(f"malformed filter {value!r}: {exc}", param, ctx)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    invoke_without_command=True,
)
@click.version_option(__version__, "--version", prog_name="hxredis", message="%(prog)s %(version)s")
@click.option(
    "--uri",
    metavar="URI",
    help="Redis to use, e.g. redis://host:6379/0 (default: $HXREDIS_URI, else the embedded "
    "server).",
)
@click.option("--name", default="default", show_default=True, metavar="NAME", help="Database name.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The embedded server's data directory (default: ~/.local/share/hxredis).",
)
@click.option("--debug", is_flag=True, help="Show the traceback of an error.")
@click.pass_context
def cli(ctx: click.Context, uri: str | None, name: str, data_dir: Path | None, debug: bool) -> None:
    """hxredis: Haystack records and history in Redis, the Haxall Folio API.

    The server is --uri, else $HXREDIS_URI, else an embedded Redis kept in --data-dir
    (started on first use, shared by every process using that directory).
    """
    ctx.obj = Context(uri, name, data_dir or default_data_dir(), debug)
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@contextmanager
def open_path(path: str, mode: str) -> Iterator[IO[Any]]:
    """A file opened as text (UTF-8) for ``"r"`` or ``"w"``; ``-`` is stdin or stdout."""
    if path == "-":
        yield sys.stdin if mode == "r" else sys.stdout
        return
    with open(path, mode, encoding="utf-8", newline="" if mode == "w" else None) as f:
        yield f


@contextmanager
def progress(total: int, label: str) -> Iterator[Any]:
    """A progress bar on stderr for long runs on a terminal; yields ``update(n)``."""
    if total < PROGRESS_MIN or not sys.stderr.isatty():  # nothing to see, or nobody to see it
        yield lambda n: None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update
