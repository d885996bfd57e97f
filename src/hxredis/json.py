"""Haystack JSON, version 4: ``hx.json.dumps(val)`` and ``hx.json.loads(text)``.

A JSON object is a Dict, an array a List, a string a Str, ``true``/``false`` a Bool and a plain
number a unitless Number; every other kind is an object with ``_kind`` (``marker``, ``na``,
``remove``, ``number``, ``ref``, ``uri``, ``symbol``, ``date``, ``time``, ``dateTime``,
``coord``, ``xstr``, ``dict``, ``grid``).  The writer never writes a bare NaN or infinity
(``{"_kind":"number","val":"NaN"}``), always writes a DateTime's ``tz`` and leaves null grid
cells out.  The reader also accepts ``NaN``/``Infinity`` tokens, a DateTime without ``tz``
(GMT) and a Dict with ``null`` values (absent tags).

:func:`encode` and :func:`decode` convert between Haystack values and the plain Python
objects of the standard :mod:`json` module, for writers that stream; :func:`iter_rows` reads
the records of a grid (or list) document from a text stream one at a time.
"""

from __future__ import annotations

import json as _json
import math
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from datetime import time as Time
from typing import Any, Protocol

from . import timezones, zinc
from .errors import ParseError
from .values import (
    MARKER,
    NA,
    REMOVE,
    Coord,
    Grid,
    Marker,
    NAType,
    Number,
    Ref,
    RemoveType,
    Span,
    Symbol,
    Uri,
    XStr,
    is_tag_name,
)

__all__ = ["decode", "dumps", "encode", "iter_rows", "loads"]

_SPECIAL = {"NaN": math.nan, "INF": math.inf, "-INF": -math.inf}


