"""The ``history`` section of a backup archive: every point's samples, point by point and
slice by slice (:mod:`.his_slices`), so neither backup nor restore holds a point's whole
history.

Entries::

    history.json        [{"id": "p1", "entries": ["history/0-0.npz", ...], "samples": N}, ...]
    history/<n>-<k>.npz slice k of a Number or Bool point: ``ts`` int64 epoch ms, ``val``
                        float64 as stored, ``na`` int64 epoch ms of the samples that are NA
                        (NaN in ``val``)
    history/<n>-<k>.json slice k of any other point (Str, Coord): {"ts": [ms, ...], "val":
                        [Haystack JSON]}

Archives of version 1 hold each point in one entry (``"entry": "history/<n>.npz"``); they
restore as before.  Numbers go back through the numpy bulk path (``write_many``, atomic per
slice) and so keep their exact float64 values; the items of other points (and the NA
samples) go through ``his.write``.  Reads after a restore are identical whether the target
server has RedisTimeSeries or not.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from .. import json as hjson
from ..errors import FolioError
from ..folio import Folio
from ..his.point import epoch_ms, read_config
from ..timezones import UTC
from ..values import NA, HisItem, Ref
from .his_slices import SLICE, array_slices, item_slices

__all__ = ["INDEX", "history_points", "read_history", "write_history"]

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
    db: Folio,
    archive: zipfile.ZipFile,
    points: list[tuple[str, int]],
    tick: Callable[[int], Any],
    size: int = SLICE,
) -> int:
    """Write the history of ``points`` into ``archive``, in entries of at most about
    ``size`` samples; the number of samples written.  ``tick(samples)`` after each entry."""
    index = []
    total = 0
    for n, (pid, _size) in enumerate(points):
        ref = Ref(pid)
        entries = []
        count = 0
        for k, (data, ext, samples) in enumerate(_point_slices(db, ref, size)):
            entry = f"history/{n}-{k}.{ext}"
            archive.writestr(entry, data)
            entries.append(entry)
            count += samples
            tick(samples)
        index.append({"id": pid, "entries": entries, "samples": count})
        total += count
    archive.writestr(INDEX, json.dumps(index, indent=0) + "\n")
    return total


def _point_slices(db: Folio, ref: Ref, size: int) -> Iterator[tuple[bytes, str, int]]:
    """A point's history as entries ``(data, extension, samples)``, one per slice."""
    config = read_config(db.read_by_id(ref))
    if config.kind in ("Number", "Bool"):
        for window, ts, val in array_slices(db, ref, size):
            na = np.empty(0, np.int64)
            if np.isnan(val).any():  # NaN or NA: which is which only the items say
                na = np.array(
                    [
                        epoch_ms(t)
                        for items in item_slices(db, ref, window, size)
                        for t, v in items
                        if v is NA and window.start <= t < window.end
                    ],
                    dtype=np.int64,
                )
            buf = io.BytesIO()
            np.savez(buf, ts=ts, val=val, na=na)
            yield buf.getvalue(), "npz", len(ts)
        return
    for items in item_slices(db, ref, None, size):
        doc = {
            "ts": [epoch_ms(t) for t, _ in items],
            "val": [hjson.encode(v) for _, v in items],
        }
        yield json.dumps(doc).encode(), "json", len(items)


def read_history(
    db: Folio, archive: zipfile.ZipFile, tick: Callable[[int], Any]
) -> tuple[int, int, list[str]]:
    """Write the history in ``archive`` into ``db``, point by point and entry by entry:
    ``(points, samples, refusals)``; a point that cannot be written (its record missing,
    say) is refused with the reason and the others are still written."""
    points = samples = 0
    refusals = []
    for row in json.loads(archive.read(INDEX)):
        ref = Ref(row["id"])
        entries = row["entries"] if "entries" in row else [row["entry"]]  # version 1: one
        try:
            for entry in entries:
                samples += _restore_entry(db, ref, archive.read(entry), entry)
            points += 1
        except (FolioError, ValueError, TypeError) as exc:
            refusals.append(f"history of @{ref.id}: {exc}")
        tick(int(row["samples"]))
    return points, samples, refusals


def _restore_entry(db: Folio, ref: Ref, data: bytes, entry: str) -> int:
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
