"""The Haystack tokenizer shared by Zinc, Trio values and filters (Haxall HaystackTokenizer).

Token types are Haxall's ``HaystackToken`` names: literals ``id num str ref symbol uri date time
dateTime``, operators ``dot colon colon2 comma semicolon minus eq notEq lt lt2 ltEq gt gt2 gtEq
lbrace rbrace lparen rparen lbracket rbracket arrow fnArrow slash assign bang question amp
pipe``, plus ``nl`` and ``eof``.  Literal values are Python values (:class:`~hxredis.values.Number`,
``str``, :class:`~hxredis.values.Ref`, ``date``, ``time``, aware ``datetime`` ...).  Character
classes are ASCII-only.  Errors raise :class:`~hxredis.errors.ParseError` with Haxall's message,
the 1-based ``line`` (shown in the message as ``[line n]``) and ``col``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, NamedTuple

from . import timezones, units
from .errors import ParseError
from .values import Number, Ref, Symbol, Uri, _char_code

__all__ = ["Token", "Tokenizer", "parse_date", "parse_datetime", "parse_time", "tokenize"]


class Token(NamedTuple):
    """One token: Haxall token type name, value (None for operators), 1-based line and col."""

    type: str
    val: Any
    line: int
    col: int


_SKIP = re.compile(r"(?:[ \t\xa0]+|//[^\n]*)+")
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]*|_[A-Za-z0-9_][A-Za-z0-9_]*")
_REF_CHARS = re.compile(r"[A-Za-z0-9_:\-.~]*")
_HEX = re.compile(r"[0-9A-Fa-f_]*")
_HEX_DIGITS = re.compile(r"[0-9A-Fa-f]+")
_BLOCK_TOKS = re.compile(r"/\*|\*/|\n")
_STR_CHUNK = re.compile(r'[^"\\]*')
_URI_CHUNK = re.compile(r"[^`\\\n]*")
_SIMPLE_NUM = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_JAVA_FLOAT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_TZ_CHARS = re.compile(r"[A-Za-z0-9_+\-]*")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TIME = re.compile(r"([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?")
_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?"
    r"(Z|[+-][0-9]{2}:[0-9]{2}) (\S+)"
)

# chars that may continue a number token beyond a plain decimal (see Tokenizer._num)
_NUM_CONT = frozenset("0123456789-:+.eE_%$/") | frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
_DIGITS = frozenset("0123456789")
_UNIT_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ%$/")
_URI_KEEP = frozenset(":/?#[]@\\&=;")
_ESCAPES = {
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    '"': '"',
    "$": "$",
    "'": "'",
    "`": "`",
    "\\": "\\",
}
_OPS1 = {
    ",": "comma",
    ";": "semicolon",
    "[": "lbracket",
    "]": "rbracket",
    "{": "lbrace",
    "}": "rbrace",
    "(": "lparen",
    ")": "rparen",
    "/": "slash",
    ".": "dot",
    "?": "question",
    "&": "amp",
    "|": "pipe",
}
_OPS2 = {
    "::": "colon2",
    "<<": "lt2",
    "<=": "ltEq",
    ">>": "gt2",
    ">=": "gtEq",
    "->": "arrow",
    "==": "eq",
    "=>": "fnArrow",
    "!=": "notEq",
}
_OPS1_AFTER = {":": "colon", "<": "lt", ">": "gt", "-": "minus", "=": "assign", "!": "bang"}
_OPS = {**_OPS1, **_OPS1_AFTER, **_OPS2}

# One regex for the common tokens (whitespace and // comments skipped first).  Anything it
# does not match exactly (escapes, raw newlines in strings, units, dates, /* comments, errors,
# EOF) falls back to Tokenizer._next_general.
_FAST = re.compile(
    r"""(?:[ \t\xa0]+|//[^\n]*(?![^\n]))*
    (?:
        (?P<id>[A-Za-z][A-Za-z0-9_]*|_[A-Za-z0-9_][A-Za-z0-9_]*)
      | (?P<num>-?[0-9]+(?:\.[0-9]+)?)(?![-0-9:+.eE_%$/A-Za-z\x81-\U0010ffff])
      | "(?!"")(?P<str>[^"\\\n]*)"
      | @(?P<ref>[A-Za-z0-9_:\-.~]+)
      | (?P<op>::|<<|<=|>>|>=|->|==|=>|!=|[,;\[\]{}().?&|:<>=!]|/(?![*/])|-(?![0-9]))
      | (?P<nl>\r\n|\r|\n)
    )""",
    re.VERBOSE,
)


def parse_date(text: str) -> date | None:
    """``YYYY-MM-DD`` as a date, or None when malformed or invalid."""
    m = _DATE.fullmatch(text)
    if m is None:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def _nanos_to_micros(frac: str | None) -> int:
    """A fraction's digits (up to 9 significant, more ignored) as truncated microseconds."""
    return 0 if not frac else int(frac[:6].ljust(6, "0"))


