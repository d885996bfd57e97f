"""How a history value is written in Redis: a short text code, the same on both backends.

==========================  ===========================  ==================================
value                       code                         TimeSeries backend keeps it in
==========================  ===========================  ==================================
finite Number, Bool         ``repr(float)`` (``"1.5"``,  the series itself
                            ``"1.0"`` for True)
NaN, +INF, -INF             ``"nan"``, ``"inf"``,        the side set (the series holds a 0
                            ``"-inf"``                   placeholder at that timestamp)
NA                          ``"NA"``                     the side set
Str                         ``"s"`` + the text           the side set
Coord                       its Zinc, ``"C(1.0,2.0)"``   the side set
==========================  ===========================  ==================================

A finite number's code always starts with a digit or ``-`` and a digit; nothing else does.
Values are decoded against the point's *current* kind and unit (folio.md §4.4: a unit change
relabels history), so a numeric code is a ``bool`` on a Bool point and a ``Number`` with the
point's unit otherwise.
"""

from __future__ import annotations

import math
import re
from typing import Any

from .. import zinc
from ..values import NA, Coord, NAType, Number

__all__ = ["decode", "encode", "is_finite_code"]

_FINITE = re.compile(r"-?[0-9]")


def encode(val: Any) -> str:
    """The code of a normalized history value (Number, bool, str, Coord or NA)."""
    if isinstance(val, Number):
        return repr(val.val)
    if val is True:
        return "1.0"
    if val is False:
        return "0.0"
    if isinstance(val, str):
        return "s" + val
    if isinstance(val, Coord):
        return zinc.dumps(val)
    if isinstance(val, NAType):
        return "NA"
    raise TypeError(f"not a history value: {type(val).__name__}")


def is_finite_code(code: str) -> bool:
    """True for the code of a finite number (what a RedisTimeSeries sample can hold)."""
    return _FINITE.match(code) is not None


def decode(code: str | bytes, kind: str, unit: str | None) -> Any:
    """The value of a code on a point of ``kind`` with ``unit`` (see the module docstring)."""
    if isinstance(code, bytes):
        code = code.decode()
    first = code[:1]
    if first == "s":
        return code[1:]
    if first == "C":
        return zinc.loads(code)
    if code == "NA":
        return NA
    f = float(code)
    if kind == "Bool":
        return f != 0.0 and not math.isnan(f)
    return Number(f, unit)


def number_of(code: str | bytes) -> float:
    """The float of a code for the numpy path: NA (and any non-number) is NaN."""
    if isinstance(code, bytes):
        code = code.decode()
    if code[:1] in ("s", "C") or code == "NA":
        return math.nan
    return float(code)
