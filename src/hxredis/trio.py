"""Trio: the line-oriented text format of Haystack records (formats.md section 3).

hxredis stores every record in Redis as Trio, so this writer is *safe*: ``loads(dumps(recs))
== recs`` holds for every value whose Zinc text reads back (Trio writes all other scalars and
the collections with :mod:`hxredis.zinc`), Ref display strings and DateTime timezones
included.  Its output is byte-identical to Haxall's ``TrioWriter`` except where Haxall writes
text that its own reader cannot read back (formats.md 3.4 [R]); there it writes another form
Haxall reads correctly:

* a string the reader would trim or misread (``"a "``, ``"ΔFoo(x)"``, ``"Δx:"``, one holding a
  ``\\r``) is quoted;
* multi-line text the indented block cannot carry (trailing whitespace on a line, indentation
  common to all lines, ``\\r``) or that is followed by a one-letter marker (which Haxall's reader
  swallows into the block) is written quoted on one line (``doc:"a\\n  b"``);
* a Number whose text the reader would mistake for a date or an old-style id
  (``1.0E-4_foo``) is written as a ``Zinc:`` block.

The reader follows Haxall's ``TrioReader`` (comments, ``---`` separators, indented text blocks,
``Zinc:`` and ``Trio:`` blocks, indented lists), except that a text block ends at *any*
non-empty line that does not start with whitespace (Haxall swallows one-character lines,
formats.md 3.2 [R]).

:func:`dumps` and :func:`loads` use the compiled ``hxredis._fastcore.trio`` when it is
importable and fall back to this module's pure Python reference otherwise; the reference
stays callable as :func:`py_dumps` and :func:`py_loads`.  Both give identical results.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from functools import lru_cache
from typing import Any

from . import _fastcore, zinc
from .errors import ParseError
from .tokenizer import parse_date, parse_datetime, parse_time
from .values import MARKER, NA, REMOVE, Grid, Number, Ref, is_tag_name

__all__ = [
    "NATIVE",
    "dump_rec",
    "dumps",
    "load_rec",
    "loads",
    "py_dump_rec",
    "py_dumps",
    "py_load_rec",
    "py_loads",
    "use_quotes",
]

# Fantom Str.trim strips every char <= U+0020; Int.isSpace is these five.
_TRIM = "".join(map(chr, range(0x21)))
_SPACE = " \t\n\r\f"
_NUM_START = frozenset("0123456789-")

_KEYWORDS: dict[str, Any] = {
    "true": True,
    "false": False,
    "T": True,
    "F": False,
    "NA": NA,
    "NaN": Number(float("nan")),
    "INF": Number(float("inf")),
    "R": REMOVE,
}
_QUOTED_KEYWORDS = frozenset(("true", "false", "T", "F", "INF", "NA", "NaN", "R", "Zinc"))

_LINE_BREAK = re.compile(r"\r\n?")
_PLAIN_STR = re.compile(r"[A-Za-z][A-Za-z0-9 _\-]*")

# Fast paths for the commonest scalars; anything they do not match goes to the Zinc reader.
_FAST_NUMBER = re.compile(
    r"(-?[0-9]+(?:\.[0-9]+)?(?:[eE][+\-]?[0-9]+)?)([A-Za-z%$/\u0081-\U0010ffff][A-Za-z_%$/\u0081-\U0010ffff]*)?"
)
_FAST_STR = re.compile(r'"([^"\\\x00-\x1f]*)"')
_FAST_REF = re.compile(r'@([A-Za-z0-9_:.~\-]+)(?: +"([^"\\\x00-\x1f]*)")?')


def _split_lines(text: str) -> list[str]:
    """Lines split on ``\\n``, ``\\r\\n`` and ``\\r`` as Fantom ``readLine`` returns them."""
    if "\r" in text:
        text = _LINE_BREAK.sub("\n", text)
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


@lru_cache(maxsize=8192)
def _tag_name(name: str) -> str | None:
    """The interned name when it is a valid tag name, else None."""
    return name if is_tag_name(name) else None


# ------------------------------------------------------------------------------------------------
# Scalars
# ------------------------------------------------------------------------------------------------


def _zinc_val(s: str, depth: int) -> Any:
    """One Zinc value inside ``depth`` nesting levels, with the fast paths for plain numbers,
    strings and refs."""
    c = s[0]
    if c == '"':
        m = _FAST_STR.fullmatch(s)
        if m is not None:
            return m[1]
    elif c == "@":
        m = _FAST_REF.fullmatch(s)
        if m is not None:
            return Ref(m[1], m[2])
    elif c in _NUM_START and not s.startswith("0x"):
        m = _FAST_NUMBER.fullmatch(s)
        if m is not None:
            return Number(float(m[1]), m[2])
    return zinc.loads(s, depth)


# ------------------------------------------------------------------------------------------------
# Reader
# ------------------------------------------------------------------------------------------------


class _Reader:
    """Haxall ``TrioReader`` over a list of lines; ``pos`` is the index of the next line,
    ``depth`` the nesting level of the records read (0, or that of a ``Trio:`` block's Dict):
    values nested deeper than :data:`~hxredis.zinc.MAX_DEPTH` are a ParseError."""

    __slots__ = ("depth", "lines", "pos")

    def __init__(self, lines: list[str], depth: int = 0) -> None:
        self.lines = lines
        self.pos = 0
        self.depth = depth

    def read_dicts(self, first_only: bool = False) -> list[dict[str, Any]]:
        """Every record (or only the first), skipping empty ones."""
        lines = self.lines
        n = len(lines)
        recs: list[dict[str, Any]] = []
        rec: dict[str, Any] = {}
        i = self.pos
        while i < n:
            line = lines[i]
            i += 1
            if not line:
                continue
            c = line[0]
            if c == "-":
                if rec:
                    recs.append(rec)
                    if first_only:
                        break
                    rec = {}
                continue
            if (c == "/" and line.startswith("//")) or (c in _SPACE and not line.strip(_TRIM)):
                continue
            lineno = i
            colon = line.find(":")
            if colon < 0:
                name = line
                val: Any = MARKER
            else:
                name = line[:colon].strip(_TRIM)
                s = line[colon + 1 :].strip(_TRIM)
                self.pos = i
                try:
                    val = self.scalar(s) if s else self.block()
                except ValueError as e:
                    if self.depth:  # in a Trio: block: the enclosing tag names the error
                        raise
                    raise _value_error(name, s, lineno, e) from e
                i = self.pos
            key = _tag_name(name)
            if key is None:
                raise ParseError(f"Invalid name: {name}", lineno)
            if key in rec:
                raise ParseError(f"Duplicate tag: {key}", lineno)
            rec[key] = val
        if rec and not (first_only and recs):
            recs.append(rec)
        self.pos = i
        return recs

    def block(self) -> str:
        """The indented text block starting at ``pos`` (formats.md 3.2, with the [R] end rule)."""
        lines = self.lines
        n = len(lines)
        start = i = self.pos
        while i < n:
            line = lines[i]
            if line and line[0] not in _SPACE:
                break
            i += 1
        self.pos = i
        raw = lines[start:i]
        indents = [len(x) - len(t) for x in raw if (t := x.lstrip(_SPACE))]
        cut = min(indents, default=0)
        return "\n".join(x.rstrip(_TRIM)[cut:] for x in raw)

    def scalar(self, s: str) -> Any:
        """Haxall ``TrioReader.parseScalar`` of a trimmed, non-empty value."""
        c = s[0]
        if c in _NUM_START:
            n = len(s)
            if n == 17 and s[8] == "-":
                raise ParseError(f"Unsupported Ref format: {s}")
            if n == 10 and s[4] == "-":
                return parse_date(s) or s
            if n >= 20 and s[4] == "-":
                if n > 20:
                    return parse_datetime(s + " UTC" if s[-1] == "Z" else s) or s
                if s[-1] == "Z":  # 20 chars: Haxall hands it to Zinc; same value, faster
                    dt = parse_datetime(s + " UTC")
                    if dt is not None:
                        return dt
            if n > 3 and (s[1] == ":" or s[2] == ":"):
                t = ("0" + s) if s[1] == ":" else s
                if len(t) == 5:
                    t += ":00"
                return parse_time(t) or s
            if " " in s:
                return s
            return _zinc_val(s, self.depth)
        if c == '"' or c == "`":
            if s[-1] != c:
                raise ParseError(f"Invalid quoted literal: {s}")
            return _zinc_val(s, self.depth)
        if c == "@" or c == "^" or c == "{" or s[-1] == ")":
            return _zinc_val(s, self.depth)
        if c == "[":
            return self.indented_list() if s == "[" else _zinc_val(s, self.depth)
        val = _KEYWORDS.get(s)
        if val is not None:
            return val
        if s == "Zinc:":
            return zinc.loads(self.block(), self.depth)
        if s == "Trio:":
            if self.depth >= zinc.MAX_DEPTH:
                raise zinc.nesting_error(self.depth + 1)
            return _read_one(_Reader(_split_lines(self.block()), self.depth + 1))
        if s[-1] == ":":
            raise ParseError(f"Unsupported indention format: {s}")
        return s

    def indented_list(self) -> Any:
        """A ``[`` line followed by an indented block of list items, ``//`` lines dropped."""
        items = [x for x in self.block().split("\n") if not x.strip(_TRIM).startswith("//")]
        return zinc.loads("[" + " ".join(items), self.depth)


def _value_error(name: str, s: str, lineno: int, cause: ValueError) -> ParseError:
    """The error for a tag value that does not parse, naming the tag, the text and the cause."""
    why = cause.msg if isinstance(cause, ParseError) else str(cause)
    return ParseError(f"Invalid tag value for {zinc.dumps_str(name)}: {s} ({why})", lineno)


def _decode(text: str | bytes) -> str:
    if isinstance(text, str):
        return text
    if isinstance(text, (bytes, bytearray, memoryview)):
        try:
            return bytes(text).decode("utf-8")
        except UnicodeDecodeError as e:
            raise ParseError(f"Invalid UTF-8 in Trio text: {e.reason} at byte {e.start}") from e
    raise TypeError(f"Trio text must be str or bytes, not {type(text).__name__}")


def _read_one(reader: _Reader) -> dict[str, Any]:
    recs = reader.read_dicts(first_only=True)
    if not recs:
        raise ParseError("Expected dict not end of stream")
    return recs[0]


def py_loads(text: str | bytes) -> list[dict[str, Any]]:
    """Read every record of a Trio text (UTF-8 bytes accepted) as a list of dicts.

    Empty records are skipped; ``""`` gives ``[]``.  Malformed text raises
    :class:`~hxredis.errors.ParseError` with the 1-based line number.
    """
    return _Reader(_split_lines(_decode(text))).read_dicts()


def py_load_rec(text: str | bytes) -> dict[str, Any]:
    """Read a Trio text holding exactly one record (ParseError for none or several)."""
    recs = py_loads(text)
    if len(recs) != 1:
        raise ParseError(f"Expected exactly one record, found {len(recs)}")
    return recs[0]


# ------------------------------------------------------------------------------------------------
# Writer
# ------------------------------------------------------------------------------------------------


def use_quotes(s: str) -> bool:
    """Haxall ``TrioWriter.useQuotes``: whether a one-line Str is written as a quoted literal.

    This is Haxall's rule exactly (formats.md 6.6); :func:`dumps` quotes a few more strings
    (see the module docstring).
    """
    if not s:
        return True
    if s[0] > "\x7f":
        return False
    return s in _QUOTED_KEYWORDS or _PLAIN_STR.fullmatch(s) is None


def _must_quote(s: str) -> bool:
    """useQuotes plus the strings a raw value line would not carry back unchanged."""
    if not s:
        return True
    if s[0] > "\x7f":
        return s[-1] in "):" or s[-1] <= " " or "\r" in s
    return s[-1] == " " or use_quotes(s)


def _block_safe(s: str) -> bool:
    """Whether the indented block form of multi-line ``s`` reads back as ``s``."""
    if "\r" in s:
        return False
    flush = False
    for line in s.split("\n"):
        if line:
            if line[-1] <= " ":
                return False
            if line[0] not in _SPACE:
                flush = True
    return flush or not s.strip("\n")


def _number_misread(text: str) -> bool:
    """Whether parseScalar would take this Number text for a date, datetime or old id."""
    n = len(text)
    return (n == 17 and text[8] == "-") or ((n == 10 or n > 20) and text[4] == "-")


def _has_grid(val: Any) -> bool:
    if isinstance(val, Grid):
        return True
    if isinstance(val, list):
        return any(_has_grid(v) for v in val)
    if isinstance(val, Mapping):
        return any(_has_grid(v) for v in val.values())
    return False


def _zinc_block(text: str) -> str:
    """``Zinc:`` and the Zinc text as an indented block."""
    return "Zinc:\n" + "".join(f"  {line}\n" for line in _split_lines(text + "\n"))


def _sorted_names(rec: Collection[str]) -> list[str]:
    """Tag order of TrioWriter: ``id, name, dis``, the rest sorted, ``src`` last (``rec``: a
    record or its tag names)."""
    names = sorted(rec)
    for first in ("dis", "name", "id"):
        if first in rec:
            names.remove(first)
            names.insert(0, first)
    if "src" in rec:
        names.remove("src")
        names.append("src")
    return names


def _tag_text(name: str, val: Any, before_short_marker: bool) -> str:
    """The line(s) of one tag whose value is neither None nor Marker.

    ``before_short_marker``: the next line is a one-letter marker, which Haxall's reader
    would swallow into an indented block written here.
    """
    t = type(val)
    if t is str:
        if "\n" not in val:
            return f"{name}:{zinc.dumps_str(val) if _must_quote(val) else val}\n"
        if before_short_marker or not _block_safe(val):
            return f"{name}:{zinc.dumps_str(val)}\n"
        return f"{name}:" + "".join(f"\n  {line}" for line in val.split("\n")) + "\n"
    if t is bool:
        return f"{name}:{'true' if val else 'false'}\n"
    if isinstance(val, (list, Mapping, Grid)):
        if _has_grid(val):
            return f"{name}:" + _zinc_block(zinc.dumps_grid(val) if t is Grid else zinc.dumps(val))
        return f"{name}:{zinc.dumps(val)}\n"
    text = zinc.dumps(val)
    if t is Number and text[0] in _NUM_START and _number_misread(text):
        return f"{name}:{_zinc_block(text)}"
    return f"{name}:{text}\n"


def _check_rec(rec: Any) -> None:
    if not isinstance(rec, Mapping):
        raise TypeError(f"a Trio record must be a Mapping, not {type(rec).__name__}")


def _bad_name(name: Any) -> ValueError:
    return ValueError(f"Invalid tag name: {name!r}")


def _write_rec(rec: Mapping[str, Any], out: list[str]) -> None:
    _check_rec(rec)
    tags = [(n, v) for n in _sorted_names(rec) if (v := rec[n]) is not None]
    last = len(tags) - 1
    for i, (name, val) in enumerate(tags):
        if _tag_name(name) is None:
            raise _bad_name(name)
        if val is MARKER:
            out.append(name + "\n")
        else:
            short = i < last and len(tags[i + 1][0]) == 1 and tags[i + 1][1] is MARKER
            out.append(_tag_text(name, val, short))


def py_dumps(rec_or_recs: Mapping[str, Any] | Iterable[Mapping[str, Any]]) -> str:
    """Trio text of one record (a Mapping) or of many (an iterable of Mappings).

    Records are separated by ``---`` lines; tags are ordered ``id, name, dis``, the others
    sorted, ``src`` last; None values are skipped.  An invalid tag name raises ValueError, a
    value that is not a Haystack kind TypeError.
    """
    recs = (rec_or_recs,) if isinstance(rec_or_recs, Mapping) else rec_or_recs
    out: list[str] = []
    for rec in recs:
        if out:
            out.append("---\n")
        _write_rec(rec, out)
    return "".join(out)


def py_dump_rec(rec: Mapping[str, Any]) -> str:
    """Trio text of exactly one record (what the Folio stores under one Redis key)."""
    out: list[str] = []
    _write_rec(rec, out)
    return "".join(out)


_native = _fastcore.load("trio")
#: True when :func:`dumps`, :func:`loads`, :func:`dump_rec` and :func:`load_rec` are native.
NATIVE = _native is not None
dumps = _native.dumps if _native else py_dumps
loads = _native.loads if _native else py_loads
dump_rec = _native.dump_rec if _native else py_dump_rec
load_rec = _native.load_rec if _native else py_load_rec
