"""Record files for the command line: Trio, Zinc and Haystack JSON in and out, CSV and a
terminal table out.  Writers take records one at a time; the readers stream."""

from __future__ import annotations

import csv
import itertools
import json as _json
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from .. import json as hxjson
from .. import trio, zinc
from ..errors import ParseError
from ..values import MARKER, Ref, dis_of

__all__ = [
    "EXTENSIONS",
    "READ_FORMATS",
    "RECORD_FORMATS",
    "format_of",
    "read_records",
    "write_records",
]

RECORD_FORMATS = ("trio", "zinc", "json")
READ_FORMATS = (*RECORD_FORMATS, "csv", "table")
EXTENSIONS = {".trio": "trio", ".zinc": "zinc", ".json": "json", ".csv": "csv"}


def format_of(path: str, given: str | None, allowed: Sequence[str]) -> str:
    """The format named by ``given``, else by the file's extension; ValueError when neither
    says (``-`` has no extension) or the format is not one of ``allowed``."""
    fmt = given or EXTENSIONS.get(Path(path).suffix.lower())
    if fmt is None:
        raise ValueError(
            f"cannot tell the format of {path!r} from its name: use --format ({'|'.join(allowed)})"
        )
    if fmt not in allowed:
        raise ValueError(f"format {fmt!r} is not one of {', '.join(allowed)} here")
    return fmt


def read_records(stream: TextIO, fmt: str, progress: Any = None) -> Iterator[dict[str, Any]]:
    """The records of a Trio, Zinc grid or Haystack JSON grid (or list of dicts) text, read
    and yielded one at a time (:func:`hxredis.zinc.iter_rows`, :func:`hxredis.json.iter_rows`):
    memory holds the current record's text, not the file's.

    A Zinc document that is not a grid (a list of dicts, a dict) is read whole.
    ``progress(n)`` is called with the number of characters read.  Raises
    :class:`ParseError` for malformed text when it is reached (the records before it
    were yielded).
    """
    counted = _Counted(stream, progress or (lambda n: None))
    if fmt == "trio":
        yield from _read_trio(counted)
    elif fmt == "json":
        yield from hxjson.iter_rows(counted)
    else:
        yield from _read_zinc(counted)


class _Counted:
    """A text stream whose lines and reads report their length to ``tick``."""

    def __init__(self, stream: TextIO, tick: Any) -> None:
        self._stream = stream
        self._tick = tick

    def __iter__(self) -> Iterator[str]:
        for line in self._stream:
            self._tick(len(line))
            yield line

    def read(self, n: int = -1, /) -> str:
        text = self._stream.read(n)
        self._tick(len(text))
        return text


