"""``hxredis backup FILE`` / ``hxredis restore FILE``: one portable archive of a database.

The archive is a zip file::

    manifest.json   {"format": "hxredis-backup", "version": 2, "database": ..., "records": N,
                     "cur_ver": ..., "created": ..., "hxredis": ..., "sections": ["records",
                     "history"], "history": {"points": P, "samples": S}}
    records.trio    every live record's persistent tags, Trio, streamed
    history.json    the ``history`` section (:mod:`.his_archive`): an index and entries of
    history/...     at most about 100,000 samples of a point (numpy arrays for Number and
                    Bool points)

Records and history are streamed: written and read back one record and one slice of a
point's history at a time.  New kinds of content come as new sections with their own
entries; a reader refuses an archive whose ``version`` it does not know and ignores sections
it does not use.  Version 1 archives (a point's history in one entry) and archives written
before the ``history`` section existed restore as before.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from .. import __version__
from ..diff import Diff
from ..errors import FolioError
from ..folio import Folio
from .app import Context, FilterType, progress
from .formats import read_records, write_records
from .his_archive import history_points, read_history, write_history
from .records import BATCH, SHOWN_REFUSALS, ImportReport, batched, import_records, persistent_recs

__all__ = ["backup", "restore"]

FORMAT = "hxredis-backup"
VERSION = 2
READS = (1, 2)
"""The archive versions this hxredis restores."""
MANIFEST = "manifest.json"
RECORDS = "records.trio"


class BackupError(FolioError):
    """An archive that is not an hxredis backup, or one of an unknown version."""


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def backup(ctx: Context, file: Path) -> None:
    """Write the database's records and their history to the archive FILE (a zip file)."""
    with ctx.open() as db:
        recs = persistent_recs(db, FilterType().convert("id", None, None))
        points = history_points(db)
        expected = sum(size for _, size in points)
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "database": db.name,
            "records": len(recs),
            "cur_ver": db.cur_ver,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "hxredis": __version__,
            "sections": ["records", "history"],
            "history": {"points": len(points), "samples": expected},
        }
        tmp = file.with_name(file.name + ".partial")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(MANIFEST, json.dumps(manifest, indent=2) + "\n")
            with (
                archive.open(RECORDS, "w", force_zip64=True) as raw,
                io.TextIOWrapper(raw, encoding="utf-8", newline="") as out,
                progress(len(recs), "backing up") as tick,
            ):
                write_records(out, "trio", recs, tick)
            with progress(expected, "backing up history") as tick:
                samples = write_history(db, archive, points, tick)
        tmp.replace(file)
    click.echo(
        f"backed up {len(recs)} records and {samples:,} history samples of {len(points)} points "
        f"of {db.name!r} to {file}"
    )


def _manifest(archive: zipfile.ZipFile, file: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except (KeyError, ValueError) as exc:
        raise BackupError(f"{file} is not an hxredis backup ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{file} is not an hxredis backup")
    if manifest.get("version") not in READS:
        raise BackupError(
            f"{file} is a version {manifest.get('version')} backup; this hxredis reads "
            f"versions {', '.join(map(str, READS))}"
        )
    return manifest


def _remove_all(db: Folio) -> int:
    recs = db.read_all("id")
    for batch in batched(recs, BATCH):
        db.commit_all([Diff(rec, None, Diff.REMOVE | Diff.FORCE) for rec in batch])
    return len(recs)


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Remove the database's records first.")
@click.pass_obj
def restore(ctx: Context, file: Path, replace: bool) -> int:
    """Restore the records and history of the archive FILE into the database (ids kept).
    Refuses a database that already has records unless --replace."""
    try:
        archive = zipfile.ZipFile(file)
    except zipfile.BadZipFile:
        raise BackupError(f"{file} is not an hxredis backup (not a zip file)") from None
    with archive, ctx.open() as db:
        manifest = _manifest(archive, file)
        existing = db.read_count("id")
        if existing and not replace:
            raise BackupError(
                f"database {db.name!r} already has {existing} records; restore with --replace "
                "to remove them first, or choose another --name"
            )
        removed = _remove_all(db) if existing else 0
        report = ImportReport()
        with (
            archive.open(RECORDS) as raw,
            io.TextIOWrapper(raw, encoding="utf-8") as stream,
            progress(int(manifest.get("records", 0)), "restoring") as tick,
        ):
            import_records(db, read_records(stream, "trio"), report, tick)
        his_refusals: list[str] = []
        if "history" in manifest.get("sections", []):
            expected = int(manifest.get("history", {}).get("samples", 0))
            with progress(expected, "restoring history") as tick:
                points, samples, his_refusals = read_history(db, archive, tick)
            history = f"; history: {samples:,} samples of {points} points"
        else:
            history = "; no history in the archive"
    if removed:
        click.echo(f"removed {removed} records")
    click.echo(f"restored: {report}{history}")
    for reason in [*report.reasons, *his_refusals][:SHOWN_REFUSALS]:
        click.echo(f"refused {reason}", err=True)
    return 1 if report.refused or his_refusals else 0
