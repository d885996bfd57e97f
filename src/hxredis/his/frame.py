"""``db.his.read_frame``: several points' history as one pandas DataFrame (the ``pandas``
extra)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..values import Ref, Span
from .point import read_config

if TYPE_CHECKING:
    from .facade import History

__all__ = ["read_frame"]


def read_frame(his: History, ids: Iterable[Ref | str], span: Span | None = None) -> Any:
    """A DataFrame with a column of float64 per point (named by its id), indexed by the
    union of their timestamps, tz-aware in the first point's tz; NaN where a point has no
    sample.  ImportError naming the extra when pandas is missing."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("read_frame needs pandas: pip install 'hxredis[pandas]'") from None
    columns = {}
    zone = None
    for id in ids:
        rec = his._rec(id)
        config = read_config(rec)
        zone = zone or config.zone
        ts, vals = his.read_arrays(id, span)
        index = pd.to_datetime(ts, unit="ms", utc=True)
        columns[rec["id"].id] = pd.Series(vals, index=index)
    frame = pd.DataFrame(columns)
    if zone is not None:
        frame.index = frame.index.tz_convert(str(zone))
    frame.index.name = "ts"
    return frame
