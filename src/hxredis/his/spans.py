"""One point's samples in a span as numpy arrays that keep NA apart from NaN: the fast path of
the HTTP ``hisRead`` op (http.md §3.8).

:meth:`History.read_arrays <hxredis.his.facade.History.read_arrays>` reads the samples
(native RESP parsing, no Python object per sample) but maps NA to NaN.  The few samples it
gives as NaN are looked up again, one pipelined round trip, to tell NaN from NA; a sample
holding a value no array can carry (Str or Coord, e.g. after a kind change) or one that
changed meanwhile gives None, and the caller reads through :meth:`History.read` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..redis_errors import redis_failures
from ..values import Ref, Span
from .point import read_config
from .timeseries import OFFSET_MS

if TYPE_CHECKING:
    from .facade import History

__all__ = ["SpanArrays", "read_span"]


@dataclass(frozen=True)
class SpanArrays:
    """Samples ``lo <= ts < hi`` of a Number or Bool point, ascending: ``ms`` epoch ms,
    ``vals`` float64 (NaN, +/-INF as stored; Bool as 1.0 / 0.0), ``na`` True where the sample
    is NA; ``kind``, ``unit`` and ``zone`` of the point now."""

    ms: npt.NDArray[np.int64]
    vals: npt.NDArray[np.float64]
    na: npt.NDArray[np.bool_]
    kind: str
    unit: str | None
    zone: Any


def read_span(his: History, id: Ref | str, span: Span) -> SpanArrays | None:
    """The samples of point ``id`` in ``span`` (start inclusive, end exclusive; no samples
    around it), or None when the point's kind is not Number or Bool or a sample holds a
    value other than a number or NA.  Raises what ``his.read`` raises (UnknownRecError,
    HisConfigError, the Redis failure family)."""
    rec = his._rec(id)
    config = read_config(rec)
    if config.kind not in ("Number", "Bool"):
        return None
    ms, vals = his.read_arrays(rec["id"], span)
    na = np.zeros(len(ms), dtype=np.bool_)
    unknown = np.isnan(vals)
    if unknown.any():
        codes = _codes(his, rec, ms[unknown])
        if codes is None:
            return None
        for code in codes:
            if code not in (b"NA", b"nan"):
                return None
        na[unknown] = np.array([code == b"NA" for code in codes], dtype=np.bool_)
    return SpanArrays(ms, vals, na, config.kind, config.unit, config.zone)


def _codes(his: History, rec: Any, stamps: npt.NDArray[np.int64]) -> list[bytes] | None:
    """The stored codes at the epoch-ms ``stamps`` (None if one has no single sample)."""
    key_id = his._key_id(rec)
    backend = his._stored_backends([key_id]).get(key_id)
    if backend is None:
        return None
    if backend.name == "timeseries":
        key, stored = backend.keys.his_side(key_id), stamps + OFFSET_MS
    else:
        key, stored = backend.keys.his(key_id), stamps
    with redis_failures(backend.server):
        pipe = his._folio.client.pipeline(transaction=False)
        for stamp in stored.tolist():
            pipe.zrangebyscore(key, stamp, stamp)
        replies = pipe.execute()
    codes = []
    for members in replies:
        if len(members) != 1:
            return None
        codes.append(members[0].partition(b":")[2])
    return codes
