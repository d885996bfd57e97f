"""pointWrite as http.md §3.7 says, over real HTTP on both Redis servers: persistence to
``write1``/``write8``/``writeDef`` and restore, timed overrides released by the server (one
worker per expiry), the record tags in every worker, removal, and the op's other rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from http_util import Served, api, eventually, login

import hxredis as hx


@pytest.fixture
def zc(served: Served):
    with api(served, login(served)) as c:
        yield c


def _point(served: Served, kind: str = "Number", **tags: Any) -> hx.Ref:
    changes = {"dis": "WP", "point": hx.MARKER, "writable": hx.MARKER, "kind": kind, **tags}
    with served.open_db() as db:
        return db.commit(hx.Diff.make_add(changes)).new_rec["id"]


def _write(zc: httpx.Client, ref: hx.Ref, level: int | None = None, **cells: Any) -> hx.Grid:
    row: dict[str, Any] = {"id": ref, **cells}
    if level is not None:
        row["level"] = hx.Number(level)
    body = hx.zinc.dumps_grid(hx.Grid({}, list(row), [row]))
    return hx.zinc.loads(zc.post("pointWrite", content=body).text)


def _read(zc: httpx.Client, ref: hx.Ref) -> dict[str, Any]:
    grid = hx.zinc.loads(zc.get("read", params={"id": f"@{ref.id}"}).text)
    assert grid.rows, grid.meta
    return dict(grid.rows[0])


def _until(fn: Callable[[], Any], ok: Callable[[Any], object]) -> Any:
    result = eventually(fn, ok, timeout=15)
    assert ok(result), result
    return result


def test_levels_1_8_17_persist_on_the_record(served: Served, zc: httpx.Client) -> None:
    ref = _point(served, unit="°F")
    assert "ok" in _write(zc, ref, 17, val=hx.Number(60)).meta
    _write(zc, ref, 8, val=hx.Number(70), who="ann")
    _write(zc, ref, 1, val=hx.Number(80))
    _write(zc, ref, 16, val=hx.Number(65))
    rec = _read(zc, ref)
    assert rec["writeDef"] == hx.Number(60, "°F") and rec["write8"] == hx.Number(70, "°F")
    assert rec["write1"] == hx.Number(80, "°F") and "write16" not in rec
    assert rec["writeVal"] == hx.Number(80, "°F") and rec["writeLevel"] == hx.Number(1)
    _write(zc, ref, 1)  # release: the tag goes
    rec = _read(zc, ref)
    assert "write1" not in rec and rec["writeLevel"] == hx.Number(8)
    _write(zc, ref, 8, val=hx.Number(75), duration=hx.Number(1, "h"))  # timed: not saved
    rec = _read(zc, ref)
    assert "write8" not in rec and rec["writeVal"] == hx.Number(75, "°F")
    with served.open_db() as db:
        persisted = db.read_by_id_persistent_tags(ref)
        assert persisted["writeDef"] == hx.Number(60, "°F") and "writeVal" not in persisted


def test_array_rebuilt_from_the_record_when_missing(served: Served, zc: httpx.Client) -> None:
    ref = _point(served, "Bool")
    _write(zc, ref, 17, val=False)
    _write(zc, ref, 8, val=True, who="bob")
    _write(zc, ref, 12, val=False)
    with served.open_db() as db:  # as after a restore of a backup without the arrays
        key = db._keys.point_write(db._stored_id(ref.id))
        assert db.client.delete(key) == 1
    array = _write(zc, ref)
    vals = {int(r["level"].val): r.get("val") for r in array.rows}
    assert vals[8] is True and vals[17] is False and vals[12] is None
    assert array.meta["writeLevel"] == hx.Number(8)


def test_timed_override_releases_itself(
    redis_server: Any, serve_factory: Callable[..., Served]
) -> None:
    served = serve_factory(redis_server, None, workers=2)
    ref = _point(served, unit="kW", curTracksWrite=hx.MARKER)
    with api(served, login(served)) as zc:
        _write(zc, ref, 16, val=hx.Number(5))
        _write(zc, ref, 8, val=hx.Number(9), duration=hx.Number(1, "s"))
        assert _read(zc, ref)["writeLevel"] == hx.Number(8)
        with served.open_db() as db:
            changes = db._keys.point_write_changes
            before = len(db.client.xrange(changes))

        def reads() -> list[dict[str, Any]]:  # requests reach both workers
            return [_read(zc, ref) for _ in range(8)]

        released = _until(reads, lambda recs: all(r["writeLevel"] == hx.Number(16) for r in recs))
        assert all(r["writeVal"] == hx.Number(5, "kW") for r in released)
        assert all(r["curVal"] == hx.Number(5, "kW") for r in released)
        with served.open_db() as db:
            assert db.client.zcard(db._keys.point_write_due) == 0
            stored = db._stored_id(ref.id)
            assert set(db.client.hkeys(db._keys.point_write(stored))) == {b"_", b"16"}
            # exactly one worker released it: one announcement since
            after = db.client.xrange(changes)[before:]
            assert [e for _, e in after if e[b"id"] == stored.encode()] == [
                {b"id": stored.encode()}
            ]
        vals = {int(r["level"].val): r.get("val") for r in _write(zc, ref).rows}
        assert vals[8] is None


def test_a_new_point_shows_write_level_17(served: Served, zc: httpx.Client) -> None:
    ref = _point(served, "Str")
    rec = _until(lambda: _read(zc, ref), lambda r: "writeLevel" in r)
    assert rec["writeLevel"] == hx.Number(17) and "writeVal" not in rec


def test_every_worker_sees_the_effective_value(
    redis_server: Any, serve_factory: Callable[..., Served]
) -> None:
    served = serve_factory(redis_server, None, workers=2)
    ref = _point(served)
    with api(served, login(served)) as zc:
        _write(zc, ref, 10, val=hx.Number(3))
        _until(
            lambda: [_read(zc, ref).get("writeVal") for _ in range(8)],
            lambda vals: vals == [hx.Number(3)] * 8,
        )


@pytest.mark.parametrize("how", ["commit op", "library"])
def test_removal_takes_the_array(served: Served, zc: httpx.Client, how: str) -> None:
    ref = _point(served)
    _write(zc, ref, 16, val=hx.Number(1))
    _write(zc, ref, 8, val=hx.Number(2), duration=hx.Number(10, "min"))
    with served.open_db() as db:
        stored = db._stored_id(ref.id)
        key, due = db._keys.point_write(stored), db._keys.point_write_due
        assert db.client.exists(key) and db.client.zscore(due, stored) is not None
        if how == "library":
            db.commit(hx.Diff(db.read_by_id(ref), None, hx.Diff.REMOVE))
        else:
            rec = db.read_by_id(ref)
            row = {"id": rec["id"], "mod": rec["mod"]}
            body = hx.zinc.dumps_grid(hx.Grid({"commit": "remove"}, ["id", "mod"], [row]))
            with api(served, login(served)) as admin:
                assert "err" not in hx.zinc.loads(admin.post("commit", content=body).text).meta
        _until(lambda: db.client.exists(key), lambda n: n == 0)
        assert db.client.zscore(due, stored) is None


def test_repeats_and_rules(served: Served, zc: httpx.Client) -> None:
    ref = _point(served, unit="°F")
    _write(zc, ref, 16, val=hx.Number(70), who="ann")
    with served.open_db() as db:
        changes = db._keys.point_write_changes
        count = db.client.xlen(changes)
        _write(zc, ref, 16, val=hx.Number(70, "°F"), who="ann")  # the same: a no-op
        _write(zc, ref, 15)  # releasing an empty level: a no-op
        assert db.client.xlen(changes) == count
    _write(zc, ref, 8, val=hx.Number(71), duration=hx.Number(5, "min"))
    _write(zc, ref, 8, val=hx.Number(72))  # without a duration: clears the override
    with served.open_db() as db:
        assert db.client.zscore(db._keys.point_write_due, db._stored_id(ref.id)) is None
    assert _read(zc, ref)["write8"] == hx.Number(72, "°F")
    for cells, level in (
        ({"val": hx.Number(1)}, 0),
        ({"val": hx.Number(1, "kW")}, 9),
        ({"val": "x"}, 9),
        ({"val": hx.Number(1), "who": ""}, 9),
        ({"val": hx.Number(1), "duration": hx.Number(1, "min")}, 9),
    ):
        assert "err" in _write(zc, ref, level, **cells).meta
    with served.open_db() as db:
        no_kind = db.commit(
            hx.Diff.make_add({"dis": "X", "point": hx.MARKER, "writable": hx.MARKER})
        ).new_rec["id"]
        not_writable = db.commit(
            hx.Diff.make_add({"dis": "Y", "point": hx.MARKER, "kind": "Number"})
        ).new_rec["id"]
    for other in (no_kind, not_writable):
        grid = _write(zc, other, 9, val=hx.Number(1))
        assert "err" in grid.meta and other.id in grid.meta["dis"]
