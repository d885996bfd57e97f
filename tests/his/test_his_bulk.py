"""write_arrays / write_many / read_arrays on both servers: the same results as the item path."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pytest
from his_util import ts
from hypothesis import given
from hypothesis import strategies as st

import hxredis as hx
from hxredis.his import bulk

pytestmark = pytest.mark.usefixtures("redis_server")

T0 = 1_600_000_000_000  # 2020-09-13T12:26:40Z


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def test_arrays_round_trip(db: hx.Folio, point) -> None:
    n = 25_000  # more than one chunk
    t = T0 + np.arange(n, dtype=np.int64) * 1000
    v = np.random.default_rng(1).normal(size=n)
    v[[3, 5, 7, 9]] = [np.nan, np.inf, -np.inf, -0.0]
    assert db.his.write_arrays(point["id"], t, v) == n
    got_t, got_v = db.his.read_arrays(point["id"])
    assert np.array_equal(got_t, t) and np.array_equal(got_v, v, equal_nan=True)
    assert got_t.dtype == np.int64 and got_v.dtype == np.float64
    assert db.read_by_id(point["id"])["hisSize"] == hx.Number(n)
    # the item path reads the same samples (raw float64, no float32 rounding)
    items = db.his.read(point["id"], limit=10)
    assert [_ms(i.ts) for i in items] == t[:10].tolist()
    assert all(
        i.val.val == x or (math.isnan(i.val.val) and math.isnan(x))
        for i, x in zip(items, v[:10].tolist(), strict=True)
    )
    span = hx.Span(ts(2020, 9, 13, 8, 30), ts(2020, 9, 13, 8, 31))  # EDT
    got_t, _ = db.his.read_arrays(point["id"], span)
    assert got_t.tolist() == [x for x in t.tolist() if _ms(span.start) <= x < _ms(span.end)]


def test_item_and_bulk_writes_agree(db: hx.Folio, make_point) -> None:
    a, b = make_point(), make_point()
    values = [1.0, 2.5, math.nan, math.inf, 7.0]
    stamps = [T0 + k * 60_000 for k in range(5)]
    zone = hx.tz("New_York")
    items = [
        hx.HisItem(datetime.fromtimestamp(t / 1000, zone), hx.Number(v))
        for t, v in zip(stamps, values, strict=True)
    ]
    db.his.write(a["id"], items)
    db.his.write_arrays(b["id"], np.array(stamps), np.array(values))
    assert db.his.read(a["id"]) == db.his.read(b["id"])
    for x, y in zip(db.his.read_arrays(a["id"]), db.his.read_arrays(b["id"]), strict=True):
        assert np.array_equal(x, y, equal_nan=True)
    # NA written by the item path reads as NaN in arrays
    db.his.write(a["id"], [hx.HisItem(items[0].ts, hx.NA)])
    assert math.isnan(db.his.read_arrays(a["id"])[1][0])


def test_normalization(db: hx.Folio, point) -> None:
    t = np.array([T0 + 2500, T0, T0 + 2100, T0 + 999], dtype=np.int64)
    v = np.array([1.0, 2.0, 3.0, 4.0])
    assert db.his.write_arrays(point["id"], t, v) == 2  # floored to seconds: T0, T0 + 2000
    got_t, got_v = db.his.read_arrays(point["id"])
    assert got_t.tolist() == [T0, T0 + 2000]
    assert got_v.tolist() == [4.0, 3.0]  # the last of equal timestamps in input order wins
    stamps = np.array(["2020-09-13T12:26:40.5", "2020-09-13T12:26:41"], dtype="datetime64[us]")
    db.his.write_arrays(point["id"], stamps, np.array([5.0, 6.0]))
    assert db.his.read_arrays(point["id"])[1].tolist() == [5.0, 6.0, 3.0]


def test_rewrites_keep_one_sample_per_timestamp(db: hx.Folio, point) -> None:
    t = T0 + np.arange(10, dtype=np.int64) * 1000
    db.his.write_arrays(point["id"], t, np.full(10, np.nan))
    db.his.write_arrays(point["id"], t[::2], np.arange(5.0))
    got_t, got_v = db.his.read_arrays(point["id"])
    assert got_t.tolist() == t.tolist()
    assert np.array_equal(got_v, [0, np.nan, 1, np.nan, 2, np.nan, 3, np.nan, 4, np.nan], True)
    assert db.read_by_id(point["id"])["hisSize"] == hx.Number(10)
    assert len(db.his.read(point["id"])) == 10


def _expand(arg: bytes) -> list[int]:
    """The timestamps a ``prepare`` argument stands for."""
    if arg[:1] == b"s":
        return np.frombuffer(arg[1:], "<i8").tolist()
    out: list[int] = []
    for start, step, count in np.frombuffer(arg[1:], "<i8").reshape(-1, 3).tolist():
        out += [start + step * i for i in range(count)]
    return out


@given(st.lists(st.integers(1, 50), max_size=60), st.integers(-(2**40), 2**40))
def test_prepare_argument_stands_for_the_timestamps(gaps: list[int], first: int) -> None:
    t = first + np.cumsum(np.array(gaps, dtype=np.int64))
    arg = bulk.stamps_arg(t)
    assert _expand(arg) == t.tolist()
    regular = np.arange(1000, dtype=np.int64) * 60_000 + first
    assert len(bulk.stamps_arg(regular)) == 1 + 24  # one run
    assert len(arg) <= 1 + 8 * len(t)


@pytest.mark.parametrize("grid", ["regular", "runs", "irregular"])
def test_rewrites_drop_what_the_bulk_commands_would_not_replace(
    db: hx.Folio, point, grid: str
) -> None:
    """Samples already at rewritten timestamps (NaN and INF in the side set of TimeSeries, any
    value in a sorted set) are replaced; the others stay."""
    old = T0 + np.arange(0, 400, dtype=np.int64) * 1000
    db.his.write_arrays(point["id"], old, np.where(old % 3000 == 0, np.nan, np.inf))
    if grid == "regular":
        new = old[100:300:2]
    elif grid == "runs":
        new = np.concatenate([old[10:40:3], old[41:90:7], old[200:260]])
    else:
        new = np.sort(np.random.default_rng(5).choice(old, 80, replace=False))
    db.his.write_arrays(point["id"], new, np.arange(float(len(new))))
    got_t, got_v = db.his.read_arrays(point["id"])
    expected = dict(
        zip(old.tolist(), np.where(old % 3000 == 0, np.nan, np.inf).tolist(), strict=True)
    )
    expected.update(zip(new.tolist(), np.arange(float(len(new))).tolist(), strict=True))
    assert got_t.tolist() == sorted(expected)
    assert np.array_equal(got_v, [expected[t] for t in sorted(expected)], equal_nan=True)
    assert db.read_by_id(point["id"])["hisSize"] == hx.Number(len(old))


def test_bool_points_and_checks(db: hx.Folio, make_point) -> None:
    flag = make_point("Bool")
    t = T0 + np.arange(3, dtype=np.int64) * 1000
    db.his.write_arrays(flag["id"], t, np.array([True, False, True]))
    assert [i.val for i in db.his.read(flag["id"])] == [True, False, True]
    with pytest.raises(hx.HisWriteError):
        db.his.write_arrays(flag["id"], t, np.array([0.0, 0.5, 1.0]))
    number = make_point()
    with pytest.raises(hx.HisWriteError, match="Mismatched value type"):
        db.his.write_arrays(number["id"], t, np.array([True, False, True]))
    with pytest.raises(hx.HisConfigError, match="Number and Bool"):
        db.his.write_arrays(make_point("Str")["id"], t, np.zeros(3))
    with pytest.raises(hx.HisWriteError, match="before 1950"):
        db.his.write_arrays(number["id"], np.array([-631152000000 - 1]), np.zeros(1))
    with pytest.raises(ValueError):
        db.his.write_arrays(number["id"], t, np.zeros(2))
    with pytest.raises(TypeError):
        db.his.write_arrays(number["id"], t.astype(float), np.zeros(3))
    with pytest.raises(hx.UnknownRecError):
        db.his.write_arrays("nope", t, np.zeros(3))
    assert db.his.write_arrays(number["id"], t[:0], np.zeros(0)) == 0
    assert db.his.read_arrays(number["id"])[0].size == 0


def test_write_many(db: hx.Folio, make_point) -> None:
    points = [make_point() for _ in range(5)]
    n = 12_000
    data = {
        p["id"]: (T0 + np.arange(n, dtype=np.int64) * 1000, np.full(n, float(k)))
        for k, p in enumerate(points)
    }
    assert db.his.write_many(data) == 5 * n
    for k, p in enumerate(points):
        got_t, got_v = db.his.read_arrays(p["id"])
        assert got_t.size == n and (got_v == k).all()
        assert db.read_by_id(p["id"])["hisEndVal"] == hx.Number(k)


def test_pre_1970_in_arrays(db: hx.Folio, point) -> None:
    t = np.array([_ms(ts(1950, 1, 1)), -1000, 0, 1000], dtype=np.int64)
    db.his.write_arrays(point["id"], t, np.arange(4.0))
    got_t, got_v = db.his.read_arrays(point["id"])
    assert got_t.tolist() == t.tolist() and got_v.tolist() == [0, 1, 2, 3]
    assert db.his.read(point["id"])[0].ts == ts(1950, 1, 1)


def test_sticky_backend_is_kept_by_bulk_writes(db: hx.Folio, make_point) -> None:
    rec = make_point()
    # a zset history under a Number point, as a server without the module leaves it
    db.client.zadd(db._keys.his(rec["id"].id), {f"{T0}:1.0": T0})
    db.his.write_arrays(rec["id"], np.array([T0 + 1000]), np.array([2.0]))
    assert db.his.backend_of(rec["id"]) == "zset"
    assert db.his.read_arrays(rec["id"])[1].tolist() == [1.0, 2.0]
    when = datetime.fromtimestamp((T0 + 2000) / 1000, hx.tz("New_York"))
    db.his.write(rec["id"], [hx.HisItem(when, hx.Number(3))])
    assert db.his.backend_of(rec["id"]) == "zset"
    assert [i.val.val for i in db.his.read(rec["id"])] == [1.0, 2.0, 3.0]


def test_chunk_size_is_bounded() -> None:
    assert 1_000 <= bulk.CHUNK <= 100_000


def test_bulk_write_to_a_record_removed_elsewhere(open_db, db: hx.Folio, point) -> None:
    other = open_db(follow=False)
    other.sync()
    db.his.write_arrays(point["id"], np.array([T0]), np.array([1.0]))
    db.commit(hx.Diff(db.read_by_id(point["id"]), None, hx.Diff.REMOVE))
    with pytest.raises(hx.UnknownRecError):
        other.his.write_many({point["id"]: (np.array([T0 + 1000]), np.array([2.0]))})
    assert db.client.keys(f"hx:his:{{{db.name}:*") == []


def test_reference_wire_functions_serve_the_same(db: hx.Folio, make_point, monkeypatch) -> None:
    """Without the native module the pure-Python references build and parse the same."""
    from hxredis.his import wire

    t = T0 + np.arange(30, dtype=np.int64) * 1000
    v = np.random.default_rng(2).normal(size=30)
    v[4] = np.nan
    native_point, reference_point = make_point(), make_point()
    db.his.write_arrays(native_point["id"], t, v)
    for name in ("ts_madd", "zadd", "skip_reply", "parse_ts_range", "parse_members"):
        monkeypatch.setattr(wire, name, getattr(wire, f"py_{name}"))
    db.his.write_arrays(reference_point["id"], t, v)
    got = db.his.read_arrays(reference_point["id"])
    monkeypatch.undo()
    expected = db.his.read_arrays(native_point["id"])
    assert np.array_equal(got[0], expected[0])
    assert np.array_equal(got[1], expected[1], equal_nan=True)
    assert db.his.read(reference_point["id"]) == db.his.read(native_point["id"])


def test_bulk_writes_after_the_server_lost_its_scripts(db: hx.Folio, point) -> None:
    """A restarted server has an empty script cache: the bulk path loads its scripts again
    (it used to remember them and fail with NOSCRIPT until reopened)."""
    stamps = np.array([1_700_000_000_000, 1_700_000_001_000], dtype=np.int64)
    assert db.his.write_arrays(point["id"], stamps, [1.0, 2.0]) == 2
    db.client.script_flush()
    assert db.his.write_arrays(point["id"], stamps + 2000, [3.0, 4.0]) == 2
    assert db.his.read_arrays(point["id"])[1].tolist() == [1.0, 2.0, 3.0, 4.0]
    if db.has_timeseries:
        db.client.script_flush()
        assert db.his.migrate(point["id"]) == 0  # nothing to move, and no NOSCRIPT either


def test_bulk_write_to_a_stopped_server_is_a_connection_error() -> None:
    from hxredis.server import start_server

    with start_server(timeseries=False) as server:
        db = hx.open(server.url, name="stopping", follow=False)
        pid = db.commit(
            hx.Diff.make_add({"point": hx.MARKER, "his": hx.MARKER, "kind": "Number", "tz": "UTC"})
        ).new_rec["id"]
        server.stop()
        with pytest.raises(hx.ConnectionError):
            db.his.write_arrays(pid, np.array([1_700_000_000_000]), [1.0])
        db.close()


def test_connection_lost_mid_transfer(proxy, redis_server, db_name: str) -> None:
    """The connection dies while points are being sent: hx.ConnectionError (no hang), the
    sending thread is gone, every point is all or nothing, and the next call works."""
    import threading

    with hx.open(proxy.url, name=db_name) as db:
        tags = {"point": hx.MARKER, "his": hx.MARKER, "kind": "Number", "tz": "UTC"}
        ids = [db.commit(hx.Diff.make_add(tags)).new_rec["id"] for _ in range(6)]
        t = T0 + np.arange(30_000, dtype=np.int64) * 1000
        data = {pid: (t, np.full(len(t), float(i))) for i, pid in enumerate(ids)}
        proxy.drop_next_request("EXEC")
        with pytest.raises(hx.ConnectionError):
            db.his.write_many(data)
        assert proxy.dropped.is_set()
        assert not [th for th in threading.enumerate() if th.name == "hxredis-his-send"]
        for pid in ids:
            assert len(db.his.read_arrays(pid)[0]) in (0, len(t))
        assert db.his.write_many(data) == 6 * len(t)
        assert all(len(db.his.read_arrays(pid)[0]) == len(t) for pid in ids)
