"""Point history from the shell: ``his read``, ``his write`` and ``his import``.

CSV is the exchange format.  ``his write`` takes ``ts,val`` rows; ``his import`` takes either
one long file of ``id,ts,val`` rows (many points) or a directory of ``<id>.csv`` files of
``ts,val`` rows (one per point).  A first row whose ``ts`` is not a timestamp is a header.

- ``ts``: ISO 8601 with an offset (``2024-01-01T00:00:00-05:00``, ``Z`` for UTC), the Zinc
  form with a tz name after a space (``2024-01-01T00:00:00-05:00 New_York``), a naive
  datetime (read in the point's tz) or an integer of epoch milliseconds.
- ``val``: by the point's kind: a number (the point's unit; ``NA`` and ``NaN`` too),
  ``true``/``false`` (also ``1``/``0``), text, or a Zinc coord ``C(lat,lng)``.

``his import`` sends Number and Bool points through the bulk path (``db.his.write_many``:
numpy arrays, values stored exactly as given, atomic per point and chunk of
:data:`IMPORT_CHUNK` samples), other points and NA samples through ``db.his.write`` (which
rounds non-integer numbers through float32 as Haxall does).
"""

from __future__ import annotations

import csv
import itertools
import time
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import click
import numpy as np

from .. import json as hjson
from .. import zinc
from ..errors import HisWriteError
from ..folio import Folio
from ..his.point import PointConfig, epoch_ms, read_config
from ..values import NA, Grid, HisItem, Number, Ref, Span
from .app import Context, open_path, progress
from .his_slices import item_slices

__all__ = ["his", "parse_span"]

HIS_FORMATS = ("csv", "zinc", "json")
IMPORT_CHUNK = 1_000_000
"""Samples held in memory by ``his import`` before they are written."""
_FAR_FUTURE = datetime(2200, 1, 1)


# ----------------------------------------------------------------------------------------------
# spans, timestamps and values as text
# ----------------------------------------------------------------------------------------------


def _midnight(day: date, zone: Any) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def _endpoint(text: str, zone: Any, end: bool) -> datetime:
    """A date (its midnight; the next one for an ``end``) or a datetime, in ``zone``."""
    text = text.strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return parse_ts(text, zone)
    return _midnight(day + timedelta(days=1) if end else day, zone)


def parse_span(text: str, zone: Any, now: datetime | None = None) -> Span:
    """A span in the syntax of the Haystack HTTP API's ``hisRead`` range, in ``zone``:
    ``today``, ``yesterday``, a date (that whole day), ``date,date`` (both days included),
    a datetime (from it on), ``datetime,datetime`` (end exclusive); dates and datetimes may
    be mixed.  ValueError names a malformed span."""
    now = now or datetime.now(zone)
    word = text.strip().lower()
    if word in ("today", "yesterday"):
        day = now.date() - timedelta(days=1 if word == "yesterday" else 0)
        return Span(_midnight(day, zone), _midnight(day + timedelta(days=1), zone))
    try:
        if "," in text:
            first, last = text.split(",", 1)
            return Span(_endpoint(first, zone, False), _endpoint(last, zone, True))
        try:
            day = date.fromisoformat(text.strip())
        except ValueError:
            return Span(parse_ts(text, zone), _FAR_FUTURE.replace(tzinfo=zone))
        return Span(_midnight(day, zone), _midnight(day + timedelta(days=1), zone))
    except ValueError as exc:
        raise ValueError(
            f"malformed span {text!r}: use today, yesterday, a date, date,date, a datetime "
            f"or datetime,datetime ({exc})"
        ) from None


def parse_ts(text: str, zone: Any) -> datetime:
    """A timestamp (see the module docstring) as an aware datetime in ``zone``."""
    text = text.strip()
    if text.lstrip("-").isdigit():
        return datetime.fromtimestamp(int(text) / 1000, zone)
    stamp = text.split(" ", 1)[0]  # the Zinc form's tz name: the offset says the instant
    if stamp.endswith(("Z", "z")):  # what Python 3.10's fromisoformat does not read
        stamp = stamp[:-1] + "+00:00"
    try:
        ts = datetime.fromisoformat(stamp)
    except ValueError:
        raise ValueError(f"malformed timestamp {text!r}") from None
    return ts.replace(tzinfo=zone) if ts.tzinfo is None else ts.astimezone(zone)


