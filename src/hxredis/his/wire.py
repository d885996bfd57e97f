"""The bulk history wire format: numpy arrays to RESP commands, RESP replies to numpy arrays.

The native versions in ``hxredis._fastcore.hisbuf`` serve when built; the ``py_*``
functions here are their references (identical results, byte for byte):

* :func:`ts_madd` one ``TS.MADD`` command (timestamps + offset; a non-finite value is
  written as its ``0`` placeholder, see :mod:`.timeseries`);
* :func:`zadd` one ``ZADD`` command of ``<ms>:<code>`` members (see :mod:`.codes`);
* :func:`skip_reply` where a reply ends in a buffer, and the error replies inside it (RESP2
  and RESP3); :class:`ReplyScanner` the same for a reply arriving in pieces, each byte
  looked at once;
* :func:`parse_ts_range`, :func:`parse_members`: ``TS.RANGE`` and ``ZRANGEBYSCORE``
  replies as ``(int64 ms, float64)`` arrays (NaN for NA, Str and Coord codes);
* :func:`format_float`, :func:`parse_float`: one value's code as the builders write it
  (``repr``) and as the parsers read it (``float()``).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from .. import _fastcore

__all__ = [
    "NATIVE",
    "PyReplyScanner",
    "ReplyScanner",
    "format_float",
    "parse_float",
    "parse_members",
    "parse_ts_range",
    "py_format_float",
    "py_parse_float",
    "py_parse_members",
    "py_parse_ts_range",
    "py_skip_reply",
    "py_ts_madd",
    "py_zadd",
    "skip_reply",
    "ts_madd",
    "zadd",
]

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


def _bulk(data: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(data), data)


def py_format_float(v: float) -> bytes:
    """Reference: the code of a value (``repr``; ``nan`` for every NaN)."""
    return b"nan" if math.isnan(v) else repr(v).encode()


def py_ts_madd(key: bytes, ts: Ints, vals: Floats, offset: int) -> bytes:
    """Reference: one ``TS.MADD`` command."""
    if len(ts) != len(vals):
        raise ValueError("ts and vals differ in length")
    out = [b"*%d\r\n" % (1 + 3 * len(ts)), _bulk(b"TS.MADD")]
    for t, v in zip(ts.tolist(), vals.tolist(), strict=True):
        value = py_format_float(v) if math.isfinite(v) else b"0"
        out += [_bulk(key), _bulk(b"%d" % (t + offset)), _bulk(value)]
    return b"".join(out)


def py_zadd(key: bytes, ts: Ints, vals: Floats, offset: int) -> bytes:
    """Reference: one ``ZADD`` command of ``<ms>:<code>`` members."""
    if len(ts) != len(vals):
        raise ValueError("ts and vals differ in length")
    out = [b"*%d\r\n" % (2 + 2 * len(ts)), _bulk(b"ZADD"), _bulk(key)]
    for t, v in zip(ts.tolist(), vals.tolist(), strict=True):
        stamp = b"%d" % (t + offset)
        out += [_bulk(stamp), _bulk(stamp + b":" + py_format_float(v))]
    return b"".join(out)


def _line(data: bytes, pos: int) -> int:
    eol = data.find(b"\r\n", pos)
    return eol


def py_skip_reply(data: bytes, pos: int) -> tuple[int, list[str]]:
    """Reference: ``(end, errors)`` of the reply at ``pos``; end -1 when incomplete."""
    errors: list[str] = []
    end = _skip(data, pos, errors)
    return end, errors


def _skip(data: bytes, pos: int, errors: list[str]) -> int:
    if pos >= len(data):
        return -1
    eol = _line(data, pos)
    if eol < 0:
        return -1
    kind = data[pos : pos + 1]
    if kind == b"-":
        errors.append(data[pos + 1 : eol].decode())
        return eol + 2
    if kind in (b"+", b":", b",", b"_", b"#", b"("):
        return eol + 2
    n = _int(data[pos + 1 : eol])
    if kind in (b"$", b"=", b"!"):
        if n < 0:
            return eol + 2
        if eol + 4 + n > len(data):
            return -1
        if kind == b"!":
            errors.append(data[eol + 2 : eol + 2 + n].decode())
        return eol + 4 + n
    if kind in (b"*", b"~", b">", b"%"):
        pos = eol + 2
        for _ in range(n * 2 if kind == b"%" else n):
            pos = _skip(data, pos, errors)
            if pos < 0:
                return -1
        return pos
    raise ValueError(f"unexpected RESP type byte {data[pos]!r}")


class PyReplyScanner:
    """Reference: finds where one reply ends in data arriving in pieces (see the native
    ``ReplyScanner``): ``reset()``, ``feed(piece, pos)`` -> end in ``piece`` or -1,
    ``errors``."""

    _MAX_DEPTH = 64

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Start scanning a new reply."""
        self._counts: list[int] = []
        self._skip_left = 0
        self._collect = False
        self._line = b""
        self._blob = b""
        self.errors: list[str] = []

    def _complete_one(self) -> bool:
        while self._counts:
            self._counts[-1] -= 1
            if self._counts[-1] > 0:
                return False
            self._counts.pop()
        return True

    def _header(self, line: bytes) -> bool:
        if not line:
            raise ValueError("empty RESP line")
        kind = line[:1]
        if kind == b"-":
            self.errors.append(line[1:].decode())
            return self._complete_one()
        if kind in (b"+", b":", b",", b"_", b"#", b"("):
            return self._complete_one()
        count = _int(line[1:])
        if kind in (b"$", b"=", b"!"):
            if count < 0:
                return self._complete_one()
            self._skip_left = count + 2
            self._collect = kind == b"!"
            return False
        if kind in (b"*", b"~", b">", b"%"):
            count *= 2 if kind == b"%" else 1
            if count <= 0:
                return self._complete_one()
            if len(self._counts) == self._MAX_DEPTH:
                raise ValueError("RESP reply nested too deeply")
            self._counts.append(count)
            return False
        raise ValueError(f"unexpected RESP type byte {line[0]!r}")

    def feed(self, piece: bytes, pos: int) -> int:
        """Scan ``piece[pos:]``: the reply's end in ``piece``, or -1."""
        if pos < 0 or pos > len(piece):
            raise ValueError("position outside the piece")
        while True:
            if self._skip_left:
                take = min(self._skip_left, len(piece) - pos)
                if self._collect:
                    self._blob += piece[pos : pos + take]
                pos += take
                self._skip_left -= take
                if self._skip_left:
                    return -1
                if self._collect:
                    self.errors.append(self._blob[:-2].decode())
                    self._blob, self._collect = b"", False
                if self._complete_one():
                    return pos
                continue
            if self._line and pos < len(piece) and self._line[-1:] == b"\r" and piece[pos] == 10:
                line, pos = self._line[:-1], pos + 1
            else:
                eol = _line(piece, pos)
                if eol < 0:
                    self._line += piece[pos:]
                    return -1
                line, pos = self._line + piece[pos:eol], eol + 2
            self._line = b""
            if self._header(line):
                return pos


