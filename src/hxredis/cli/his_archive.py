"""The ``history`` section of a backup archive: every point's samples, point by point.

Entries::

    history.json        [{"id": "p1", "entry": "history/0.npz", "samples": N}, ...]
    history/<n>.npz     a Number or Bool point: ``ts`` int64 epoch ms, ``val`` float64 as
                        stored, ``na`` int64 epoch ms of the samples that are NA (NaN in ``val``)
    history/<n>.json    any other point (Str, Coord): {"ts": [ms, ...], "val": [Haystack JSON]}

Numbers go back through the numpy bulk path (``write_many``) and so keep their exact float64
values; the items of other points (and the NA samples) go through ``his.write``.  Reads after
a restore are identical whether the target server has RedisTimeSeries or not.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from .. import json as hjson
from ..errors import FolioError
from ..folio import Folio
from ..his.point import epoch_ms, read_config
from ..timezones import UTC
from ..values import NA, HisItem, Ref

__all__ = ["INDEX", "read_history", "write_history"]

INDEX = "history.json"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def history_points(db: Folio) -> list[tuple[str, int]]:
    """The points with history and their sample counts (``hisSize``)."""
    points = []
    for pid in sorted(db.his.point_ids()):
        rec = db.read_by_id(Ref(pid), checked=False)
        if rec is not None and "hisSize" in rec:
            points.append((pid, int(rec["hisSize"].val)))
    return points


def write_history(
    db: Folio, archive: zipfile.ZipFile, points: list[tuple[str, int]], tick: Callable[[int], Any]
) -> int:
    """Write the history of ``points`` into ``archive``, one entry per point; the number of
    samples written.  ``tick(samples)`` after each point."""
    index = []
    total = 0
    for n, (pid, _size) in enumerate(points):
        ref = Ref(pid)
        config = read_config(db.read_by_id(ref))
        if config.kind in ("Number", "Bool"):
            ts, val = db.his.read_arrays(ref)
            na = np.empty(0, np.int64)
            if np.isnan(val).any():  # NaN or NA: which is which only the items say
                na = np.array([epoch_ms(t) for t, v in db.his.read(ref) if v is NA], dtype=np.int64)
            buf = io.BytesIO()
            np.savez(buf, ts=ts, val=val, na=na)
            entry, data, count = f"history/{n}.npz", buf.getvalue(), len(ts)
        else:
            items = db.his.read(ref)
            doc = {
                "ts": [epoch_ms(t) for t, _ in items],
                "val": [hjson.encode(v) for _, v in items],
            }
            entry, data, count = f"history/{n}.json", json.dumps(doc).encode(), len(items)
        archive.writestr(entry, data)
        index.append({"id": pid, "entry": entry, "samples": count})
        total += count
        tick(count)
    archive.writestr(INDEX, json.dumps(index, indent=0) + "\n")
    return total


def read_history(
    db: Folio, archive: zipfile.ZipFile, tick: Callable[[int], Any]
) -> tuple[int, int, list[str]]:
    """Write the history in ``archive`` into ``db``, point by point: ``(points, samples,
    refusals)``; a point that cannot be written (its record missing, say) is refused with the
    reason and the others are still written."""
    points = samples = 0
    refusals = []
    for row in json.loads(archive.read(INDEX)):
        ref = Ref(row["id"])
        try:
            samples += _restore_point(db, ref, archive.read(row["entry"]), row["entry"])
            points += 1
        except (FolioError, ValueError, TypeError) as exc:
            refusals.append(f"history of @{ref.id}: {exc}")
        tick(int(row["samples"]))
    return points, samples, refusals


def _restore_point(db: Folio, ref: Ref, data: bytes, entry: str) -> int:
    config = read_config(db.read_by_id(ref))
    zone = config.zone

    def when(ms: int) -> datetime:
        return (_EPOCH + timedelta(milliseconds=ms)).astimezone(zone)

    if entry.endswith(".npz"):
        with np.load(io.BytesIO(data)) as arrays:
            ts, val, na = arrays["ts"], arrays["val"], arrays["na"]
        if config.kind == "Bool":
            val = val.astype(bool)  # NaN (NA) becomes True here and NA again below
        count = db.his.write_many({ref: (ts, val)}) if len(ts) else 0
        if len(na):
            db.his.write(ref, [HisItem(when(int(ms)), NA) for ms in na])
        return count
    doc = json.loads(data)
    items = [
        HisItem(when(int(ms)), hjson.decode(v)) for ms, v in zip(doc["ts"], doc["val"], strict=True)
    ]
    return int(db.his.write(ref, items)["count"].val) if items else 0
