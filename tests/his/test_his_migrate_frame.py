"""db.his.migrate (sorted sets into TimeSeries) and db.his.read_frame (pandas)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from his_util import ts

import hxredis as hx
from hxredis.his import codes

T0 = 1_600_000_000_000


@pytest.fixture
def stack_db(stack_server, open_db_on):
    return open_db_on(stack_server)


@pytest.fixture
def open_db_on(db_name: str):
    opened: list[hx.Folio] = []

    def _open(server) -> hx.Folio:
        db = hx.open(server.url, name=db_name)
        opened.append(db)
        return db

    yield _open
    for db in opened:
        db.close()


def _point(db: hx.Folio, kind: str = "Number") -> hx.Rec:
    tags = {"point": hx.MARKER, "his": hx.MARKER, "kind": kind, "tz": "New_York"}
    return db.commit(hx.Diff.make_add(tags)).new_rec


def test_migrate_moves_sorted_sets_into_timeseries(stack_db: hx.Folio) -> None:
    db = stack_db
    rec = _point(db)
    items = [
        hx.HisItem(ts(1960, 1, 1), hx.Number(1.5)),
        hx.HisItem(ts(2020, 1, 1), hx.Number(math.nan)),
        hx.HisItem(ts(2020, 1, 2), hx.NA),
        hx.HisItem(ts(2020, 1, 3), hx.Number(-math.inf)),
        hx.HisItem(ts(2020, 1, 4), hx.Number(0xAB_FFFF_FFFF)),
    ]
    # the history as a server without the module wrote it
    pairs = [(int(i.ts.timestamp() * 1000), codes.encode(i.val)) for i in items]
    db.his._zset.write(rec["id"].id, pairs, None, False)
    assert db.his.backend_of(rec["id"]) == "zset"
    before = db.his.read(rec["id"])
    assert before == items
    assert db.his.migrate(rec["id"]) == 5
    assert db.his.backend_of(rec["id"]) == "timeseries"
    assert db.his.read(rec["id"]) == items
    assert db.read_by_id(rec["id"])["hisSize"] == hx.Number(5)
    assert db.his.migrate([rec["id"]]) == 0  # already there
    text = _point(db, "Str")
    db.his.write(text["id"], [hx.HisItem(ts(2020, 1, 1), "a")])
    assert db.his.migrate([text["id"], _point(db)["id"]]) == 0
    assert db.his.backend_of(text["id"]) == "zset"


def test_migrate_needs_the_module(plain_server, open_db_on) -> None:
    db = open_db_on(plain_server)
    with pytest.raises(hx.HisConfigError, match="no RedisTimeSeries"):
        db.his.migrate(_point(db)["id"])


@pytest.mark.usefixtures("redis_server")
def test_read_frame(db: hx.Folio) -> None:
    pd = pytest.importorskip("pandas")
    a, b = _point(db), _point(db, "Bool")
    db.his.write_arrays(a["id"], np.array([T0, T0 + 1000]), np.array([1.0, 2.0]))
    db.his.write_arrays(b["id"], np.array([T0 + 1000, T0 + 2000]), np.array([True, False]))
    frame = db.his.read_frame([a["id"], b["id"]])
    assert list(frame.columns) == [a["id"].id, b["id"].id]
    assert str(frame.index.tz) == "America/New_York"
    assert frame.index[0] == pd.Timestamp(T0, unit="ms", tz="UTC")
    assert np.array_equal(frame[a["id"].id].to_numpy(), [1.0, 2.0, np.nan], equal_nan=True)
    assert np.array_equal(frame[b["id"].id].to_numpy(), [np.nan, 1.0, 0.0], equal_nan=True)
