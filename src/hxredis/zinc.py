"""The Zinc codec (Haxall ZincReader / ZincWriter) for every Haystack value.

:func:`dumps` writes one value (``ZincWriter.valToStr``; a Grid as a nested ``<<…>>`` value),
:func:`dumps_grid` writes a grid document, :func:`loads` reads one value or grid document and
requires the end of the input after it, :func:`iter_rows` reads a grid document's rows one at a
time from a text stream.  Writer output is byte-exact with Haxall: Java-style
doubles, ``$`` always escaped in strings, control chars as ``\\u{h}``, units by symbol.
The scalar writers (:func:`dumps_str`, :func:`dumps_number`, :func:`dumps_uri` ...) and
:class:`ZincReader` / :func:`read_value` are shared with the Trio and filter codecs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime, time
from typing import Any

from . import timezones
from .errors import ParseError
from .tokenizer import Token, Tokenizer
from .values import (
    MARKER,
    NA,
    REMOVE,
    Coord,
    Grid,
    GridCol,
    Marker,
    NAType,
    Number,
    Ref,
    RemoveType,
    Span,
    Symbol,
    Uri,
    XStr,
    kind_of,
)

__all__ = [
    "MAX_DEPTH",
    "ZincReader",
    "dumps",
    "dumps_date",
    "dumps_datetime",
    "dumps_grid",
    "dumps_number",
    "dumps_ref",
    "dumps_str",
    "dumps_time",
    "dumps_uri",
    "iter_rows",
    "loads",
    "loads_tags",
    "nesting_error",
    "read_value",
]

# ------------------------------------------------------------------------------------------------
# Writer
# ------------------------------------------------------------------------------------------------

_STR_SPECIAL = re.compile(r'[\x00-\x1f"\\$]')
_STR_ESCAPES = {"\n": "\\n", "\r": "\\r", "\f": "\\f", "\t": "\\t", '"': '\\"', "\\": "\\\\"}
_STR_ESCAPES["$"] = "\\$"
# A backslash before one of : / ? # [ ] @ \ & = ; is read back verbatim, so such a pair is
# written as it is; any other backslash would start an escape and is written as \u005c.
_URI_SPECIAL = re.compile(r"\\[:/?#\[\]@\\&=;]|[\\\n\r\f\t`$]")
_URI_ESCAPES = {
    "\n": "\\n", "\r": "\\r", "\f": "\\f", "\t": "\\t", "`": "\\`", "$": "\\$",
    "\\": "\\u005c",
}  # fmt: skip
_READABLE_NAME = re.compile(r"[a-z][A-Za-z0-9_]*|_[A-Za-z0-9_][A-Za-z0-9_]*")


def _str_escape(m: re.Match[str]) -> str:
    c = m.group()
    return _STR_ESCAPES.get(c) or f"\\u{{{ord(c):x}}}"


def dumps_str(s: str) -> str:
    """Fantom ``Str.toCode``: double-quoted, ``\\n \\r \\f \\t \\" \\\\ \\$`` escaped, other
    control chars as ``\\u{h}``, everything else (non-ASCII included) raw."""
    if _STR_SPECIAL.search(s) is None:
        return f'"{s}"'
    return f'"{_STR_SPECIAL.sub(_str_escape, s)}"'


def dumps_uri(uri: Uri) -> str:
    """Fantom ``Uri.toCode``: backticks, escaping ``\\n \\r \\f \\t``, backtick and ``$``;
    unlike Fantom, also a backslash the reader would take for an escape (as ``\\u005c``), so
    every Uri reads back unchanged."""
    s = uri.val
    if _URI_SPECIAL.search(s) is not None:
        s = _URI_SPECIAL.sub(_uri_escape, s)
    return f"`{s}`"


def _uri_escape(m: re.Match[str]) -> str:
    text = m.group()
    return text if len(text) == 2 else _URI_ESCAPES[text]


def dumps_number(n: Number) -> str:
    """Haxall ``Number.toStr``: an integer when integral within +/- 1e12, else Java
    ``Double.toString``; ``NaN``/``INF``/``-INF`` drop the unit; the unit by its symbol."""
    return str(n)


def dumps_ref(ref: Ref) -> str:
    """``@id``, or ``@id "dis"`` when the Ref carries a display string."""
    if ref.dis is None:
        return "@" + ref.id
    return f"@{ref.id} {dumps_str(ref.dis)}"


def dumps_date(d: date) -> str:
    """``YYYY-MM-DD``."""
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


def _fraction(us: int) -> str:
    return "" if not us else "." + f"{us:06d}".rstrip("0")


def dumps_time(t: time) -> str:
    """``hh:mm:ss`` plus ``.fff`` when sub-second, trailing zeros stripped."""
    return f"{t.hour:02d}:{t.minute:02d}:{t.second:02d}{_fraction(t.microsecond)}"


def dumps_datetime(dt: datetime) -> str:
    """Zinc DateTime: ``…Z`` with no name in UTC, else ``…±hh:mm Name`` (``Z Name`` when the
    offset is zero), Name the canonical Haystack tz name.  TypeError for a naive datetime,
    ValueError for a timezone without a Haystack name."""
    off = dt.utcoffset()
    if off is None:
        raise TypeError("naive datetime is not a Haystack value (DateTime needs a timezone)")
    name = timezones.tz_name(dt)
    text = (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T"
        f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}{_fraction(dt.microsecond)}"
    )
    secs = int(off.total_seconds())
    if secs == 0:
        return text + "Z" if name == "UTC" else f"{text}Z {name}"
    sign = "-" if secs < 0 else "+"
    secs = abs(secs)
    return f"{text}{sign}{secs // 3600:02d}:{secs // 60 % 60:02d} {name}"


def _dumps_fantom_datetime(dt: datetime) -> str:
    """Fantom ``DateTime.toStr``: like Zinc but always with the tz name (``…Z UTC``)."""
    text = dumps_datetime(dt)
    return text + " UTC" if text.endswith("Z") else text


def _dumps_dict(d: Mapping[str, Any]) -> str:
    return "{" + " ".join(_tags(d)) + "}"


def _tags(d: Mapping[str, Any]) -> list[str]:
    """``name`` / ``name:val`` items of a dict, nulls skipped; ValueError for unreadable names."""
    out = []
    for name, val in d.items():
        if val is None:
            continue
        if not isinstance(name, str) or _READABLE_NAME.fullmatch(name) is None:
            raise ValueError(f"Invalid tag name for Zinc: {name!r}")
        out.append(name if val is MARKER else f"{name}:{dumps(val)}")
    return out


def _cell(val: Any) -> str:
    return "N" if val is None else dumps(val)


def dumps_grid(grid: Grid) -> str:
    """A Zinc grid document: ``ver:"3.0"`` + meta, the column line, one line per row (null
    cells empty, ``N`` in a one-column grid), then a blank line.  A grid without columns is
    written with Haxall's single ``empty`` column."""
    head = " ".join(['ver:"3.0"', *_tags(grid.meta)])
    cols = grid.cols or [GridCol("empty", {})]
    col_text = ",".join(" ".join([c.name, *_tags(c.meta)]) for c in cols)
    names = [c.name for c in cols]
    lines = [head, col_text]
    if len(names) == 1:
        name = names[0]
        lines.extend(_cell(row.get(name)) for row in grid.rows)
    else:
        for row in grid.rows:
            get = row.get
            lines.append(",".join("" if (v := get(n)) is None else dumps(v) for n in names))
    lines.append("\n")
    return "\n".join(lines)


