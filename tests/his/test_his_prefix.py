"""History follows the id prefix like the records do: its keys, summaries and clean-up use
the ids as stored (relative to the prefix), so a database reopened with another prefix keeps
its points' history.  And a Folio opened read-only writes none."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

import hxredis as hx
from hxredis.keys import KeySchema

NY = hx.tz("New_York")
T0 = datetime(2024, 1, 1, tzinfo=NY)


def items(n: int) -> list[hx.HisItem]:
    return [hx.HisItem(T0 + timedelta(minutes=i), hx.Number(i)) for i in range(n)]


def test_history_follows_the_prefix(open_db, db_name: str) -> None:
    db = open_db(id_prefix="u:")
    point = db.commit(
        hx.Diff.make_add(
            {"point": hx.MARKER, "his": hx.MARKER, "kind": "Number", "tz": "New_York"},
            hx.Ref("p1"),
        )
    ).new_rec
    assert point["id"].id == "u:p1"
    db.his.write(point["id"], items(5))
    db.his.write_arrays("p1", np.array([0, 1000], dtype="int64") + 1_800_000_000_000, [1.0, 2.0])
    keys = KeySchema("hx", db_name)
    assert db.client.exists(keys.his("p1")) == 1
    assert db.client.exists(keys.his("u:p1")) == 0
    assert db.read_by_id("p1")["hisSize"] == hx.Number(7)
    db.close()

    other = open_db(id_prefix="xyz:")
    moved = other.read_by_id("p1")
    assert moved["id"].id == "xyz:p1"
    assert moved["hisSize"] == hx.Number(7)
    assert [i.val for i in other.his.read(moved["id"])][:5] == [hx.Number(i) for i in range(5)]
    assert other.his.read_arrays(moved["id"])[1].tolist()[-2:] == [1.0, 2.0]

    other.his.write(moved["id"], items(8))  # another Folio with the same prefix follows
    watcher = open_db(id_prefix="xyz:")
    assert watcher.read_by_id("p1")["hisSize"] == hx.Number(10)

    other.commit(hx.Diff(other.read_by_id("p1"), None, hx.Diff.REMOVE))
    assert db.client.exists(keys.his("p1")) == 0
    assert db.client.hlen(keys.his_sums) == 0


def test_a_read_only_folio_writes_no_history(open_db, make_point) -> None:
    point = make_point()
    reader = open_db(read_only=True)
    for write in (
        lambda: reader.his.write(point["id"], items(1)),
        lambda: reader.his.write_arrays(point["id"], [1_800_000_000_000], [1.0]),
        lambda: reader.his.write_many({point["id"]: ([1_800_000_000_000], [1.0])}),
        lambda: reader.his.migrate(point["id"]),
    ):
        with pytest.raises(hx.ReadOnlyError, match="read_only=True"):
            write()
    assert reader.his.read(point["id"]) == []