def dumps(val: Any) -> str:
    """The Haystack JSON v4 text of a Haystack value (a Grid, Dict, List or scalar).

    Raises TypeError for anything that is not a Haystack value.
    """
    return _json.dumps(encode(val), ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def loads(text: str | bytes) -> Any:
    """The Haystack value of a Haystack JSON v4 text.

    Raises :class:`~hxredis.errors.ParseError` for text that is not JSON or not Haystack JSON.
    """
    try:
        try:
            obj = _json.loads(text)
        except ValueError as exc:
            raise ParseError(f"Invalid JSON: {exc}") from None
        return decode(obj)
    except RecursionError:
        raise _too_deep() from None


def _too_deep() -> ParseError:
    return ParseError("Invalid JSON: values nested too deeply for the interpreter's stack")


def _number(n: Number) -> Any:
    val = n.val
    if math.isnan(val) or math.isinf(val):
        num: Any = "NaN" if math.isnan(val) else ("INF" if val > 0 else "-INF")
    else:
        num = int(val) if val.is_integer() and abs(val) < 2**53 else val
    if n.unit is None and not isinstance(num, str):
        return num
    out = {"_kind": "number", "val": num}
    if n.unit is not None:
        out["unit"] = n.unit
    return out


def encode(val: Any) -> Any:
    """A Haystack value as plain JSON-able Python objects (dict, list, str, int, float, bool).

    Raises TypeError for anything that is not a Haystack value.
    """
    if val is None:
        return None
    if isinstance(val, (bool, str)):
        return val
    if isinstance(val, Number):
        return _number(val)
    if isinstance(val, Marker):
        return {"_kind": "marker"}
    if isinstance(val, NAType):
        return {"_kind": "na"}
    if isinstance(val, RemoveType):
        return {"_kind": "remove"}
    if isinstance(val, Ref):
        out = {"_kind": "ref", "val": val.id}
        if val.dis is not None:
            out["dis"] = val.dis
        return out
    if isinstance(val, Uri):
        return {"_kind": "uri", "val": val.val}
    if isinstance(val, Symbol):
        return {"_kind": "symbol", "val": val.val}
    if isinstance(val, datetime):
        if val.tzinfo is None:
            raise TypeError("naive datetime is not a Haystack value (DateTime needs a timezone)")
        return {"_kind": "dateTime", "val": val.isoformat(), "tz": timezones.tz_name(val)}
    if isinstance(val, date):
        return {"_kind": "date", "val": val.isoformat()}
    if isinstance(val, Time):
        return {"_kind": "time", "val": val.isoformat()}
    if isinstance(val, Coord):
        return {"_kind": "coord", "lat": val.lat, "lng": val.lng}
    if isinstance(val, XStr):
        return {"_kind": "xstr", "type": val.type, "val": val.val}
    if isinstance(val, Span):
        return {"_kind": "xstr", "type": "Span", "val": zinc.dumps(val)[len('Span("') : -2]}
    if isinstance(val, Grid):
        return _grid(val)
    if isinstance(val, Mapping):
        return {k: encode(v) for k, v in val.items() if v is not None}
    if isinstance(val, (list, tuple)):
        return [encode(v) for v in val]
    raise TypeError(f"not a Haystack value: {type(val).__name__}")


def _grid(grid: Grid) -> dict[str, Any]:
    meta = {"ver": "3.0", **{k: encode(v) for k, v in grid.meta.items() if k != "ver"}}
    cols = []
    for col in grid.cols:
        c: dict[str, Any] = {"name": col.name}
        if col.meta:
            c["meta"] = encode(col.meta)
        cols.append(c)
    rows = [encode(row) for row in grid.rows]
    return {"_kind": "grid", "meta": meta, "cols": cols, "rows": rows}


def decode(obj: Any) -> Any:
    """The Haystack value of plain JSON-decoded Python objects (see :func:`encode`).

    Raises :class:`~hxredis.errors.ParseError` for objects that are not Haystack JSON.
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, float)):
        return Number(float(obj))
    if isinstance(obj, list):
        return [decode(v) for v in obj]
    if not isinstance(obj, dict):
        raise ParseError(f"Not Haystack JSON: {obj!r}")
    kind = obj.get("_kind", "dict")
    try:
        return _decode_kind(kind, obj)
    except ParseError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ParseError(
            f"Invalid Haystack JSON {kind}: {_json.dumps(obj)[:200]} ({exc})"
        ) from None


def _decode_kind(kind: Any, obj: dict[str, Any]) -> Any:
    if kind == "dict":
        return {k: decode(v) for k, v in obj.items() if k != "_kind" and v is not None}
    if kind == "marker":
        return MARKER
    if kind == "na":
        return NA
    if kind == "remove":
        return REMOVE
    if kind == "number":
        val = obj["val"]
        num = _SPECIAL[val] if isinstance(val, str) else float(val)
        return Number(num, obj.get("unit"))
    if kind == "ref":
        return Ref(obj["val"], obj.get("dis"))
    if kind == "uri":
        return Uri(obj["val"])
    if kind == "symbol":
        return Symbol(obj["val"])
    if kind == "date":
        return date.fromisoformat(obj["val"])
    if kind == "time":
        return Time.fromisoformat(obj["val"])
    if kind == "dateTime":
        parsed = datetime.fromisoformat(obj["val"].replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            raise ValueError("a dateTime needs an offset")
        return parsed.astimezone(timezones.tz(obj.get("tz", "GMT")))
    if kind == "coord":
        return Coord(float(obj["lat"]), float(obj["lng"]))
    if kind == "xstr":
        if obj["type"] == "Span":
            return zinc.loads(f"Span({zinc.dumps_str(obj['val'])})")
        return XStr(obj["type"], obj["val"])
    if kind == "grid":
        return _decode_grid(obj)
    raise ParseError(f"Unknown Haystack JSON _kind: {kind!r}")


def _decode_grid(obj: dict[str, Any]) -> Grid:
    meta = obj["meta"]
    if not isinstance(meta, dict) or meta.get("ver") not in ("2.0", "3.0"):
        raise ValueError('grid meta must hold "ver": "3.0"')
    cols = []
    for col in obj.get("cols", []):
        name = col["name"]
        if not is_tag_name(name):
            raise ValueError(f"invalid column name {name!r}")
        cols.append((name, decode({**col.get("meta", {}), "_kind": "dict"})))
    rows = [decode({**row, "_kind": "dict"}) for row in obj.get("rows", [])]
    grid_meta = decode({k: v for k, v in meta.items() if k != "ver"} | {"_kind": "dict"})
    return Grid(grid_meta, cols, rows)


# ------------------------------------------------------------------------------------------------
# Streaming reader
# ------------------------------------------------------------------------------------------------


class Readable(Protocol):
    """What :func:`iter_rows` reads from: a text stream's ``read(n)``."""

    def read(self, n: int = -1, /) -> str: ...


_DECODER = _json.JSONDecoder()
_WS = re.compile(r"[ \t\n\r]*")
_CHUNK = 1 << 16
# json reports a value cut short by the end of its text within a few chars of the end
# (``-Infinit`` is the longest), or as an unterminated string starting anywhere before it;
# a value is complete when it ends this far before the end of the text held (or at EOF).
_CUT_SHORT = 16


class _Window:
    """A sliding window over a text stream for :meth:`json.JSONDecoder.raw_decode`: holds the
    unread text of the current value and at most one chunk more, and the line and column of
    its first char for error messages."""

    def __init__(self, stream: Readable) -> None:
        self._stream = stream
        self.buf = ""
        self.pos = 0
        self._eof = False
        self._line = 1  # line of buf[0]
        self._col = 0  # chars before buf[0] on its line
        self._char = 0  # chars before buf[0]

    def _more(self, at_least: int) -> bool:
        """Read at least ``at_least`` chars (one chunk at least) and drop the text before
        :attr:`pos`; False (and nothing dropped) at the end of the stream."""
        if self._eof:
            return False
        chunk = self._stream.read(max(_CHUNK, at_least))
        if not chunk:
            self._eof = True
            return False
        dropped, pos = self.buf, self.pos
        if pos:
            newlines = dropped.count("\n", 0, pos)
            if newlines:
                self._line += newlines
                self._col = pos - dropped.rfind("\n", 0, pos) - 1
            else:
                self._col += pos
            self._char += pos
            self.buf, self.pos = dropped[pos:], 0
        self.buf += chunk
        return True

    def peek(self) -> str:
        """The next char after whitespace (:attr:`pos` is then at it), ``""`` at the end."""
        while True:
            self.pos = _WS.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._more(0):
                return ""

    def expect(self, char: str, what: str) -> None:
        """Consume ``char`` (after whitespace); ParseError ``Expecting <what>`` otherwise."""
        if self.peek() != char:
            raise self.error(f"Expecting {what}", self.pos)
        self.pos += 1

    def value(self) -> Any:
        """Decode the JSON value at :attr:`pos` (after whitespace) as plain Python objects."""
        self.peek()
        while True:
            try:
                obj, end = _DECODER.raw_decode(self.buf, self.pos)
            except _json.JSONDecodeError as exc:
                cut = (
                    exc.msg.startswith("Unterminated string")
                    or exc.pos >= len(self.buf) - _CUT_SHORT
                )
                if cut and self._more(len(self.buf) - self.pos):
                    continue
                raise self.error(exc.msg, exc.pos) from None
            # a number ending near the end of the text held may go on (``1`` of ``1.5``)
            if end < len(self.buf) - _CUT_SHORT or not self._more(len(self.buf) - self.pos):
                self.pos = end
                return obj

    def items(self) -> Iterator[Any]:
        """The values of the array whose ``[`` is at :attr:`pos`, one at a time."""
        self.expect("[", "'['")
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            yield self.value()
            char = self.peek()
            self.pos += 1
            if char == "]":
                return
            if char != ",":
                raise self.error("Expecting ',' delimiter", self.pos - 1)

    def error(self, msg: str, pos: int) -> ParseError:
        """The ParseError json's own would be for ``msg`` at ``pos`` in the whole text."""
        newlines = self.buf.count("\n", 0, pos)
        if newlines:
            line, col = self._line + newlines, pos - self.buf.rfind("\n", 0, pos)
        else:
            line, col = self._line, self._col + pos + 1
        return ParseError(
            f"Invalid JSON: {msg}: line {line} column {col} (char {self._char + pos})"
        )


def iter_rows(stream: Readable) -> Iterator[dict[str, Any]]:
    """The records of the Haystack JSON document read from ``stream``, one at a time: the
    rows of a grid (``{"_kind": "grid", ..., "rows": [...]}``, any key order), the items of a
    top-level list of dicts, or a single dict.

    Each record is decoded as :func:`loads` decodes it, as soon as its text is read: only a
    window of the text (64 KiB plus the current row) is held.  The rows are streamed when
    ``"_kind": "grid"`` comes before ``"rows"`` (as every writer puts it), else the document
    is decoded whole first.  Raises :class:`~hxredis.errors.ParseError` for malformed text
    (messages as :func:`loads`'s) or a document that holds no records, when the fault is
    reached: the records before it were yielded.
    """
    try:
        yield from _rows(_Window(stream))
    except RecursionError:
        raise _too_deep() from None


def _rows(win: _Window) -> Iterator[dict[str, Any]]:
    first = win.peek()
    if first == "[":
        for n, obj in enumerate(win.items()):
            val = decode(obj)
            if not isinstance(val, dict):
                raise ParseError(
                    f"expected a grid of records: item {n} of the list is {type(val).__name__}"
                )
            yield val
    elif first == "{":
        yield from _object_rows(win)
    else:
        val = decode(win.value())
        raise ParseError(f"expected a grid of records, not {type(val).__name__}")
    if win.peek():
        raise win.error("Extra data", win.pos)


def _object_rows(win: _Window) -> Iterator[dict[str, Any]]:
    """The records of the top-level object at :attr:`_Window.pos`: a grid's rows, streamed
    when its ``_kind`` came first, else the object decoded whole."""
    win.expect("{", "'{'")
    obj: dict[str, Any] = {}
    streamed = False
    if win.peek() == "}":
        win.pos += 1
    else:
        while True:
            if win.peek() != '"':
                raise win.error("Expecting property name enclosed in double quotes", win.pos)
            key = win.value()
            win.expect(":", "':' delimiter")
            if key == "rows" and obj.get("_kind") == "grid" and win.peek() == "[":
                for n, row in enumerate(win.items()):
                    if not isinstance(row, dict):
                        raise ParseError(f"Invalid Haystack JSON grid: row {n} is not an object")
                    yield decode({**row, "_kind": "dict"})
                streamed = True
            else:
                obj[key] = win.value()
            char = win.peek()
            win.pos += 1
            if char == "}":
                break
            if char != ",":
                raise win.error("Expecting ',' delimiter", win.pos - 1)
    if streamed:
        decode({**obj, "rows": []})  # the grid's meta and columns checked as loads does
        return
    val = decode(obj)
    if isinstance(val, Grid):
        yield from val.rows
    elif isinstance(val, dict):
        yield val
    else:
        raise ParseError(f"expected a grid of records, not {type(val).__name__}")