def _parse_val(text: str, config: PointConfig) -> Any:
    """The value of a CSV cell for a point of ``config.kind``; ValueError when malformed."""
    if config.kind == "Number":
        word = text.strip()
        if word == "NA":
            return NA
        return Number(float(word), config.unit)
    if config.kind == "Bool":
        word = text.strip().lower()
        if word in ("true", "1", "t"):
            return True
        if word in ("false", "0", "f"):
            return False
        raise ValueError(f"{text!r} is not a Bool (true or false)")
    if config.kind == "Coord":
        return zinc.loads(text.strip())
    return text


def _val_text(val: Any) -> str:
    if isinstance(val, bool):
        return "true" if val else "false"
    if isinstance(val, Number):
        return repr(val.val) if val.val == val.val else "NaN"
    if val is NA:
        return "NA"
    return val if isinstance(val, str) else zinc.dumps(val)


def _rows(stream: Iterable[str], columns: int, where: str) -> Iterator[tuple[int, list[str]]]:
    """The CSV rows of ``stream`` with their line numbers, each of ``columns`` cells; the
    first row is dropped when it is a header (its ``ts`` cell is not a timestamp)."""
    for n, row in enumerate(csv.reader(stream), 1):
        if not row:
            continue
        if len(row) != columns:
            raise HisWriteError(
                None, f"{where} line {n}: {len(row)} cells, expected {columns} ({row!r})"
            )
        if n == 1 and row[-2].strip().lower() in ("ts", "timestamp", "time"):
            continue
        yield n, row


def _items(rows: Iterable[tuple[int, list[str]]], config: PointConfig, where: str) -> list[HisItem]:
    items = []
    for n, (ts, val) in rows:
        try:
            items.append(HisItem(parse_ts(ts, config.zone), _parse_val(val, config)))
        except ValueError as exc:
            raise HisWriteError(None, f"{where} line {n}: {exc}") from None
    return items


def _config(db: Folio, id: str) -> PointConfig:
    return read_config(db.read_by_id(Ref(id.lstrip("@"))))


# ----------------------------------------------------------------------------------------------
# commands
# ----------------------------------------------------------------------------------------------


@click.group()
def his() -> None:
    """Point history: read, write and import CSV."""


@his.command("read")
@click.argument("id")
@click.option(
    "--span",
    metavar="SPAN",
    help="today, yesterday, DATE, DATE,DATE, DATETIME or "
    "DATETIME,DATETIME in the point's tz (default: all history).",
)
@click.option("--format", "fmt", type=click.Choice(HIS_FORMATS), default="csv", show_default=True)
@click.option("--output", "-o", default="-", show_default=True, help="File to write; - is stdout.")
@click.pass_obj
def his_read(ctx: Context, id: str, span: str | None, fmt: str, output: str) -> None:
    """Print the history of point ID (ts,val rows in the point's tz).  With --span: the
    samples in it plus the last one before it and up to two after it, as hisRead does.
    The history is read and written in slices, never held whole."""
    with ctx.open(follow=False) as db:
        ref = Ref(id.lstrip("@"))
        config = read_config(db.read_by_id(ref))
        try:
            chosen = parse_span(span, config.zone) if span is not None else None
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--span") from None
        slices = item_slices(db, ref, chosen)
        first = next(slices, [])  # a failing read fails before the output is opened
        with open_path(output, "w") as out:
            _write_items(out, fmt, ref, chosen, itertools.chain([first], slices))


def _write_items(
    out: IO[str], fmt: str, ref: Ref, span: Span | None, slices: Iterable[list[HisItem]]
) -> None:
    """Write a point's items, slice by slice, as CSV or as a Zinc or JSON grid (the text
    ``zinc.dumps_grid`` / ``hx.json.dumps`` write for the whole grid)."""
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["ts", "val"])
        for items in slices:
            writer.writerows((ts.isoformat(), _val_text(val)) for ts, val in items)
        return
    meta: dict[str, Any] = {"id": ref}
    if span is not None:
        meta.update(hisStart=span.start, hisEnd=span.end)
    empty = Grid(meta, ["ts", "val"], [])
    if fmt == "zinc":
        out.write(zinc.dumps_grid(empty)[:-1])  # the head; the blank line ends the grid
        for items in slices:
            out.writelines(f"{zinc.dumps(ts)},{zinc.dumps(val)}\n" for ts, val in items)
        out.write("\n")
        return
    head = hjson.dumps(empty)
    out.write(head[: -len("]}")])  # up to the rows' "["
    sep = ""
    for items in slices:
        for ts, val in items:
            out.write(sep + hjson.dumps({"ts": ts, "val": val}))
            sep = ","
    out.write("]}\n")


