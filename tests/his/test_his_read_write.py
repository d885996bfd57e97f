"""his.read / his.write behaviour (folio.md §4 and its preface), identical on both servers."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np
import pytest
from helpers.folio_util import wait_for
from his_util import NY, ts

import hxredis as hx

pytestmark = pytest.mark.usefixtures("redis_server")


def n(v: float, unit: str | None = None) -> hx.Number:
    return hx.Number(v, unit)


def days(*ds: int) -> list[hx.HisItem]:
    """Items on January 2020 days ``ds`` whose value is the day."""
    return [hx.HisItem(ts(2020, 1, d), n(d)) for d in ds]


def vals(items: list[hx.HisItem]) -> list[float]:
    return [i.val.val for i in items]


def test_span_reads_include_one_before_and_two_after(db: hx.Folio, point: hx.Rec) -> None:
    db.his.write(point["id"], days(1, 2, 3, 4, 5, 6, 7, 8))
    read = db.his.read
    assert vals(read(point["id"], hx.Span(ts(2020, 1, 4), ts(2020, 1, 6)))) == [3, 4, 5, 6, 7]
    # start inclusive, end exclusive
    assert vals(read(point["id"], hx.Span(ts(2020, 1, 4), ts(2020, 1, 5)))) == [3, 4, 5, 6]
    # nothing inside: still the item before and two after (the documented contract)
    inside_none = hx.Span(ts(2020, 1, 4, 1), ts(2020, 1, 4, 2))
    assert vals(read(point["id"], inside_none)) == [4, 5, 6]
    assert vals(read(point["id"], hx.Span(ts(2019, 1, 1), ts(2019, 2, 1)))) == [1, 2]
    assert vals(read(point["id"], hx.Span(ts(2021, 1, 1), ts(2021, 2, 1)))) == [8]
    assert vals(read(point["id"])) == [1, 2, 3, 4, 5, 6, 7, 8]


def test_span_in_another_timezone(db: hx.Folio, point: hx.Rec) -> None:
    db.his.write(point["id"], days(1, 2, 3, 4))
    utc = hx.tz("UTC")
    span = hx.Span(ts(2020, 1, 2, 5, zone=utc), ts(2020, 1, 2, 6, zone=utc))  # 00:00 NY
    got = db.his.read(point["id"], span)
    assert vals(got) == [1, 2, 3, 4]
    assert all(item.ts.tzinfo is NY for item in got)


def test_limit_and_clip_future(db: hx.Folio, point: hx.Rec) -> None:
    now = datetime.now(NY).replace(microsecond=0)
    past = [hx.HisItem(now - timedelta(hours=h), n(-h)) for h in (3, 2, 1)]
    future = [hx.HisItem(now + timedelta(hours=h), n(h)) for h in (1, 2, 3)]
    db.his.write(point["id"], past + future)
    read = db.his.read
    assert vals(read(point["id"], limit=2)) == [-3, -2]
    assert vals(read(point["id"], limit=0)) == []
    assert vals(read(point["id"], clip_future=True)) == [-3, -2, -1]
    span = hx.Span(now - timedelta(hours=2), now + timedelta(hours=2))
    assert vals(read(point["id"], span)) == [-3, -2, -1, 1, 2, 3]
    assert vals(read(point["id"], span, clip_future=True)) == [-3, -2, -1]
    assert vals(read(point["id"], span, limit=3)) == [-3, -2, -1]
    with pytest.raises(TypeError):
        read(point["id"], limit="2")
    with pytest.raises(TypeError):
        read(point["id"], span=(1, 2))


def test_rewrite_replaces_the_sample(db: hx.Folio, point: hx.Rec) -> None:
    db.his.write(point["id"], days(1, 2, 3))
    db.his.write(point["id"], [hx.HisItem(ts(2020, 1, 2), n(20))])
    assert vals(db.his.read(point["id"])) == [1, 20, 3]
    assert db.read_by_id(point["id"])["hisSize"] == n(3)


def test_remove_items_clear_and_clear_all(db: hx.Folio, point: hx.Rec) -> None:
    pid = point["id"]
    db.his.write(pid, days(1, 2, 3, 4, 5, 6))
    result = db.his.write(pid, [hx.HisItem(ts(2020, 1, 2), hx.REMOVE), *days(7)])
    assert result["count"] == n(2)
    assert vals(db.his.read(pid)) == [1, 3, 4, 5, 6, 7]
    db.his.write(pid, days(4), clear=hx.Span(ts(2020, 1, 3), ts(2020, 1, 6)))
    assert vals(db.his.read(pid)) == [1, 4, 6, 7]
    db.his.write(pid, [], clear=hx.Span(ts(2020, 1, 6), ts(2020, 1, 8)))
    assert vals(db.his.read(pid)) == [1, 4]
    db.his.write(pid, days(9), clear_all=True)
    assert vals(db.his.read(pid)) == [9]
    db.his.write(pid, [], clear_all=True)
    assert db.his.read(pid) == []
    assert "hisSize" not in db.read_by_id(pid)


def test_timestamps_from_1950(db: hx.Folio, point: hx.Rec) -> None:
    items = [
        hx.HisItem(ts(1950, 1, 1), n(1)),
        hx.HisItem(ts(1969, 12, 31, 18, 59, 59), n(2)),  # 1 s before the epoch
        hx.HisItem(ts(1970, 1, 1, zone=hx.tz("UTC")).astimezone(NY), n(3)),
        hx.HisItem(ts(1970, 1, 1, 0, 0, 1, zone=hx.tz("UTC")).astimezone(NY), n(4)),
    ]
    db.his.write(point["id"], items)
    assert db.his.read(point["id"]) == items
    span = hx.Span(ts(1969, 12, 31), ts(1970, 1, 1))
    assert vals(db.his.read(point["id"], span)) == [1, 2, 3, 4]
    tokyo = db.commit(
        hx.Diff.make_add({"point": hx.MARKER, "his": hx.MARKER, "kind": "Number", "tz": "Tokyo"})
    ).new_rec
    first = hx.HisItem(ts(1950, 1, 1, zone=hx.tz("Tokyo")), n(1))  # 1949 in UTC
    db.his.write(tokyo["id"], [first])
    assert db.his.read(tokyo["id"]) == [first]
    assert db.read_by_id(tokyo["id"])["hisStart"] == first.ts


def test_special_values(db: hx.Folio, point: hx.Rec) -> None:
    specials = [n(math.nan), n(math.inf), n(-math.inf), hx.NA, n(1.5), n(-0.5)]
    items = [hx.HisItem(ts(2020, 1, 1 + i), v) for i, v in enumerate(specials)]
    db.his.write(point["id"], items)
    assert db.his.read(point["id"]) == items
    # a special value overwritten by a plain one and the other way round
    swap = [hx.HisItem(ts(2020, 1, 1), n(7)), hx.HisItem(ts(2020, 1, 5), hx.NA)]
    db.his.write(point["id"], swap)
    got = db.his.read(point["id"])
    assert got[0].val == n(7) and got[4].val is hx.NA
    rec = db.read_by_id(point["id"])
    assert rec["hisStartVal"] == n(7)
    assert rec["hisEndVal"] == n(-0.5)
    db.his.write(point["id"], [hx.HisItem(ts(2020, 1, 9), hx.NA)])
    assert db.read_by_id(point["id"])["hisEndVal"] is hx.NA
    span = hx.Span(ts(2020, 1, 3), ts(2020, 1, 4))
    expected = [n(math.inf), n(-math.inf), hx.NA, hx.NA]
    assert [i.val for i in db.his.read(point["id"], span)] == expected


def test_bool_str_and_coord_points(db: hx.Folio, make_point) -> None:
    cases = {
        "Bool": [True, False, hx.NA, True],
        "Str": ["a", "", "x:y|z\nw", hx.NA],
        "Coord": [hx.Coord(37.5, -77.4), hx.Coord(-1, 2), hx.NA, hx.Coord(0, 0)],
    }
    for kind, values in cases.items():
        rec = make_point(kind)
        items = [hx.HisItem(ts(2020, 1, 1 + i), v) for i, v in enumerate(values)]
        db.his.write(rec["id"], items)
        assert db.his.read(rec["id"]) == items
        tags = db.read_by_id(rec["id"])
        assert tags["hisStartVal"] == values[0] and tags["hisEndVal"] == values[-1]


def test_backend_per_point(db: hx.Folio, make_point) -> None:
    number, boolean, text = make_point(), make_point("Bool"), make_point("Str")
    expected = "timeseries" if db.has_timeseries else "zset"
    assert db.his.backend_of(number["id"]) == expected
    assert db.his.backend_of(boolean["id"]) == expected
    assert db.his.backend_of(text["id"]) == "zset"
    db.his.write(number["id"], days(1))
    assert db.his.backend_of(number["id"]) == expected


def test_history_summary_tags(db: hx.Folio, make_point) -> None:
    rec = make_point(unit="kW")
    assert not any(tag.startswith("his") and tag != "his" for tag in db.read_by_id(rec["id"]))
    db.his.write(rec["id"], days(3, 1, 2))
    tags = db.read_by_id(rec["id"])
    assert tags["hisSize"] == n(3)
    assert tags["hisStart"] == ts(2020, 1, 1) and tags["hisStart"].tzinfo is NY
    assert tags["hisEnd"] == ts(2020, 1, 3)
    assert tags["hisStartVal"] == n(1, "kW") and tags["hisEndVal"] == n(3, "kW")
    assert db.read_count("hisSize") == 1
    # never persisted
    assert "hisSize" not in db.read_by_id_persistent_tags(rec["id"])


def test_tz_and_unit_changes_reexpress_history(db: hx.Folio, make_point) -> None:
    rec = make_point(unit="kW")
    db.his.write(rec["id"], days(1, 2))
    rec = db.commit(hx.Diff(rec, {"tz": "Chicago", "unit": "W"})).new_rec
    chicago = hx.tz("Chicago")
    got = db.his.read(rec["id"])
    assert [i.ts for i in got] == [ts(2020, 1, 1), ts(2020, 1, 2)]
    assert all(i.ts.tzinfo is chicago for i in got)
    assert [i.val for i in got] == [n(1, "W"), n(2, "W")]
    assert rec["hisStart"].tzinfo is chicago and rec["hisEndVal"] == n(2, "W")
    rec = db.commit(hx.Diff(rec, {"unit": hx.REMOVE})).new_rec
    assert [i.val for i in db.his.read(rec["id"])] == [n(1), n(2)]


def test_history_survives_reopen(open_db, make_point, db: hx.Folio) -> None:
    rec = make_point()
    db.his.write(rec["id"], [*days(1, 2), hx.HisItem(ts(2020, 1, 3), n(math.nan))])
    again = open_db()
    assert db.his.read(rec["id"]) == again.his.read(rec["id"])
    assert again.read_by_id(rec["id"])["hisSize"] == n(3)


def test_other_folios_see_summaries(open_db, make_point, db: hx.Folio) -> None:
    rec = make_point()
    other = open_db()
    other.sync()
    db.his.write(rec["id"], days(1, 2))
    other.sync()
    assert other.read_by_id(rec["id"])["hisSize"] == n(2)
    other.his.write(rec["id"], days(5))
    db.sync()
    tags = db.read_by_id(rec["id"])
    assert tags["hisSize"] == n(3) and tags["hisEnd"] == ts(2020, 1, 5)


def test_post_his_write_hook(open_db, make_point) -> None:
    events: list[hx.HisWriteEvent] = []

    class Hooks:
        def post_his_write(self, event: hx.HisWriteEvent) -> None:
            events.append(event)

    db = open_db(hooks=Hooks())
    rec = db.commit(
        hx.Diff.make_add({"point": hx.MARKER, "his": hx.MARKER, "kind": "Number", "tz": "New_York"})
    ).new_rec
    result = db.his.write(rec["id"], days(1, 2))
    assert len(events) == 1
    assert events[0].result is result
    assert events[0].rec["id"] == rec["id"]
    with pytest.raises(hx.HisWriteError):
        db.his.write(rec["id"], [hx.HisItem(ts(2020, 1, 1), None)])
    assert len(events) == 1


def test_post_his_write_hook_sees_bulk_writes(open_db) -> None:
    events: list[hx.HisWriteEvent] = []

    class Hooks:
        def post_his_write(self, event: hx.HisWriteEvent) -> None:
            events.append(event)

    db = open_db(hooks=Hooks())
    tags = {"point": hx.MARKER, "his": hx.MARKER, "kind": "Number", "tz": "New_York"}
    a, b = (db.commit(hx.Diff.make_add(tags)).new_rec for _ in range(2))
    ms = np.array([1_577_923_200_000, 1_577_836_800_000])  # 2020-01-02, 2020-01-01 UTC
    assert db.his.write_many({a["id"]: (ms, [1.0, 2.0]), b["id"]: (ms[:1], [3.0])}) == 3
    assert [(e.rec["id"], e.result["count"]) for e in events] == [(a["id"], n(2)), (b["id"], n(1))]
    assert events[0].result["span"] == hx.Span(
        datetime(2020, 1, 1, tzinfo=hx.UTC).astimezone(hx.tz("New_York")),
        datetime(2020, 1, 2, tzinfo=hx.UTC).astimezone(hx.tz("New_York")),
    )
    assert events[0].result["span"].start.tzinfo == hx.tz("New_York")
    db.his.write_arrays(a["id"], ms[:0], np.array([]))
    assert len(events) == 2


def test_closed_folio(db: hx.Folio, point: hx.Rec) -> None:
    db.close()
    with pytest.raises(hx.ShutdownError):
        db.his.write(point["id"], days(1))
    with pytest.raises(hx.ShutdownError):
        db.his.read(point["id"])


def test_summaries_follow_other_folios_without_sync(open_db, make_point, db: hx.Folio) -> None:
    rec = make_point()
    other = open_db()
    wait_for(lambda: other.read_by_id(rec["id"], False), what="the point to show")
    db.his.write(rec["id"], days(1, 2, 3))
    wait_for(lambda: "hisSize" in other.read_by_id(rec["id"]), what="the summary to show")
    assert other.read_by_id(rec["id"])["hisSize"] == n(3)
    db.his.write(rec["id"], [], clear_all=True)
    wait_for(lambda: "hisSize" not in other.read_by_id(rec["id"]), what="the summary to go")