def parse_time(text: str) -> time | None:
    """``hh:mm:ss[.f...]`` as a time (sub-microsecond digits dropped), or None when invalid."""
    m = _TIME.fullmatch(text)
    if m is None:
        return None
    try:
        return time(int(m[1]), int(m[2]), int(m[3]), _nanos_to_micros(m[4]))
    except ValueError:
        return None


def parse_datetime(text: str) -> datetime | None:
    """``YYYY-MM-DDThh:mm:ss[.f](Z|+hh:mm) TzName`` as an aware datetime, or None when invalid.

    The offset in the text fixes the instant; the result is expressed in the named zone
    (Haystack name or alias).  Years must be within 1901..2099 (Fantom's range).
    """
    m = _DATETIME.fullmatch(text)
    if m is None:
        return None
    year = int(m[1])
    if not 1901 <= year <= 2099:
        return None
    off = m[8]
    try:
        zone = timezones.tz(m[9])
        if off == "Z":
            offset = timezone.utc
        else:
            hours, mins = int(off[1:3]), int(off[4:6])
            if mins >= 60 or hours >= 24:
                return None
            delta = timedelta(hours=hours, minutes=mins)
            offset = timezone(-delta if off[0] == "-" else delta)
        local = datetime(
            year,
            int(m[2]),
            int(m[3]),
            int(m[4]),
            int(m[5]),
            int(m[6]),
            _nanos_to_micros(m[7]),
            tzinfo=offset,
        )
        return local.astimezone(zone)
    except (ValueError, OverflowError):
        return None