def _read_zinc(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    it = iter(lines)
    head: list[str] = []
    for line in it:  # blank lines, then the first line says whether this is a grid
        head.append(line)
        if line.strip():
            break
    if head and head[-1].startswith("ver"):
        yield from zinc.iter_rows(itertools.chain(head, it))
        return
    val = zinc.loads("".join(itertools.chain(head, it)))
    if isinstance(val, list) and all(isinstance(v, dict) for v in val):
        yield from val
    elif isinstance(val, dict):
        yield val
    else:
        raise ParseError(f"expected a grid of records, not {type(val).__name__}")


def _read_trio(stream: Iterable[str]) -> Iterator[dict[str, Any]]:
    chunk: list[str] = []
    first_line = 1
    for lineno, line in enumerate(stream, 1):
        if line.startswith("---"):
            yield from _trio_chunk(chunk, first_line)
            chunk, first_line = [], lineno + 1
        else:
            chunk.append(line)
    yield from _trio_chunk(chunk, first_line)


def _trio_chunk(lines: list[str], first_line: int) -> list[dict[str, Any]]:
    try:
        return trio.loads("".join(lines)) if lines else []
    except ParseError as exc:
        line = None if exc.line is None else exc.line + first_line - 1
        raise ParseError(exc.msg, line, exc.col) from None


def write_records(
    out: TextIO, fmt: str, recs: Sequence[Mapping[str, Any]], progress: Any = None
) -> None:
    """Write ``recs`` in ``fmt`` (a record format, ``csv`` or ``table``), one record at a
    time; ``progress(n)`` is called after every record when given."""
    tick = progress or (lambda n: None)
    if fmt == "trio":
        for i, rec in enumerate(recs):
            if i:
                out.write("---\n")
            out.write(trio.dump_rec(rec))
            tick(1)
    elif fmt == "zinc":
        names = _columns(recs)
        out.write('ver:"3.0"\n' + ",".join(names or ["empty"]) + "\n")
        for rec in recs:
            cells = [_zinc_cell(rec.get(n)) for n in names]
            out.write((",".join(cells) if len(names) != 1 else cells[0] or "N") + "\n")
            tick(1)
    elif fmt == "json":
        cols = _json.dumps([{"name": n} for n in _columns(recs) or ["empty"]])
        out.write('{"_kind":"grid","meta":{"ver":"3.0"},"cols":' + cols + ',"rows":[')
        for i, rec in enumerate(recs):
            out.write(("," if i else "") + "\n" + hxjson.dumps(rec))
            tick(1)
        out.write("\n]}\n")
    elif fmt == "csv":
        names = _columns(recs)
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(names)
        for rec in recs:
            writer.writerow([_text(rec.get(n)) for n in names])
            tick(1)
    elif fmt == "table":
        _table(out, recs, shutil.get_terminal_size().columns)
    else:
        raise ValueError(f"unknown format {fmt!r}")


def _columns(recs: Iterable[Mapping[str, Any]]) -> list[str]:
    """Tag names of all records: id, dis first, the others sorted, mod last."""
    names: set[str] = set()
    for rec in recs:
        names.update(rec)
    first = [n for n in ("id", "dis") if n in names]
    last = ["mod"] if "mod" in names else []
    return first + sorted(names - {"id", "dis", "mod"}) + last


def _zinc_cell(val: Any) -> str:
    return "" if val is None else zinc.dumps(val)


def _text(val: Any) -> str:
    """A cell as people read it: strings bare, markers as a check mark, Refs as @id."""
    if val is None:
        return ""
    if isinstance(val, str):
        return val
    if val is MARKER:
        return "\u2713"
    if isinstance(val, Ref):
        return f"@{val.id}"
    return zinc.dumps(val)


def _table(out: TextIO, recs: Sequence[Mapping[str, Any]], width: int) -> None:
    """An aligned table: id, dis and the commonest other tags that fit in ``width``."""
    counts: dict[str, int] = {}
    for rec in recs:
        for name in rec:
            counts[name] = counts.get(name, 0) + 1
    others = sorted(
        (n for n in counts if n not in ("id", "dis", "mod")), key=lambda n: (-counts[n], n)
    )
    rows = [[_text(rec.get("id")), dis_of(rec)] for rec in recs]
    names = ["id", "dis"]
    widths = [max([2, *(len(r[0]) for r in rows)]), max([3, *(len(r[1]) for r in rows)])]
    widths = [min(w, 40) for w in widths]
    for name in others:
        cells = [_text(rec.get(name)) for rec in recs]
        w = min(max([len(name), *(len(c) for c in cells)]), 30)
        if sum(widths) + 2 * len(widths) + w > width:
            break
        names.append(name)
        widths.append(w)
        for row, cell in zip(rows, cells, strict=True):
            row.append(cell)

    def line(cells: Sequence[str]) -> str:
        fitted = [
            c if len(c) <= w else c[: w - 1] + "\u2026" for c, w in zip(cells, widths, strict=True)
        ]
        return "  ".join(c.ljust(w) for c, w in zip(fitted, widths, strict=True)).rstrip()

    out.write(line(names) + "\n")
    out.write(line(["-" * w for w in widths]) + "\n")
    for row in rows:
        out.write(line(row) + "\n")
    out.write(f"({len(rows)} record{'s' if len(rows) != 1 else ''})\n")