def _dumps_span(span: Span) -> str:
    text = f"{_dumps_fantom_datetime(span.start)},{_dumps_fantom_datetime(span.end)}"
    return f"Span({dumps_str(text)})"


_WRITERS: dict[type, Callable[[Any], str]] = {
    str: dumps_str,
    Number: str,
    Ref: dumps_ref,
    Marker: lambda _: "M",
    NAType: lambda _: "NA",
    RemoveType: lambda _: "R",
    bool: lambda b: "T" if b else "F",
    Uri: dumps_uri,
    Symbol: lambda s: "^" + s.val,
    date: dumps_date,
    time: dumps_time,
    datetime: dumps_datetime,
    Coord: str,
    XStr: lambda x: f"{x.type}({dumps_str(x.val)})",
    Span: _dumps_span,
    list: lambda items: "[" + ",".join(_cell(v) for v in items) + "]",
    dict: _dumps_dict,
    Grid: lambda g: "<<\n" + dumps_grid(g) + ">>",
}


def dumps(val: Any) -> str:
    """The Zinc text of one value (``ZincWriter.valToStr``); None is ``N``.

    A Grid is written as a nested ``<<…>>`` value (use :func:`dumps_grid` for a grid document),
    a :class:`~hxredis.values.Span` as ``Span("start,end")``.  TypeError for a value that is
    not a Haystack kind (see :func:`~hxredis.values.kind_of`).
    """
    writer = _WRITERS.get(type(val))
    if writer is not None:
        return writer(val)
    if val is None:
        return "N"
    kind = kind_of(val)  # raises TypeError for non-Haystack values
    if kind == "DateTime":
        return dumps_datetime(val)
    for cls, writer in _WRITERS.items():
        if isinstance(val, cls) and not (cls is date and isinstance(val, datetime)):
            return writer(val)
    return _dumps_dict(val)  # any other Mapping


