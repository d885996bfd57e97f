"""Records from the shell: ``info``, ``import``, ``export``, ``read`` and ``count``."""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import click

from ..client import RedisClient
from ..diff import Diff
from ..errors import FolioError
from ..filter import Filter
from ..folio import Folio
from ..redis_errors import describe, redis_failures
from ..values import REMOVE, Ref
from .app import Context, FilterType, open_path, progress
from .formats import READ_FORMATS, RECORD_FORMATS, format_of, read_records, write_records

__all__ = ["ImportReport", "count", "export", "import_", "import_records", "info", "read"]

BATCH = 1000
SHOWN_REFUSALS = 10


@click.command()
@click.pass_obj
def info(ctx: Context) -> None:
    """Show the server (version, modules), the history backend and the database's size:
    records, cur_ver, points with history and their samples per backend."""
    with ctx.open() as db:
        where = describe(db.client)
        with redis_failures(where):
            version = db.client.info("server")["redis_version"]
            modules = RedisClient(db.client).module_list()
        mods = ", ".join(f"{m['name']} {m.get('ver', '')}".strip() for m in modules)
        click.echo(f"server:    Redis {version} at {where}")
        click.echo(f"modules:   {mods or 'none'}")
        backend = "RedisTimeSeries" if db.has_timeseries else "sorted sets (no TimeSeries module)"
        click.echo(f"history:   {backend}")
        click.echo(f"database:  {db.name}")
        click.echo(f"records:   {db.read_count('id')}")
        click.echo(f"cur_ver:   {db.cur_ver}")
        click.echo(f"his:       {_history_counts(db)}")


def _history_counts(db: Folio) -> str:
    """Points with history and their samples per backend, e.g. ``3 points; timeseries 2
    points 2,000 samples, zset 1 point 5 samples``."""
    per: dict[str, list[int]] = {}
    for pid in db.his.point_ids():
        rec = db.read_by_id(Ref(pid), checked=False)
        if rec is None or "hisSize" not in rec:
            continue
        counts = per.setdefault(db.his.backend_of(rec["id"]), [0, 0])
        counts[0] += 1
        counts[1] += int(rec["hisSize"].val)
    points = sum(n for n, _ in per.values())
    parts = [
        f"{name} {n} point{'s' * (n != 1)} {samples:,} samples"
        for name, (n, samples) in sorted(per.items())
    ]
    return f"{points} point{'s' * (points != 1)} with history" + (
        f"; {', '.join(parts)}" if parts else ""
    )


