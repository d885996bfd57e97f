"""``db.his.migrate``: move sorted-set histories into RedisTimeSeries.

A point whose history is in a sorted set keeps it there (sticky), also after the server
gained the module.  Migration moves it, one point at a time and atomically per point:
``WATCH`` the sorted set, read it, then in one ``MULTI``: delete it, create the series
(the ``prepare`` script), ``TS.MADD`` the samples, ``ZADD`` the side set for values the
series cannot hold, publish the summary (the ``finish`` script).  A concurrent write to the
point makes ``EXEC`` fail and the point is read again.  Str and Coord points stay in sorted
sets (their preferred backend).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..client import as_text
from ..errors import HisConfigError, ServerError, UnknownRecError
from ..resp import pack_command
from . import codes, wire
from .backend import Summary
from .bulk import CHUNK, _exec_ends, _Raw, _small
from .point import point_config
from .timeseries import OFFSET_MS

if TYPE_CHECKING:
    from .facade import History

__all__ = ["migrate"]

_ATTEMPTS = 10


def migrate(his: History, rec_ids: list[str]) -> int:
    """Move each point's sorted-set history into TimeSeries; the number of samples moved."""
    if not his._folio.has_timeseries:
        raise HisConfigError(None, "this Redis server has no RedisTimeSeries module")
    moved = 0
    for rec_id in rec_ids:
        rec = his._rec(rec_id)
        config = point_config(rec)
        if his._preferred(config) is not his._ts:
            continue
        for _attempt in range(_ATTEMPTS):
            count = _migrate_one(his, rec["id"].id)
            if count is not None:
                moved += count
                break
        else:
            raise HisConfigError(rec, "history kept changing while migrating; try again")
    return moved


def _migrate_one(his: History, rec_id: str) -> int | None:
    """Samples moved (0 when not in a sorted set), or None when a write interfered."""
    ts_backend = his._ts
    keys = ts_backend.key_args(rec_id)
    sha = ts_backend.sha()
    raw = _Raw(his._folio.client, ts_backend.server)
    failed = True
    try:
        raw.send(pack_command("WATCH", keys[0]) + pack_command("TYPE", keys[0]))
        raw.reply()
        data, start, _, _ = raw.reply()
        if as_text(_small(data, start)) != "zset":
            raw.send(pack_command("UNWATCH"))
            raw.reply()
            failed = False
            return 0
        raw.send(pack_command("ZRANGE", keys[0], 0, -1))
        data, start, _, _ = raw.reply()
        members = _small(data, start)
        stamps, values, side = [], [], []
        for member in members:
            stamp, _, code = member.partition(b":")
            t = int(stamp)
            stamps.append(t)
            text = code.decode()
            if codes.is_finite_code(text):
                values.append(float(text))
            else:
                values.append(0.0)
                side.append((t + OFFSET_MS, f"{t + OFFSET_MS}:{text}"))
        ts = np.array(stamps, dtype=np.int64)
        vals = np.array(values, dtype=np.float64)
        parts = [
            pack_command("MULTI"),
            pack_command("DEL", keys[0], keys[1]),
            pack_command("EVALSHA", sha, len(keys), *keys, rec_id, "prepare", b""),
        ]
        main = keys[0].encode()
        for i in range(0, len(ts), CHUNK):
            parts.append(wire.ts_madd(main, ts[i : i + CHUNK], vals[i : i + CHUNK], OFFSET_MS))
        for i in range(0, len(side), CHUNK):
            flat: list[Any] = []
            for score, member in side[i : i + CHUNK]:
                flat += [score, member]
            parts.append(pack_command("ZADD", keys[1], *flat))
        parts.append(pack_command("EVALSHA", sha, len(keys), *keys, rec_id, "finish"))
        parts.append(pack_command("EXEC"))
        raw.send(b"".join(parts))
        errors: list[str] = []
        for _ in range(len(parts) - 1):  # MULTI and the queued commands
            errors += raw.reply()[3]
        data, start, _, exec_errors = raw.reply()
        failed = False
    finally:
        raw.close(failed)
    if errors:
        raise ServerError(f"migrating the history of @{rec_id} was refused: {errors[0]}")
    if data[start : start + 1] == b"_" or data[start : start + 3] == b"*-1":
        return None  # WATCH: another write came first
    _, last = _exec_ends(data, start)
    finished = _small(data, last)
    if as_text(finished[0]) == "gone":
        raise UnknownRecError(f"@{rec_id}")
    if exec_errors or as_text(finished[0]) != "ok":
        raise ServerError(f"migrating the history of @{rec_id} failed: {exec_errors or finished}")
    his._summary(rec_id, Summary.parse(finished[1]))
    return len(ts)