# ------------------------------------------------------------------------------------------------
# Reader
# ------------------------------------------------------------------------------------------------

_LITERALS = frozenset({"num", "str", "ref", "symbol", "uri", "date", "time", "dateTime"})
_KEYWORDS: dict[str, Any] = {
    "T": True,
    "F": False,
    "N": None,
    "M": MARKER,
    "NA": NA,
    "R": REMOVE,
    "NaN": Number(float("nan")),
    "INF": Number(float("inf")),
}
_NEG_INF = Number(float("-inf"))

#: How deep Lists, Dicts and Grids may nest: a value whose text opens more levels (a List tag
#: value, a Grid document, a ``Trio:`` block each open one) is refused by the Zinc and Trio
#: readers with a ParseError, and a commit refuses to store one (:mod:`hxredis.diff`), so
#: every stored record reads back and reading never exhausts the interpreter stack.
MAX_DEPTH = 100


def nesting_error(depth: int) -> ParseError:
    """The ParseError for a value opening nesting level ``depth`` (> :data:`MAX_DEPTH`)."""
    return ParseError(
        f"Values nested too deeply: level {depth} of List, Dict or Grid, at most {MAX_DEPTH}"
    )


def _code(s: str) -> str:
    return dumps_str(s)


class ZincReader:
    """Recursive-descent Zinc reader over a :class:`~hxredis.tokenizer.Tokenizer`.

    :attr:`cur` is the current (first unconsumed) token.  Errors raise ParseError with the
    line (and col) of the offending token, Haxall messages where known.
    """

    __slots__ = ("_depth", "_tok", "cur")

    def __init__(self, source: str | Tokenizer, depth: int = 0) -> None:
        """``depth``: the nesting levels already open around the text (see :data:`MAX_DEPTH`)."""
        self._tok = source if isinstance(source, Tokenizer) else Tokenizer(source)
        self._depth = depth
        self.cur: Token = self._tok.next()

    # -- token helpers ---------------------------------------------------------------------------

    def _err(self, msg: str, tok: Token | None = None) -> ParseError:
        tok = tok or self.cur
        err = ParseError(msg, tok.line)
        err.col = tok.col
        return err

    def _advance(self) -> Token:
        """Consume the current token and return it."""
        tok = self.cur
        self.cur = self._tok.next()
        return tok

    def _desc(self, tok: Token) -> str:
        if tok.val is None:
            return tok.type
        text = tok.val if isinstance(tok.val, str) else dumps(tok.val)
        return f"{tok.type} {_code(text)}"

    def _nested(self, read: Callable[[], Any]) -> Any:
        """``read()`` one level deeper; ParseError beyond :data:`MAX_DEPTH`."""
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                err = nesting_error(self._depth)
                raise self._err(err.msg)
            return read()
        finally:
            self._depth -= 1

    def _expect(self, typ: str) -> Token:
        if self.cur.type != typ:
            raise self._err(f"Expected {typ} not {self._desc(self.cur)}")
        return self._advance()

    # -- public ----------------------------------------------------------------------------------

    def read_val(self) -> Any:
        """Read one value or grid document (input starting with ``ver``), then require EOF
        (trailing newlines allowed)."""
        cur = self.cur
        if cur.type == "id" and cur.val == "ver":
            val = self._nested(self.read_grid)
        else:
            val = self.read_value()
        self.expect_eof()
        return val

    def read_value(self) -> Any:
        """Read one value; :attr:`cur` is then the token after it."""
        cur = self.cur
        typ = cur.type
        if typ in _LITERALS:
            self._advance()
            if typ == "ref" and self.cur.type == "str":
                return Ref(cur.val.id, self._advance().val)
            return cur.val
        if typ == "id":
            self._advance()
            if self.cur.type == "lparen":
                return self._coord_or_xstr(cur)
            name = cur.val
            if name in _KEYWORDS:
                return _KEYWORDS[name]
            raise self._err(f"Unexpected identifier {_code(name)}", cur)
        if typ == "minus":
            self._advance()
            if self.cur.type == "id" and self.cur.val == "INF":
                self._advance()
                return _NEG_INF
            raise self._err(f"Unexpected token: {self._desc(cur)}", cur)
        if typ == "lbracket":
            return self._nested(self._list)
        if typ == "lbrace":
            return self._nested(self._braced_dict)
        if typ == "lt2":
            return self._nested(self.read_grid)
        raise self._err(f"Unexpected token: {self._desc(cur)}")

    def read_dict(self, allow_comma: bool) -> dict[str, Any]:
        """Read ``{…}`` or, without a leading brace, bare ``name[:val]`` tags (grid meta,
        ``loads_tags``); tags whose value is ``N`` are dropped."""
        acc: dict[str, Any] = {}
        braces = self.cur.type == "lbrace"
        if braces:
            self._advance()
        while self.cur.type == "id":
            name = self._tag_name()
            val: Any = MARKER
            if self.cur.type == "colon":
                self._advance()
                val = self.read_value()
            if val is None:
                acc.pop(name, None)
            else:
                acc[name] = val
            if allow_comma and self.cur.type == "comma":
                self._advance()
        if braces:
            self._expect("rbrace")
        return acc

    def read_grid(self) -> Grid:
        """Read a grid document, or a nested ``<<…>>`` grid when :attr:`cur` is ``<<``."""
        nested = self.cur.type == "lt2"
        meta, cols = self.read_grid_head()
        rows = list(self.iter_grid_rows(cols, nested))
        return Grid(meta, cols, rows)

    def read_grid_head(self) -> tuple[dict[str, Any], list[GridCol]]:
        """Read a grid's ``ver`` line (after ``<<`` when :attr:`cur` is ``<<``) and its column
        line: ``(meta, cols)``; :attr:`cur` is then the first token of the first row."""
        if self.cur.type == "lt2":
            self._advance()
            if self.cur.type == "nl":
                self._advance()
        if self.cur.type != "id" or self.cur.val != "ver":
            raise self._err(f"Expecting grid 'ver' identifier, not {self._desc(self.cur)}")
        self._advance()
        self._expect("colon")
        ver_tok = self._expect("str")
        if ver_tok.val not in ("3.0", "2.0"):
            raise self._err(f"Unsupported version {_code(ver_tok.val)}", ver_tok)
        meta = self.read_dict(False) if self.cur.type == "id" else {}
        self._expect("nl")

        cols: list[GridCol] = []
        while self.cur.type == "id":
            name_tok = self.cur
            name = self._tag_name()
            if any(c.name == name for c in cols):
                raise self._err(f"Duplicate column name: {name}", name_tok)
            cols.append(GridCol(name, self.read_dict(False) if self.cur.type == "id" else {}))
            if self.cur.type != "comma":
                break
            self._advance()
        if not cols:
            raise self._err("No columns defined")
        self._expect("nl")
        return meta, cols

    def iter_grid_rows(self, cols: list[GridCol], nested: bool) -> Iterator[list[Any]]:
        """Read the rows after :meth:`read_grid_head`, yielding each one's cells as soon as
        it is read, up to the blank line, end of input or (``nested``) the closing ``>>``,
        which is consumed."""
        ends = ("comma", "nl", "eof", "gt2") if nested else ("comma", "nl", "eof")
        num_cols = len(cols)
        while True:
            typ = self.cur.type
            if typ == "nl" or typ == "eof" or (nested and typ == "gt2"):
                break
            cells = []
            for i in range(num_cols):
                cells.append(None if self.cur.type in ends else self.read_value())
                if i + 1 < num_cols:
                    self._expect("comma")
            yield cells
            typ = self.cur.type
            if (nested and typ == "gt2") or typ == "eof":
                break
            self._expect("nl")
        if self.cur.type == "nl":
            self._advance()
        if nested:
            self._expect("gt2")

    def expect_eof(self) -> None:
        """Require the end of the input after what was read (trailing newlines allowed)."""
        while self.cur.type == "nl":
            self._advance()
        if self.cur.type != "eof":
            raise self._err(f"Expected eof not {self._desc(self.cur)}")

    # -- productions -----------------------------------------------------------------------------

    def _tag_name(self) -> str:
        tok = self._expect("id")
        c = tok.val[0]
        if not ("a" <= c <= "z" or c == "_"):
            raise self._err(f"Invalid dict tag name: {_code(tok.val)}", tok)
        return tok.val

    def _braced_dict(self) -> dict[str, Any]:
        return self.read_dict(True)

    def _list(self) -> list[Any]:
        acc = []
        self._advance()  # [
        while self.cur.type != "rbracket" and self.cur.type != "eof":
            acc.append(self.read_value())
            if self.cur.type != "comma":
                break
            self._advance()
        self._expect("rbracket")
        return acc

    def _coord_or_xstr(self, id_tok: Token) -> Any:
        name = id_tok.val
        self._advance()  # (
        if self.cur.type == "num":
            if name != "C":
                raise self._err(f"Expecting 'C' for coord, not {_code(name)}", id_tok)
            lat = self._advance().val
            self._expect("comma")
            lng = self._expect("num").val
            self._expect("rparen")
            try:
                return Coord(lat.val, lng.val)
            except ValueError as e:
                raise self._err(str(e), id_tok) from None
        if not "A" <= name[0] <= "Z":
            raise self._err(f"Invalid XStr type {_code(name)}", id_tok)
        val = self._expect("str").val
        self._expect("rparen")
        if name == "Span":
            span = _parse_span(val)
            if span is not None:
                return span
        return XStr(name, val)