@his.command("write")
@click.argument("id")
@click.argument("file")
@click.pass_obj
def his_write(ctx: Context, id: str, file: str) -> None:
    """Write the ts,val rows of the CSV FILE (- is stdin) to point ID, in one atomic step."""
    with ctx.open(follow=False) as db:
        ref = Ref(id.lstrip("@"))
        config = read_config(db.read_by_id(ref))
        with open_path(file, "r") as stream:
            items = _items(_rows(stream, 2, file), config, file)
        result = db.his.write(ref, items)
    click.echo(f"wrote {result['count'].val:.0f} samples to @{ref.id}")


@his.command("import")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.pass_obj
def his_import(ctx: Context, source: Path) -> None:
    """Import history from SOURCE: a CSV file of id,ts,val rows, or a directory of <id>.csv
    files of ts,val rows.  Number and Bool points go through the numpy bulk path."""
    files = sorted(source.glob("*.csv")) if source.is_dir() else [source]
    total = sum(f.stat().st_size for f in files)
    start = time.perf_counter()
    with ctx.open(follow=False) as db, progress(total, "importing") as tick:
        importer = _Importer(db)
        for f in files:
            with open(f, encoding="utf-8", newline="") as stream:
                counted = _ticking(stream, tick)
                if source.is_dir():
                    importer.add(f.stem, _rows(counted, 2, str(f)), str(f))
                else:
                    for n, (pid, ts, val) in _rows(counted, 3, str(f)):
                        importer.add(pid, [(n, [ts, val])], str(f))
        importer.flush()
    elapsed = time.perf_counter() - start
    rate = importer.samples / elapsed if elapsed > 0 else 0.0
    click.echo(
        f"imported {importer.samples:,} samples into {len(importer.points):,} points in "
        f"{elapsed:.2f} s ({rate:,.0f} samples/s)"
    )


def _ticking(stream: Iterable[str], tick: Any) -> Iterator[str]:
    for line in stream:
        tick(len(line))
        yield line


class _Importer:
    """Buffers parsed samples per point and writes them in chunks: ``write_many`` for Number
    and Bool points, ``his.write`` for the others."""

    def __init__(self, db: Folio) -> None:
        self.db = db
        self.configs: dict[str, PointConfig] = {}
        self.arrays: dict[str, tuple[list[int], list[float]]] = {}
        self.items: dict[str, list[HisItem]] = {}
        self.pending = 0
        self.samples = 0
        self.points: set[str] = set()

    def add(self, pid: str, rows: Iterable[tuple[int, list[str]]], where: str) -> None:
        """Parse ``rows`` (line number, [ts, val]) of point ``pid``."""
        pid = pid.strip().lstrip("@")
        config = self.configs.get(pid)
        if config is None:
            config = self.configs[pid] = _config(self.db, pid)
        self.points.add(pid)
        if config.kind not in ("Number", "Bool"):
            self.items.setdefault(pid, []).extend(_items(rows, config, where))
            return
        ts_list, val_list = self.arrays.setdefault(pid, ([], []))
        for n, (ts, val) in rows:
            try:
                parsed = _parse_val(val, config)
                when = parse_ts(ts, config.zone)
            except ValueError as exc:
                raise HisWriteError(None, f"{where} line {n}: {exc}") from None
            if parsed is NA:  # the arrays cannot tell NA from NaN: NA goes as an item
                self.items.setdefault(pid, []).append(HisItem(when, NA))
            else:
                ts_list.append(epoch_ms(when))
                val_list.append(float(getattr(parsed, "val", parsed)))
            self.pending += 1
            if self.pending >= IMPORT_CHUNK:
                self.flush()

    def flush(self) -> None:
        """Write what is buffered."""
        data = {}
        for pid, (ts_list, val_list) in self.arrays.items():
            values = np.array(val_list, dtype=np.float64)
            if self.configs[pid].kind == "Bool":
                values = values.astype(bool)
            data[Ref(pid)] = (np.array(ts_list, dtype=np.int64), values)
        if data:
            self.samples += self.db.his.write_many(data)
        for pid, items in self.items.items():
            self.samples += int(self.db.his.write(Ref(pid), items)["count"].val)
        self.arrays.clear()
        self.items.clear()
        self.pending = 0