@dataclass
class ImportReport:
    """What an import did: records added, updated, unchanged and refused (with reasons)."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0
    reasons: list[str] = field(default_factory=list)

    def refuse(self, n: int, reason: str) -> None:
        """Count ``n`` refused records for ``reason``."""
        self.refused += n
        self.reasons.append(reason)

    def __str__(self) -> str:
        return (
            f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
            f"refused {self.refused}"
        )


def import_records(
    db: Folio, recs: Iterable[Mapping[str, Any]], report: ImportReport, tick: Any = None
) -> None:
    """Commit ``recs`` into ``db`` keeping their ids (``mod`` is regenerated), in atomic
    batches of :data:`BATCH`: a record that exists is updated to exactly the imported tags,
    one that does not is added.  A record that cannot be committed is refused with its
    reason; a batch Redis refuses is refused whole.  ``tick(n)`` reports progress."""
    tick = tick or (lambda n: None)
    for batch in batched(recs, BATCH):
        diffs: list[Diff] = []
        kinds: list[str] = []
        for rec in batch:
            try:
                diff = _diff_for(db, rec)
            except (FolioError, TypeError, ValueError) as exc:
                report.refuse(1, f"{_rec_name(rec)}: {exc}")
                continue
            if diff is None:
                report.unchanged += 1
            else:
                diffs.append(diff)
                kinds.append("added" if diff.is_add else "updated")
        if diffs:
            try:
                db.commit_all(diffs)
            except FolioError as exc:
                report.refuse(len(diffs), f"a batch of {len(diffs)} records: {exc}")
            else:
                report.added += kinds.count("added")
                report.updated += kinds.count("updated")
        tick(len(batch))


def batched(items: Iterable[Any], n: int) -> Iterator[list[Any]]:
    it = iter(items)
    while chunk := list(itertools.islice(it, n)):
        yield chunk


def _rec_name(rec: Mapping[str, Any]) -> str:
    rec_id = rec.get("id")
    return f"@{rec_id.id}" if isinstance(rec_id, Ref) else "a record without id"


def _diff_for(db: Folio, rec: Mapping[str, Any]) -> Diff | None:
    """The Diff making the database hold ``rec`` (None when it already does)."""
    tags = {k: v for k, v in rec.items() if k not in ("id", "mod")}
    rec_id = rec.get("id")
    if rec_id is None:
        return Diff.make_add(tags)
    if not isinstance(rec_id, Ref):
        raise ValueError(f"id must be a Ref, not {rec_id!r}")
    current = db.read_by_id(rec_id, checked=False)
    if current is None:
        return Diff.make_add(tags, Ref(rec_id.id))
    stored = db.read_by_id_persistent_tags(rec_id) or {}
    changes: dict[str, Any] = {k: v for k, v in tags.items() if stored.get(k) != v}
    changes.update({k: REMOVE for k in stored if k not in tags and k not in ("id", "mod")})
    return Diff(current, changes) if changes else None


@click.command("import")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--format", "fmt", type=click.Choice(RECORD_FORMATS), help="Format of the files.")
@click.pass_obj
def import_(ctx: Context, files: tuple[str, ...], fmt: str | None) -> int:
    """Import records from Trio, Zinc or Haystack JSON files (``-`` is stdin).

    Records keep their ids; an existing record is updated to the imported tags; mod is
    regenerated.  Commits are atomic per batch of 1000 records.  Exits 1 when any record
    was refused.
    """
    formats = [format_of(path, fmt, RECORD_FORMATS) for path in files]
    report = ImportReport()
    with ctx.open() as db:
        for path, file_fmt in zip(files, formats, strict=True):
            size = 0 if path == "-" else os.path.getsize(path)  # characters, near enough
            with open_path(path, "r") as stream, progress(size, f"importing {path}") as tick:
                import_records(db, read_records(stream, file_fmt, tick), report)
    click.echo(f"imported: {report}")
    for reason in report.reasons[:SHOWN_REFUSALS]:
        click.echo(f"refused {reason}", err=True)
    if len(report.reasons) > SHOWN_REFUSALS:
        click.echo(f"... and {len(report.reasons) - SHOWN_REFUSALS} more refusals", err=True)
    return 1 if report.refused else 0


def persistent_recs(db: Folio, flt: Filter) -> list[Mapping[str, Any]]:
    """The persistent tags (as stored, with mod) of the records matching ``flt``."""
    recs = db.read_all(flt)
    return [db.read_by_id_persistent_tags(rec["id"]) or rec for rec in recs]


@click.command()
@click.argument("args", nargs=-1, required=True, metavar="[FILTER] FILE")
@click.option("--format", "fmt", type=click.Choice(RECORD_FORMATS), help="Format of FILE.")
@click.pass_obj
def export(ctx: Context, args: tuple[str, ...], fmt: str | None) -> None:
    """Export the records matching FILTER (default: all) to FILE (``-`` is stdout), in
    Trio, Zinc or Haystack JSON chosen by FILE's extension or --format."""
    if len(args) > 2:
        raise click.UsageError("export takes at most a FILTER and a FILE")
    path = args[-1]
    flt = FilterType().convert(args[0] if len(args) == 2 else "id", None, None)
    file_fmt = format_of(path, fmt or ("trio" if path == "-" else None), RECORD_FORMATS)
    with ctx.open() as db:
        recs = persistent_recs(db, flt)
        with open_path(path, "w") as out, progress(len(recs), "exporting") as tick:
            write_records(out, file_fmt, recs, tick)
    if path != "-":
        click.echo(f"exported {len(recs)} records to {path}", err=True)


@click.command()
@click.argument("flt", type=FilterType(), metavar="FILTER")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(READ_FORMATS),
    help="Output format (default: a table on a terminal, Trio otherwise).",
)
@click.option("--limit", type=click.IntRange(min=0), help="At most this many records.")
@click.pass_obj
def read(ctx: Context, flt: Filter, fmt: str | None, limit: int | None) -> None:
    """Print the records matching FILTER."""
    with ctx.open() as db:
        recs = db.read_all(flt, limit=limit, sort=True)
        write_records(sys.stdout, fmt or ("table" if sys.stdout.isatty() else "trio"), recs)


@click.command()
@click.argument("flt", type=FilterType(), metavar="FILTER")
@click.pass_obj
def count(ctx: Context, flt: Filter) -> None:
    """Print the number of records matching FILTER."""
    with ctx.open() as db:
        click.echo(db.read_count(flt))