def _parse_span(text: str) -> Span | None:
    """The :class:`Span` of an absolute span's text ``start,end`` (as written by
    :func:`dumps`), or None for other span texts (``today``, ``2024-01``), kept as XStr."""
    start_text, comma, end_text = text.partition(",")
    if not comma:
        return None
    try:
        start, end = loads(start_text.strip()), loads(end_text.strip())
        if isinstance(start, datetime) and isinstance(end, datetime):
            return Span(start, end)
    except ValueError:  # ParseError included
        pass
    return None


def read_value(tokenizer: Tokenizer) -> tuple[Any, Token]:
    """Read one Zinc value from the next tokens of ``tokenizer``.

    Returns the value and the first token after it (already consumed from the tokenizer).
    """
    reader = ZincReader(tokenizer)
    val = reader.read_value()
    return val, reader.cur


def loads(text: str, depth: int = 0) -> Any:
    """Parse Zinc text: one value, or a grid document when it starts with ``ver``.

    Anything but trailing newlines after the value is an error (``T 123``).  Every malformed
    input raises :class:`~hxredis.errors.ParseError`, a value nested deeper than
    :data:`MAX_DEPTH` levels included (``depth``: the levels already open around ``text``).
    """
    return ZincReader(text, depth).read_val()


def iter_rows(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """The rows of the Zinc grid document in ``lines`` (a text stream, or any iterable of
    lines each ending with its line end), each read and yielded as soon as its text is read.

    Yields the same row dicts as ``loads(text).rows`` (the non-null cells of each row), one
    at a time: only the current row's text is held, whatever the document's size.  A row
    may span lines (a nested ``<<…>>`` grid, a string with raw newlines, a ``/* */``
    comment).  The document must be a grid (start with ``ver``) and end after it (trailing
    newlines allowed).  Raises :class:`~hxredis.errors.ParseError` (with the line) for
    malformed text, when the bad row is reached: the rows before it were yielded.
    """
    it = iter(lines)
    # depth 1: the grid document's own level, as loads counts it
    reader = ZincReader(Tokenizer("", lambda: next(it, "")), depth=1)
    if reader.cur.type != "id" or reader.cur.val != "ver":
        raise reader._err(f"Expecting grid 'ver' identifier, not {reader._desc(reader.cur)}")
    _meta, cols = reader.read_grid_head()
    names = [c.name for c in cols]
    for cells in reader.iter_grid_rows(cols, False):
        yield {n: v for n, v in zip(names, cells, strict=True) if v is not None}
    reader.expect_eof()


def loads_tags(text: str) -> dict[str, Any]:
    """Parse ``name[:val]`` tags without braces, separated by spaces or commas
    (``ZincReader.readTags``); the whole text must be consumed."""
    reader = ZincReader(text)
    tags = reader.read_dict(True)
    if reader.cur.type != "eof":
        raise reader._err(f"Expected eof not {reader._desc(reader.cur)}")
    return tags
