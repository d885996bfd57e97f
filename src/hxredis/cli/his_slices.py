"""A point's history read in slices of bounded size, for ``his read`` and ``backup``: the
command line holds one slice of a point's samples at a time, not its whole history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from ..folio import Folio
from ..his.point import epoch_ms
from ..timezones import UTC
from ..values import HisItem, Ref, Span

__all__ = ["SLICE", "array_slices", "item_slices"]

SLICE = 100_000
"""Samples per slice."""

_MS = timedelta(milliseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_GROWTH = 8  # a window after a sparse one is at most this many times wider


def _bounds(db: Folio, ref: Ref) -> tuple[datetime, datetime, int] | None:
    """``hisStart``, ``hisEnd`` and ``hisSize`` of a point, None without history."""
    rec = db.read_by_id(ref)
    assert rec is not None
    if "hisStart" not in rec:
        return None
    return rec["hisStart"], rec["hisEnd"], int(rec["hisSize"].val)


def item_slices(
    db: Folio, ref: Ref, span: Span | None = None, size: int = SLICE
) -> Iterator[list[HisItem]]:
    """The items ``db.his.read(ref, span)`` returns, as consecutive lists of at most
    ``size + 3`` items, each read with one ``his.read`` of at most that many.

    Without a span: every sample (from the point's ``hisStart`` to its ``hisEnd``).  With
    one: the samples in it, the last one before it and up to two after it.
    """
    if size < 1:
        raise ValueError(f"size must be at least 1, not {size}")
    if span is None:
        bounds = _bounds(db, ref)
        if bounds is None:
            return
        start, end, padded = bounds[0], bounds[1] + _MS, False
    else:
        start, end, padded = span.start, span.end, True
    t = start
    while True:
        raw = db.his.read(ref, Span(t, end), limit=size + 3)
        inside = [item for item in raw if t <= item.ts < end]
        out = [item for item in raw if item.ts < start] if padded else []
        out += inside
        # at most size samples in the span came back only when nothing was cut off
        done = len(inside) <= size
        if done and padded:
            out += [item for item in raw if item.ts >= end]
        if out:
            yield out
        if done:
            return
        t = (inside[-1].ts + _MS).astimezone(end.tzinfo)  # a Span's ends share a tz


def array_slices(db: Folio, ref: Ref, size: int = SLICE) -> Iterator[tuple[Span, Any, Any]]:
    """Every sample of a Number or Bool point as ``(window, ts, val)``: the samples in the
    time window as ``(int64 epoch ms, float64)`` arrays (``db.his.read_arrays``), slice by
    slice in ascending time, windows without samples left out.

    Slices are time windows sized to hold about ``size`` samples: the first by the point's
    average density, each next one by the density of the last (at most 8 times wider), so
    a slice holds more only where samples get much denser within one window.
    """
    if size < 1:
        raise ValueError(f"size must be at least 1, not {size}")
    bounds = _bounds(db, ref)
    if bounds is None:
        return
    lo, hi, count = epoch_ms(bounds[0]), epoch_ms(bounds[1]), bounds[2]
    width = max(1, (hi - lo + 1) * size // max(count, 1))
    t = lo
    while t <= hi:
        stop = min(t + width, hi + 1)
        window = Span(_datetime(t), _datetime(stop))
        ts, val = db.his.read_arrays(ref, window)
        if len(ts):
            yield window, ts, val
        width = max(1, min(width * _GROWTH, width * size // max(len(ts), 1)))
        t = stop


def _datetime(ms: int) -> datetime:
    """An epoch-ms timestamp as a UTC datetime."""
    return _EPOCH + timedelta(milliseconds=ms)
