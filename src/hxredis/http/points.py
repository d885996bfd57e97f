"""The ``pointWrite`` op: a writable point's 17-level priority array (http.md §3.7).

The array of each point is a Redis hash (``KeySchema.point_write``: level -> Zinc dict of
``val``, ``who`` and, for a timed level 8 override, ``expires`` in epoch ms, plus the field
``_`` that keeps the hash alive once made), so every worker process sees the same array.

* **Persistence**: levels 1, 8 (written without a duration) and 17 are also the record tags
  ``write1``, ``write8``, ``writeDef`` (forced commits; a release removes the tag; a timed
  override removes ``write8``, as it replaced the untimed value).  A missing hash (a backup
  restored, a new server) is rebuilt from them when the array is next read.
* **Timed overrides**: their release time is in a sorted set (``point_write_due``); each
  worker's :class:`~hxredis.http.pointtimer.PointTimer` claims due entries atomically, so one
  worker releases each.  An expired override is also dropped by any read of the array.
* **Record tags**: the effective value is ``writeVal`` (removed when null) and ``writeLevel``
  (and ``curVal``/``curStatus`` with ``curTracksWrite``), transient tags of each worker's
  Folio: every change of an array is announced on a stream (``point_write_changes``) and each
  worker brings its tags up to date (:func:`reconcile`).
* **Removal**: a removed record's hash and due entry go with its history (his gc).
"""

from __future__ import annotations

import time as _time
from typing import Any

from .. import zinc
from ..diff import Diff
from ..folio import Folio
from ..redis_errors import describe, redis_failures
from ..units import canonical_unit, is_unit
from ..values import MARKER, REMOVE, Grid, Number, Ref
from .grids import OpError

__all__ = ["LEVELS", "announce", "point_write", "read_array", "reconcile"]

LEVELS = range(1, 18)
_LEVEL_DIS = {1: "1 (emergency)", 8: "8 (manual)", 17: "def"}
_DURATION_MS = {"ms": 1, "s": 1000, "sec": 1000, "min": 60_000, "h": 3_600_000, "hr": 3_600_000}
_KINDS = {"Number": Number, "Bool": bool, "Str": str}
PERSISTED = {1: "write1", 8: "write8", 17: "writeDef"}
"""The levels saved on the record, and their tags."""
_ALIVE = "_"
_CHANGES_MAXLEN = 10_000

# The array of KEYS[1], rebuilt from ARGV (level, entry pairs: the record's write tags) when
# the hash is missing.
_READ = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], '_', '1', unpack(ARGV))
end
return redis.call('HGETALL', KEYS[1])
"""


def _now_ms() -> int:
    return int(_time.time() * 1000)


def _key(db: Folio, rec: Any) -> str:
    return db._keys.point_write(db._stored_id(rec["id"].id))


def read_array(db: Folio, rec: Any) -> dict[int, dict[str, Any]]:
    """The live levels of point ``rec``'s array (rebuilt from its write tags when the hash
    is missing); expired overrides are removed."""
    restore: list[str] = []
    for level, tag in PERSISTED.items():
        if rec.get(tag) is not None:
            restore += [str(level), zinc.dumps({"val": rec[tag]})[1:-1]]
    key = _key(db, rec)
    with redis_failures(describe(db.client)):
        flat = db.client.eval(_READ, 1, key, *restore)
    out: dict[int, dict[str, Any]] = {}
    expired = []
    now = _now_ms()
    for i in range(0, len(flat), 2):
        field = flat[i].decode()
        if field == _ALIVE:
            continue
        entry = zinc.loads_tags(flat[i + 1].decode())
        exp = entry.get("expires")
        if isinstance(exp, Number) and exp.val <= now:
            expired.append(field)
            continue
        out[int(field)] = entry
    if expired:
        with redis_failures(describe(db.client)):
            db.client.hdel(key, *expired)
    return out


def _effective(array: dict[int, dict[str, Any]]) -> tuple[Any, int]:
    for level in LEVELS:
        entry = array.get(level)
        if entry is not None and entry.get("val") is not None:
            return entry["val"], level
    return None, 17


def reconcile(db: Folio, rec: Any, array: dict[int, dict[str, Any]]) -> None:
    """Bring point ``rec``'s transient tags (``writeVal``, ``writeLevel``; ``curVal``,
    ``curStatus`` with ``curTracksWrite``) in this process up to date with ``array``."""
    val, level = _effective(array)
    if rec.get("writeLevel") == Number(level) and rec.get("writeVal") == val:
        return
    changes: dict[str, Any] = {"writeVal": REMOVE if val is None else val}
    changes["writeLevel"] = Number(level)
    if rec.get("curTracksWrite") is MARKER:
        changes["curVal"] = REMOVE if val is None else val
        changes["curStatus"] = "ok"
    db.commit(Diff(rec, changes, Diff.FORCE_TRANSIENT))


def announce(db: Folio, stored_ids: list[str]) -> None:
    """Tell every worker that these points' arrays changed (see :func:`reconcile`)."""
    with redis_failures(describe(db.client)):
        pipe = db.client.pipeline(transaction=False)
        for stored in stored_ids:
            pipe.xadd(
                db._keys.point_write_changes,
                {"id": stored},
                maxlen=_CHANGES_MAXLEN,
                approximate=True,
            )
        pipe.execute()


