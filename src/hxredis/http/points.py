"""The ``pointWrite`` op: a writable point's 17-level priority array (http.md §3.7).

The array of each point is a Redis hash ``{base}:pw:<id>`` (level -> Zinc dict of ``val``,
``who`` and, for a timed level 8 override, ``expires`` in epoch ms), so every worker process
sees the same array.  An expired override is dropped when the array is next read or written.
When the effective value or level changes, a transient commit sets ``writeVal`` (removed when
null) and ``writeLevel``, and ``curVal``/``curStatus`` when the point has ``curTracksWrite``.
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

__all__ = ["point_write"]

LEVELS = range(1, 18)
_LEVEL_DIS = {1: "1 (emergency)", 8: "8 (manual)", 17: "def"}
_DURATION_MS = {"ms": 1, "s": 1000, "sec": 1000, "min": 60_000, "h": 3_600_000, "hr": 3_600_000}
_KINDS = {"Number": Number, "Bool": bool, "Str": str}


def _now_ms() -> int:
    return int(_time.time() * 1000)


def _array(db: Folio, key: str) -> dict[int, dict[str, Any]]:
    """The live levels of a point's array; expired overrides are removed."""
    with redis_failures(describe(db.client)):
        raw = db.client.hgetall(key)
    out: dict[int, dict[str, Any]] = {}
    expired = []
    for field, text in raw.items():
        level = int(field)
        entry = zinc.loads_tags(text.decode())
        exp = entry.get("expires")
        if isinstance(exp, Number) and exp.val <= _now_ms():
            expired.append(field)
            continue
        out[level] = entry
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


def _array_grid(rec: Any, array: dict[int, dict[str, Any]]) -> Grid:
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


def point_write(db: Folio, req: Grid, key_base: str, user: str) -> Grid:
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
    key = f"{key_base}:pw:{rec['id'].id}"
    level = row.get("level")
    if level is None:
        return _array_grid(rec, _array(db, key))
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
    before = _effective(_array(db, key))
    with redis_failures(describe(db.client)):
        if entry is None:
            db.client.hdel(key, str(level_n))
        else:
            db.client.hset(key, str(level_n), zinc.dumps(entry)[1:-1])
    after = _effective(_array(db, key))
    if after != before or rec.get("writeLevel") is None:
        _commit_effective(db, rec, *after)
    return Grid({"ok": MARKER}, [], [])


def _commit_effective(db: Folio, rec: Any, val: Any, level: int) -> None:
    changes: dict[str, Any] = {"writeVal": REMOVE if val is None else val}
    changes["writeLevel"] = Number(level)
    if rec.get("curTracksWrite") is MARKER:
        changes["curVal"] = REMOVE if val is None else val
        changes["curStatus"] = "ok"
    db.commit(Diff(rec, changes, Diff.FORCE_TRANSIENT))
