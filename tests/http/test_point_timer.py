"""The pointWrite task of the workers (``hxredis.http.pointtimer``), driven round by round on
Folios of one database: one worker per expiry, expiries of a failed round put back, record
tags set in every worker."""

from __future__ import annotations

import time
from typing import Any

import pytest

import hxredis as hx
from hxredis.http.points import point_write
from hxredis.http.pointtimer import PointTimer


def _write(db: hx.Folio, ref: hx.Ref, level: int, **cells: Any) -> None:
    row = {"id": ref, "level": hx.Number(level), **cells}
    assert "ok" in point_write(db, hx.Grid({}, list(row), [row]), "tester").meta


def _point(db: hx.Folio) -> hx.Ref:
    changes = {"dis": "WP", "point": hx.MARKER, "writable": hx.MARKER, "kind": "Number"}
    return db.commit(hx.Diff.make_add(changes)).new_rec["id"]


def _expire(db: hx.Folio, ref: hx.Ref) -> None:
    """Write a timed override and wait until it has run out."""
    _write(db, ref, 8, val=hx.Number(9), duration=hx.Number(50, "ms"))
    time.sleep(0.1)


def test_one_worker_per_expiry_and_tags_everywhere(open_db) -> None:
    a, b = open_db(), open_db()
    ref = _point(a)
    _write(a, ref, 16, val=hx.Number(5))
    b.sync()
    timers = [PointTimer(a), PointTimer(b)]
    for timer in timers:
        timer.round()  # also: b sets the tags of the point it had not seen written
    assert b.read_by_id(ref)["writeLevel"] == hx.Number(16)
    _expire(a, ref)
    changes = a._keys.point_write_changes
    count = a.client.xlen(changes)
    for timer in timers:
        timer.round()
    assert a.client.xlen(changes) == count + 1  # released by one of them
    for timer in timers:
        timer.round()
    for db in (a, b):
        rec = db.read_by_id(ref)
        assert rec["writeLevel"] == hx.Number(16) and rec["writeVal"] == hx.Number(5)


def test_a_failed_round_puts_expiries_back(open_db, monkeypatch: pytest.MonkeyPatch) -> None:
    db = open_db()
    ref = _point(db)
    _expire(db, ref)
    timer = PointTimer(db)

    def fail(stored: str) -> bool:
        raise hx.ConnectionError("Redis went away")

    monkeypatch.setattr(timer, "_release", fail)
    with pytest.raises(hx.ConnectionError):
        timer.round()
    assert db.client.zscore(db._keys.point_write_due, db._stored_id(ref.id)) is not None
    monkeypatch.undo()
    timer.round()
    timer.round()
    assert db.client.zcard(db._keys.point_write_due) == 0
    assert db.read_by_id(ref)["writeLevel"] == hx.Number(17)


def test_period_must_be_positive(db: hx.Folio) -> None:
    with pytest.raises(ValueError, match="period"):
        PointTimer(db, 0)