def _check_point(rec: Any) -> str:
    for tag in ("point", "writable"):
        if rec.get(tag) is not MARKER:
            raise OpError(f"pointWrite: rec missing '{tag}' tag: @{rec['id'].id}")
    kind = rec.get("kind")
    if kind not in _KINDS:
        raise OpError(f"pointWrite: rec has no usable 'kind' tag: @{rec['id'].id}")
    return kind


def _check_val(rec: Any, kind: str, val: Any) -> Any:
    expected = _KINDS[kind]
    if not isinstance(val, expected) or (kind == "Number" and isinstance(val, bool)):
        raise OpError(f"pointWrite: a {kind} point cannot take {zinc.dumps(val)}")
    if isinstance(val, Number):
        unit = rec.get("unit")
        if val.unit is None:
            return Number(val.val, unit) if isinstance(unit, str) else val
        if (
            not isinstance(unit, str)
            or not is_unit(unit)
            or (canonical_unit(val.unit) != canonical_unit(unit))
        ):
            raise OpError(f"pointWrite: unit {val.unit!r} does not match the point's {unit!r}")
    return val


def _duration_ms(duration: Any) -> int:
    if not isinstance(duration, Number) or duration.unit not in _DURATION_MS or duration.val <= 0:
        raise OpError(f"pointWrite: duration must be a positive time Number, not {duration!r}")
    return int(duration.val * _DURATION_MS[duration.unit])


def _array_grid(array: dict[int, dict[str, Any]]) -> Grid:
    rows = []
    now = _now_ms()
    for level in LEVELS:
        entry = array.get(level, {})
        row: dict[str, Any] = {
            "level": Number(level),
            "levelDis": _LEVEL_DIS.get(level, str(level)),
            "val": entry.get("val"),
            "who": entry.get("who"),
        }
        if entry.get("val") is not None:
            row["valDis"] = (
                zinc.dumps(entry["val"]) if not isinstance(entry["val"], str) else (entry["val"])
            )
        exp = entry.get("expires")
        if isinstance(exp, Number):
            row["expires"] = Number(round((exp.val - now) / 60_000, 1), "min")
        rows.append(row)
    val, level = _effective(array)
    meta = {"writeLevel": Number(level)}
    if val is not None:
        meta["writeVal"] = val
    cols = ["level", "levelDis", "val", "valDis", "who", "expires"]
    return Grid(meta, cols, rows)


def _persist(db: Folio, rec: Any, level: int, entry: dict[str, Any] | None) -> Any:
    """Save a write at a persisted level as the record's write tag (forced commit); the
    record as it is afterwards."""
    tag = PERSISTED.get(level)
    if tag is None:
        return rec
    val = None if entry is None or "expires" in entry else entry["val"]
    if rec.get(tag) == val:
        return rec
    diff = Diff(rec, {tag: REMOVE if val is None else val}, Diff.FORCE)
    return db.commit(diff).new_rec


def point_write(db: Folio, req: Grid, user: str) -> Grid:
    """The pointWrite op: with a ``level``, write (or with no ``val`` release) that level and
    answer ``ok``; without one, answer the 17-row array."""
    if len(req.rows) != 1:
        raise OpError("pointWrite: the request must be exactly one row")
    row = req.rows[0]
    ref = row.get("id")
    if not isinstance(ref, Ref):
        raise OpError(f"pointWrite: id must be a Ref, not {ref!r}")
    rec = db.read_by_id(ref)
    kind = _check_point(rec)
    level = row.get("level")
    if level is None:
        array = read_array(db, rec)
        reconcile(db, rec, array)
        return _array_grid(array)
    if not isinstance(level, Number) or not level.val.is_integer() or not 1 <= level.val <= 17:
        raise OpError(f"pointWrite: level must be a Number 1..17, not {zinc.dumps(level)}")
    level_n = int(level.val)
    who = row.get("who", user)
    if not isinstance(who, str) or not who:
        raise OpError("pointWrite: who must be a non-empty Str")
    val = row.get("val")
    entry: dict[str, Any] | None = None
    if val is not None:
        val = _check_val(rec, kind, val)
        entry = {"val": val, "who": who}
        duration = row.get("duration")
        if duration is not None:
            if level_n != 8:
                raise OpError("pointWrite: duration is only allowed at level 8")
            entry["expires"] = Number(_now_ms() + _duration_ms(duration))
    before = read_array(db, rec)
    if before.get(level_n) == entry or (entry is None and level_n not in before):
        reconcile(db, rec, before)  # a repeat: nothing changes
        return Grid({"ok": MARKER}, [], [])
    key, stored = _key(db, rec), db._stored_id(rec["id"].id)
    with redis_failures(describe(db.client)):
        pipe = db.client.pipeline(transaction=True)
        if entry is None:
            pipe.hdel(key, str(level_n))
        else:
            pipe.hset(key, str(level_n), zinc.dumps(entry)[1:-1])
        if level_n == 8:
            if entry is not None and "expires" in entry:
                pipe.zadd(db._keys.point_write_due, {stored: int(entry["expires"].val)})
            else:
                pipe.zrem(db._keys.point_write_due, stored)
        pipe.execute()
    rec = _persist(db, rec, level_n, entry)
    announce(db, [stored])
    reconcile(db, rec, read_array(db, rec))
    return Grid({"ok": MARKER}, [], [])