class Tokenizer:
    """Tokenize Haystack text; :meth:`next` returns one :class:`Token` at a time.

    After the input is exhausted every call returns an ``eof`` token.  :attr:`line` is the
    current line and :attr:`pos` the index of the next unread char (in the text held now).

    With ``more``, the text is read incrementally: ``more()`` returns the next line of the
    input (with its line end, except the last line) or ``""`` at the end, and is called
    whenever the text held is used up or a token (a string, a ``/* */`` comment) runs past
    it.  Text already tokenized is dropped at line ends, so only the current line (or the
    lines of a token spanning several) is held.  The tokens, lines and errors are those of
    the whole text.
    """

    __slots__ = ("_line_start", "_more", "_n", "_s", "line", "pos")

    def __init__(self, text: str, more: Callable[[], str] | None = None) -> None:
        if not isinstance(text, str):
            raise TypeError(f"text must be str, not {type(text).__name__}")
        self._s = text
        self._n = len(text)
        self._more = more
        self.pos = 0
        self.line = 1
        self._line_start = 0

    def _refill(self) -> bool:
        """Read the next line from ``more``: replacing the text when all of it was
        tokenized, else appended to it.  False at the end of the input."""
        more = self._more
        chunk = more() if more is not None else ""
        if not chunk:
            self._more = None
            return False
        if not isinstance(chunk, str):
            raise TypeError(f"more() must return str, not {type(chunk).__name__}")
        # a line ended by a lone CR goes on to the next LF: ``//`` comments and Uris run
        # over a CR in the whole text too
        while chunk.endswith("\r") and (rest := more()):
            chunk += rest
        if self.pos >= self._n:
            self._line_start -= self._n
            self._s = chunk
            self.pos = 0
        else:
            self._s += chunk
        self._n = len(self._s)
        return True

    def _err(self, msg: str, pos: int | None = None) -> ParseError:
        """A ParseError at the current line (col of ``pos``, default the current position)."""
        err = ParseError(msg, self.line)
        err.col = (self.pos if pos is None else pos) - self._line_start + 1
        return err

    def next(self) -> Token:
        """Read and return the next token (``eof`` at the end of the input)."""
        m = _FAST.match(self._s, self.pos)
        if m is None:
            return self._next_general()
        kind = m.lastgroup
        text = m.group(kind)
        self.pos = m.end()
        line = self.line
        if kind == "str" or kind == "ref":
            col = m.start(kind) - self._line_start
            return Token(kind, text if kind == "str" else Ref(text), line, col)
        col = m.start(kind) - self._line_start + 1
        if kind == "id":
            return Token("id", text, line, col)
        if kind == "op":
            return Token(_OPS[text], None, line, col)
        if kind == "num":
            return Token("num", Number(float(text)), line, col)
        self.line = line + 1
        self._line_start = self.pos
        return Token("nl", None, line, col)

    def _next_general(self) -> Token:
        """:meth:`next` for every case the single-regex fast path does not cover."""
        s, n = self._s, self._n
        pos = self.pos
        while True:
            m = _SKIP.match(s, pos)
            if m is not None:
                pos = m.end()
            if s.startswith("/*", pos):
                pos = self._skip_block_comment(pos)
                s, n = self._s, self._n
                continue
            if pos >= n and self._more is not None:
                self.pos = pos
                if self._refill():
                    s, n, pos = self._s, self._n, self.pos
                    continue
            break
        self.pos = pos
        col = pos - self._line_start + 1
        line = self.line
        if pos >= n:
            return Token("eof", None, line, col)
        c = s[pos]

        if c == "\n" or c == "\r":
            pos += 2 if c == "\r" and s.startswith("\n", pos + 1) else 1
            self.pos = self._line_start = pos
            self.line += 1
            return Token("nl", None, line, col)

        if ("a" <= c <= "z") or ("A" <= c <= "Z") or c == "_":
            m = _ID.match(s, pos)
            if m is not None:
                self.pos = m.end()
                return Token("id", m.group(), line, col)
        elif "0" <= c <= "9" or (c == "-" and pos + 1 < n and "0" <= s[pos + 1] <= "9"):
            typ, val = self._num(pos)
            return Token(typ, val, line, col)
        elif c == '"':
            return Token("str", self._str(pos), line, col)
        elif c == "@":
            m = _REF_CHARS.match(s, pos + 1)
            if m.end() == pos + 1:
                raise self._err("Invalid empty Ref", pos)
            self.pos = m.end()
            return Token("ref", Ref(m.group()), line, col)
        elif c == "^":
            m = _REF_CHARS.match(s, pos + 1)
            if m.end() == pos + 1:
                raise self._err("Invalid empty Symbol", pos)
            try:
                sym = Symbol(m.group())
            except ParseError as e:
                raise self._err(e.msg, pos) from None
            self.pos = m.end()
            return Token("symbol", sym, line, col)
        elif c == "`":
            return Token("uri", self._uri(pos), line, col)

        typ = _OPS2.get(s[pos : pos + 2])
        if typ is not None:
            self.pos = pos + 2
            return Token(typ, None, line, col)
        typ = _OPS1.get(c) or _OPS1_AFTER.get(c)
        if typ is not None:
            self.pos = pos + 1
            return Token(typ, None, line, col)
        raise self._err(f"Unexpected symbol: {_char_code(c, False)} (0x{ord(c):x})", pos)

    def __iter__(self) -> Tokenizer:
        return self

    def __next__(self) -> Token:
        tok = self.next()
        if tok.type == "eof":
            raise StopIteration
        return tok

    # -- comments --------------------------------------------------------------------------------

    def _skip_block_comment(self, pos: int) -> int:
        """Skip a nestable ``/* */`` comment starting at ``pos``; an unclosed one runs to EOF."""
        s = self._s
        depth = 0
        while True:
            m = _BLOCK_TOKS.search(s, pos)
            if m is None:
                if self._refill():
                    s = self._s
                    continue
                return self._n
            tok = m.group()
            pos = m.end()
            if tok == "\n":
                self.line += 1
                self._line_start = pos
            elif tok == "/*":
                depth += 1
            else:
                depth -= 1
                if depth == 0:
                    return pos

    # -- literals --------------------------------------------------------------------------------

    def _escape(self, pos: int) -> tuple[str, int]:
        """Decode the backslash escape at ``pos``; returns (chars, next position)."""
        s = self._s
        c = s[pos + 1 : pos + 2]
        decoded = _ESCAPES.get(c)
        if decoded is not None:
            return decoded, pos + 2
        if c != "u":
            raise self._err("Invalid escape sequence", pos)
        if s.startswith("{", pos + 2):
            end = s.find("}", pos + 3)
            digits = s[pos + 3 : end] if end >= 0 else ""
            if not 1 <= len(digits) <= 6 or _HEX_DIGITS.fullmatch(digits) is None:
                raise self._err("Invalid number of hex digits for \\u{x}", pos)
            code = int(digits, 16)
            if code > 0x10FFFF:
                raise self._err("Invalid unicode code point for \\u{x}", pos)
            return chr(code), end + 1
        digits = s[pos + 2 : pos + 6]
        if len(digits) != 4 or _HEX_DIGITS.fullmatch(digits) is None:
            raise self._err("Invalid hex value for \\uxxxx", pos)
        code = int(digits, 16)
        # a UTF-16 surrogate pair written as two escapes becomes one code point
        if 0xD800 <= code <= 0xDBFF and s.startswith("\\u", pos + 6):
            low = s[pos + 8 : pos + 12]
            if len(low) == 4 and _HEX_DIGITS.fullmatch(low):
                low_code = int(low, 16)
                if 0xDC00 <= low_code <= 0xDFFF:
                    return chr(0x10000 + ((code - 0xD800) << 10) + (low_code - 0xDC00)), pos + 12
        return chr(code), pos + 6

    def _count_lines(self, start: int, end: int) -> None:
        """Advance line bookkeeping over raw newlines inside a literal."""
        nl = self._s.count("\n", start, end)
        if nl:
            self.line += nl
            self._line_start = self._s.rfind("\n", start, end) + 1

    def _str(self, pos: int) -> str:
        s, n = self._s, self._n
        start = pos
        i = pos + 1
        triple = s.startswith('""', i)
        if not triple and s.startswith('"', i):
            self.pos = i + 1
            return ""
        if triple:
            i += 2
        parts = []
        while True:
            m = _STR_CHUNK.match(s, i)
            parts.append(m.group())
            i = m.end()
            if i >= n and self._refill():
                s, n = self._s, self._n
                continue
            if i >= n:
                self._count_lines(start, n)
                self.pos = n
                raise self._err("Unexpected end of str")
            if s[i] == '"':
                i += 1
                if triple:
                    if s.startswith('""', i):
                        i += 2
                        break
                    parts.append('"')
                    continue
                break
            ch, i = self._escape(i)
            parts.append(ch)
        self._count_lines(start, i)
        self.pos = i
        return "".join(parts)

    def _uri(self, pos: int) -> Uri:
        s, n = self._s, self._n
        i = pos + 1
        parts = []
        while True:
            m = _URI_CHUNK.match(s, i)
            parts.append(m.group())
            i = m.end()
            if i >= n or s[i] == "\n":
                self.pos = i
                raise self._err("Unexpected end of uri")
            c = s[i]
            if c == "`":
                self.pos = i + 1
                return Uri("".join(parts))
            if s[i + 1 : i + 2] in _URI_KEEP:
                parts.append(s[i : i + 2])
                i += 2
            else:
                ch, i = self._escape(i)
                parts.append(ch)

    def _num(self, pos: int) -> tuple[str, Any]:
        """Scan a number, date, time or dateTime token starting at ``pos``."""
        s, n = self._s, self._n

        # fast path: a plain decimal not followed by anything that could extend the token
        m = _SIMPLE_NUM.match(s, pos)
        end = m.end()
        nxt = s[end] if end < n else ""
        if nxt == "" or (nxt not in _NUM_CONT and nxt <= "\x80"):
            self.pos = end
            return "num", Number(float(m.group()))

        # hex literal
        if s.startswith("0x", pos):
            m = _HEX.match(s, pos + 2)
            digits = m.group().replace("_", "")
            self.pos = m.end()
            if not digits or int(digits, 16) > 0x7FFFFFFFFFFFFFFF:
                raise self._err(f"Invalid hex literal '{s[pos : m.end()]}'", pos)
            return "num", Number(float(int(digits, 16)))

        # accumulate every char that might belong to the token (Haxall's rules)
        parts = []
        seg = pos
        skipped = 0
        colons = dashes = 0
        unit_index = -1
        exp = False
        i = pos + 1
        while i < n:
            c = s[i]
            if c not in _DIGITS:
                peek = s[i + 1] if i + 1 < n else ""
                if exp and (c == "+" or c == "-"):
                    pass
                elif c == "-":
                    dashes += 1
                elif c == ":" and peek in _DIGITS and peek:
                    colons += 1
                elif (exp or colons >= 1) and c == "+":
                    pass
                elif c == ".":
                    if not peek or peek not in _DIGITS:
                        break
                elif (c == "e" or c == "E") and peek and (peek in "-+" or peek in _DIGITS):
                    exp = True
                elif c in _UNIT_START or c > "\x80":
                    if unit_index < 0:
                        unit_index = i - pos - skipped
                elif c == "_":
                    if unit_index < 0 and peek and peek in _DIGITS:
                        parts.append(s[seg:i])
                        seg = i + 1
                        skipped += 1
                        i += 1
                        continue
                    if unit_index < 0:
                        unit_index = i - pos - skipped
                else:
                    break
            i += 1
        parts.append(s[seg:i])
        text = "".join(parts)
        self.pos = i

        if dashes == 2 and colons == 0:
            val = parse_date(text)
            if val is None:
                raise self._err(f"Invalid Date literal '{text}'", pos)
            return "date", val

        if dashes == 0 and colons >= 1:
            if text[1:2] == ":":
                text = "0" + text
            if colons == 1:
                text += ":00"
            val = parse_time(text)
            if val is None:
                raise self._err(f"Invalid Time literal '{text}'", pos)
            return "time", val

        if dashes >= 2:
            if i + 1 < n and s[i] == " " and "A" <= s[i + 1] <= "Z":
                m = _TZ_CHARS.match(s, i + 1)
                text = f"{text} {m.group()}"
                self.pos = m.end()
            elif text.endswith("Z"):
                text += " UTC"
            else:
                raise self._err("Expecting timezone", pos)
            val = parse_datetime(text)
            if val is None:
                raise self._err(f"Invalid DateTime literal '{text}'", pos)
            return "dateTime", val

        float_text = text if unit_index < 0 else text[:unit_index]
        if _JAVA_FLOAT.fullmatch(float_text) is None:
            raise self._err(f"Invalid Number literal '{float_text}'", pos)
        if unit_index < 0:
            return "num", Number(float(float_text))
        unit_text = text[unit_index:]
        try:
            unit = units.canonical_unit(unit_text)
        except ParseError:
            raise self._err(
                f"Invalid unit name '{unit_text}' [{_unit_code(unit_text)}]", pos
            ) from None
        return "num", Number(float(float_text), unit)


def _unit_code(text: str) -> str:
    """Fantom ``toCode('"', true)`` of a unit name, for the error message."""
    out = []
    for c in text:
        if c in '"\\$':
            out.append("\\" + c)
        elif c < " " or c > "\x7f":
            out.append(f"\\u{{{ord(c):x}}}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def tokenize(text: str) -> list[Token]:
    """All tokens of ``text`` (without the final ``eof``); ParseError on malformed input."""
    return list(Tokenizer(text))
