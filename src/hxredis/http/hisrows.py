"""The fast reply of a single hisRead of a Number or Bool point (http.md §3.8): the grid
header by the ordinary writers, the rows from numpy arrays by ``hxredis._fastcore.hisrows``
(reference: :func:`py_rows`), byte for byte what the writers give for the same grid.

UTC offsets come from :func:`utc_offsets`: the zone is asked once a day of the span and at
the changes it finds (bisected to the millisecond), never once per sample.  Two offset
changes less than a day apart would be seen as one; no zone has had that since 1950.
"""

from __future__ import annotations

import json as _json
import math
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import _fastcore, zinc
from .. import json as hjson
from ..his.spans import SpanArrays
from ..timezones import UTC, tz_name
from ..values import NA, Grid, Number
from .formats import _v3, encode_response

__all__ = ["NATIVE", "encode_his_read", "py_rows", "rows", "utc_offsets"]

FORMATS = ("zinc", "json", "json3")
"""The formats with a fast path (Trio and CSV go through the Grid)."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAY_MS = 86_400_000


def _offset(ms: int, zone: Any) -> int:
    off = (_EPOCH + timedelta(milliseconds=ms)).astimezone(zone).utcoffset()
    assert off is not None
    return int(off.total_seconds())


def utc_offsets(ms: npt.NDArray[np.int64], zone: Any) -> npt.NDArray[np.int32]:
    """The UTC offset (seconds) of ``zone`` at each epoch-ms timestamp of ascending ``ms``."""
    if len(ms) == 0:
        return np.empty(0, np.int32)
    lo, hi = int(ms[0]), int(ms[-1])
    probes = [*range(lo, hi, _DAY_MS), hi]
    offs = [_offset(p, zone) for p in probes]
    starts, values = [], [offs[0]]
    for i in range(1, len(probes)):
        if offs[i] != offs[i - 1]:
            before, after = probes[i - 1], probes[i]  # the change is in (before, after]
            while after - before > 1:
                mid = (before + after) // 2
                if _offset(mid, zone) == offs[i - 1]:
                    before = mid
                else:
                    after = mid
            starts.append(after)
            values.append(offs[i])
    at = np.searchsorted(np.array(starts, dtype=np.int64), ms, side="right")
    return np.array(values, dtype=np.int32)[at]


def py_rows(
    fmt: str,
    ms: npt.NDArray[np.int64],
    vals: npt.NDArray[np.float64],
    na: npt.NDArray[np.bool_],
    is_bool: bool,
    unit: str | None,
    zone: Any,
) -> bytes:
    """Reference: the rows of a hisRead reply of these samples as the grid writers give them
    (``fmt`` ``zinc``: one line each; ``json``, ``json3``: row objects joined by commas)."""
    out = []
    for t, v, is_na in zip(ms.tolist(), vals.tolist(), na.tolist(), strict=True):
        ts = (_EPOCH + timedelta(milliseconds=t)).astimezone(zone)
        if is_na:
            val: Any = NA
        elif is_bool:
            val = v != 0.0 and not math.isnan(v)
        else:
            val = Number(v, unit)
        if fmt == "zinc":
            out.append(f"{zinc.dumps(ts)},{zinc.dumps(val)}\n")
        elif fmt == "json":
            out.append(hjson.dumps({"ts": ts, "val": val}))
        elif fmt == "json3":
            row = _v3({"ts": ts, "val": val})
            out.append(_json.dumps(row, ensure_ascii=False, separators=(",", ":")))
        else:
            raise ValueError(f"unknown hisRead rows format {fmt!r}")
    return ("" if fmt == "zinc" else ",").join(out).encode()


_native = _fastcore.load("hisrows")
NATIVE = _native is not None


def rows(fmt: str, data: SpanArrays) -> bytes:
    """The rows of a hisRead reply of ``data`` in ``fmt`` (see :func:`py_rows`)."""
    if _native is None:
        return py_rows(fmt, data.ms, data.vals, data.na, data.kind == "Bool", data.unit, data.zone)
    return _native.rows(
        fmt,
        np.ascontiguousarray(data.ms, dtype=np.int64),
        utc_offsets(data.ms, data.zone),
        np.ascontiguousarray(data.vals, dtype=np.float64),
        data.na.view(np.uint8),
        data.kind == "Bool",
        data.unit,
        tz_name(data.zone),
    )


def encode_his_read(grid: Grid, data: SpanArrays, fmt: str) -> bytes:
    """The reply body of the hisRead ``grid`` (meta and columns ``ts``, ``val``; no rows)
    holding the samples ``data``, in ``fmt`` (one of :data:`FORMATS`): the bytes
    :func:`~hxredis.http.formats.encode_response` gives for the grid with its rows."""
    head = encode_response(grid, fmt)
    if fmt == "zinc":  # head + "\n" (end of grid)
        return head[:-1] + rows(fmt, data) + b"\n"
    return head[:-2] + rows(fmt, data) + b"]}"  # ... "rows":[]}
