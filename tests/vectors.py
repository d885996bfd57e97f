"""Test-vector helpers for formats.md section 6 (a copy lives in tests/vectors/).

* :func:`section` returns the vector lines of one subsection (``"6.1"`` ...) as :class:`Vector`
  tuples: id, tag (``T``/``C``/``R``), the ``|``-separated fields as source text, the trailing
  ``# note`` and any indented continuation lines (the multi-line Trio vectors).
* :func:`value` evaluates the section-0 value notation (``N(3,'s')``, ``Ref('a','A')``,
  ``DT('…')`` …) into hxredis values; :func:`error` recognises ``ERR`` / ``ERR('msg') at line n``.
* :func:`assert_same` is strict equality for round trips: same kind, Ref dis, DateTime instant
  *and* timezone name, recursively through lists, dicts and grids.
"""

from __future__ import annotations

import io
import math
import re
import tokenize
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, NamedTuple

import hxredis as hx
from hxredis.values import Grid

DATA = Path(__file__).parent / "vectors" / "formats_section6.md"

_VECTOR_LINE = re.compile(r"([A-Z]+-[A-Za-z0-9-]+) \[([TCR])\] \| (.*)")


class Vector(NamedTuple):
    """One vector line: id, tag, field source texts, note, continuation lines."""

    id: str
    tag: str
    fields: list[str]
    note: str
    more: list[str]


def _split_fields(rest: str) -> tuple[list[str], str]:
    """Split ``a | b | c   # note`` on top-level ``|`` using Python's tokenizer."""
    bounds: list[int] = []
    depth = 0
    note = ""
    end = len(rest)
    try:
        for tok in tokenize.generate_tokens(io.StringIO(rest).readline):
            if tok.type == tokenize.OP:
                if tok.string in "([{":
                    depth += 1
                elif tok.string in ")]}":
                    depth -= 1
                elif tok.string == "|" and depth == 0:
                    bounds.append(tok.start[1])
            elif tok.type == tokenize.COMMENT:
                note = tok.string[1:].strip()
                end = tok.start[1]
                break
    except (tokenize.TokenError, SyntaxError, IndentationError):
        parts = rest.split(" | ")
        return [p.strip() for p in parts], ""
    fields, start = [], 0
    for b in bounds:
        fields.append(rest[start:b].strip())
        start = b + 1
    fields.append(rest[start:end].strip())
    return fields, note


def section(num: str) -> list[Vector]:
    """All vectors of subsection ``num`` (e.g. ``"6.2"``), in file order."""
    text = DATA.read_text(encoding="utf-8")
    start = text.index(f"### {num} ")
    end = text.find("\n### ", start + 1)
    body = text[start : end if end >= 0 else len(text)]
    out: list[Vector] = []
    for line in body.splitlines():
        m = _VECTOR_LINE.fullmatch(line)
        if m:
            fields, note = _split_fields(m.group(3))
            out.append(Vector(m.group(1), m.group(2), fields, note, []))
        elif out and line.startswith("      ") and line.strip():
            out[-1].more.append(line.strip())
    return out


# ------------------------------------------------------------------------------------------------
# Value notation
# ------------------------------------------------------------------------------------------------


class Err(NamedTuple):
    """An expected parse error: message (None when unspecified) and line (None when not given)."""

    msg: str | None
    line: int | None


_DT = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)(?: (\S+))?"
)


def dt(text: str) -> datetime:
    """``DT('2010-03-01T23:55:00.013-05:00 GMT+5')``: wall time + offset + Haystack tz name."""
    m = _DT.fullmatch(text)
    assert m, text
    y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
    us = int((m.group(7) or "0")[:6].ljust(6, "0"))
    off = m.group(8)
    if off == "Z":
        offset = timezone.utc
    else:
        delta = timedelta(hours=int(off[1:3]), minutes=int(off[4:6]))
        offset = timezone(-delta if off[0] == "-" else delta)
    return datetime(y, mo, d, h, mi, s, us, tzinfo=offset).astimezone(hx.tz(m.group(9) or "UTC"))


def _time(h: int, m: int, s: int = 0, ns: int = 0) -> time:
    return time(h, m, s, ns // 1000)


_NAMES: dict[str, Any] = {
    "M": hx.MARKER,
    "NA": hx.NA,
    "R": hx.REMOVE,
    "N": lambda v, u=None: hx.Number(v, u),
    "nan": math.nan,
    "inf": math.inf,
    "Uri": hx.Uri,
    "Ref": hx.Ref,
    "Sym": hx.Symbol,
    "Date": date,
    "Time": _time,
    "DT": dt,
    "Coord": hx.Coord,
    "XStr": hx.XStr,
    "Bin": lambda v: hx.XStr("Bin", v),
    "Span": lambda v: hx.XStr("Span", v),
}

_ERR = re.compile(r"ERR(?:\((.*)\))?(?: at line (\d+))?")


def error(expr: str) -> Err | None:
    """The expected error of an ``ERR…`` field, or None when the field is a value."""
    m = _ERR.fullmatch(expr.strip())
    if m is None:
        return None
    msg = eval(m.group(1), {}) if m.group(1) else None  # a Python string literal
    return Err(msg, int(m.group(2)) if m.group(2) else None)


def value(expr: str) -> Any:
    """Evaluate a section-0 value expression into hxredis values."""
    return eval(expr, {"__builtins__": {}}, dict(_NAMES))


# ------------------------------------------------------------------------------------------------
# Strict comparison
# ------------------------------------------------------------------------------------------------


def assert_same(actual: Any, expected: Any, path: str = "$") -> None:
    """Assert equality plus same kind, Ref dis, DateTime instant and tz name, recursively."""
    if expected is None:
        assert actual is None, f"{path}: {actual!r} is not None"
        return
    assert hx.kind_of(actual) == hx.kind_of(expected), f"{path}: {actual!r} vs {expected!r}"
    if isinstance(expected, hx.Ref):
        assert actual.id == expected.id and actual.dis == expected.dis, (
            f"{path}: {actual!r} vs {expected!r}"
        )
    elif isinstance(expected, datetime):
        assert actual.timestamp() == expected.timestamp(), f"{path}: {actual!r} vs {expected!r}"
        assert hx.tz_name(actual) == hx.tz_name(expected), f"{path}: {actual!r} vs {expected!r}"
    elif isinstance(expected, list):
        assert len(actual) == len(expected), f"{path}: {actual!r} vs {expected!r}"
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same(a, e, f"{path}[{i}]")
    elif isinstance(expected, Mapping):
        assert set(actual) == set(expected), f"{path}: keys {list(actual)} vs {list(expected)}"
        for k in expected:
            assert_same(actual[k], expected[k], f"{path}.{k}")
    elif isinstance(expected, Grid):
        assert_same(actual.meta, expected.meta, f"{path}.meta")
        assert actual.col_names == expected.col_names, f"{path}: cols"
        for a, e in zip(actual.cols, expected.cols, strict=True):
            assert_same(a.meta, e.meta, f"{path}.cols.{e.name}")
        assert len(actual.rows) == len(expected.rows), f"{path}: row count"
        for i, (a, e) in enumerate(zip(actual.rows, expected.rows, strict=True)):
            assert_same(a, e, f"{path}.rows[{i}]")
    else:
        assert actual == expected, f"{path}: {actual!r} vs {expected!r}"