def _int(text: bytes) -> int:
    if not text or not text.lstrip(b"-").isdigit() or text.count(b"-") > 1 or text[1:2] == b"-":
        raise ValueError("malformed RESP integer")
    return int(text)


def _string(data: bytes, pos: int) -> tuple[bytes, int]:
    eol = _line(data, pos)
    if eol < 0:
        raise ValueError("truncated RESP reply")
    if data[pos : pos + 1] in (b"+", b","):
        return data[pos + 1 : eol], eol + 2
    if data[pos : pos + 1] != b"$":
        raise ValueError("expected a RESP string")
    n = _int(data[pos + 1 : eol])
    if eol + 4 + n > len(data):
        raise ValueError("truncated RESP reply")
    return data[eol + 2 : eol + 2 + n], eol + 4 + n


def py_parse_float(code: bytes) -> float:
    """Reference: the float of a code as ``float()`` reads it; ``inf``, ``-inf``, NaN for
    anything else that is not a number starting with a digit or ``-``."""
    if not code or len(code) >= 63:
        return math.nan
    if code == b"inf":
        return math.inf
    if code == b"-inf":
        return -math.inf
    if not (code[:1] == b"-" or code[:1].isdigit()) or code[:2] == b"-i":
        return math.nan
    try:
        return float(code)
    except ValueError:
        return math.nan


def _array(data: bytes, pos: int) -> tuple[int, int]:
    eol = _line(data, pos)
    if eol < 0 or data[pos : pos + 1] != b"*":
        raise ValueError("expected a RESP array")
    return _int(data[pos + 1 : eol]), eol + 2


def py_parse_ts_range(data: bytes, pos: int, offset: int) -> tuple[Ints, Floats, int]:
    """Reference: a ``TS.RANGE`` reply as ``(ts - offset, values, end)``."""
    n, pos = _array(data, pos)
    ts, vals = [], []
    for _ in range(max(n, 0)):
        if data[pos : pos + 4] != b"*2\r\n":
            raise ValueError("expected a RESP sample pair")
        eol = _line(data, pos + 4)
        if eol < 0 or data[pos + 4 : pos + 5] != b":":
            raise ValueError("expected a RESP integer")
        ts.append(_int(data[pos + 5 : eol]) - offset)
        code, pos = _string(data, eol + 2)
        vals.append(py_parse_float(code))
    return np.array(ts, dtype=np.int64), np.array(vals, dtype=np.float64), pos


def py_parse_members(data: bytes, pos: int) -> tuple[Ints, Floats, int]:
    """Reference: a ``ZRANGEBYSCORE`` reply of members as ``(ts, values, end)``."""
    n, pos = _array(data, pos)
    ts, vals = [], []
    for _ in range(max(n, 0)):
        member, pos = _string(data, pos)
        stamp, colon, code = member.partition(b":")
        if not colon:
            raise ValueError("history member without ':'")
        ts.append(_int(stamp))
        vals.append(py_parse_float(code))
    return np.array(ts, dtype=np.int64), np.array(vals, dtype=np.float64), pos


_native = _fastcore.load("hisbuf")
NATIVE = _native is not None
ts_madd = _native.ts_madd if _native else py_ts_madd
zadd = _native.zadd if _native else py_zadd
skip_reply = _native.skip_reply if _native else py_skip_reply
parse_ts_range = _native.parse_ts_range if _native else py_parse_ts_range
parse_members = _native.parse_members if _native else py_parse_members
ReplyScanner = _native.ReplyScanner if _native else PyReplyScanner
format_float = _native.format_float if _native else py_format_float
parse_float = _native.parse_float if _native else py_parse_float
