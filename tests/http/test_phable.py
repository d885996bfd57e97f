"""phable, unmodified, as the client of a real ``hxredis serve`` on both Redis servers, in
JSON and in Zinc."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from http_util import PASSWORDS, Served
from phable import (
    AuthError,
    CallError,
    DateRange,
    DateTimeRange,
    HaxallClient,
    HaystackClient,
    Marker,
    Number,
    Ref,
    UnknownRecError,
)

import hxredis as hx

NY = ZoneInfo("America/New_York")


@pytest.fixture(params=["json", "zinc"])
def content_type(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def client(served: Served, content_type: str):
    c = HaxallClient.open(served.uri, "admin", PASSWORDS["admin"], content_type=content_type)
    yield c
    c.close()


def _tag() -> str:
    return f"t{uuid.uuid4().hex[:8]}"


def _point(db: hx.Folio, tag: str, **extra) -> hx.Ref:
    changes = {
        "dis": f"Point {tag}",
        "point": hx.MARKER,
        "his": hx.MARKER,
        "kind": "Number",
        "tz": "New_York",
        "unit": "°F",
        tag: hx.MARKER,
        **extra,
    }
    return db.commit(hx.Diff.make_add(changes)).new_rec["id"]


def test_about_and_close(served: Served, content_type: str) -> None:
    c = HaystackClient.open(served.uri, "viewer", PASSWORDS["viewer"], content_type=content_type)
    about = c.about()
    assert about["productName"] == "hxredis"
    assert about["whoami"] == "viewer"
    assert about["haystackVersion"] == "4.0"
    c.close()


def test_wrong_password_is_auth_error(served: Served, content_type: str) -> None:
    with pytest.raises(AuthError):
        HaystackClient.open(served.uri, "viewer", "not-the-password", content_type=content_type)
    with pytest.raises(AuthError):
        HaystackClient.open(served.uri, "nobody", "whatever", content_type=content_type)


def test_reads(served: Served, client: HaxallClient) -> None:
    tag = _tag()
    with served.open_db() as db:
        ids = [
            db.commit(hx.Diff.make_add({"dis": f"Equip {i}", "equip": hx.MARKER, tag: hx.MARKER}))
            .new_rec["id"]
            .id
            for i in range(3)
        ]
    grid = client.read_all(tag)
    assert sorted(r["id"].val for r in grid.rows) == sorted(ids)
    assert all(r[tag] == Marker() for r in grid.rows)
    assert len(client.read_all(tag, 2).rows) == 2
    one = client.read(f'{tag} and dis == "Equip 1"')
    assert one["id"] == Ref(ids[1], "Equip 1")
    assert client.read_by_id(Ref(ids[0]))["dis"] == "Equip 0"
    with pytest.raises(UnknownRecError):
        client.read_by_id(Ref("no-such-record"))
    with pytest.raises(UnknownRecError):
        client.read(f"{tag} and missing")
    by_ids = client.read_by_ids([Ref(i) for i in reversed(ids)])
    assert [r["id"].val for r in by_ids.rows] == list(reversed(ids))
    with pytest.raises(UnknownRecError):
        client.read_by_ids([Ref(ids[0]), Ref("no-such-record")])


def test_commit_add_update_remove(client: HaxallClient) -> None:
    tag = _tag()
    added = client.commit_add([{"dis": "New site", "site": Marker(), tag: Marker()}])
    rec = added.rows[0]
    assert rec["dis"] == "New site" and "mod" in rec
    updated = client.commit_update(
        [{"id": rec["id"], "mod": rec["mod"], "area": Number(42, "ft²")}]
    )
    new = updated.rows[0]
    assert new["area"] == Number(42, "ft²")
    assert new["mod"] > rec["mod"]
    with pytest.raises(CallError) as err:  # the stale mod names the record
        client.commit_update([{"id": rec["id"], "mod": rec["mod"], "area": Number(1)}])
    assert rec["id"].val in err.value.help_msg.meta["dis"]
    with pytest.raises(CallError):
        client.commit_remove([{"id": rec["id"]}])  # no mod
    removed = client.commit_remove([{"id": new["id"], "mod": new["mod"]}])
    assert removed.meta == {"ver": "3.0"}
    with pytest.raises(UnknownRecError):
        client.read_by_id(rec["id"])


def test_his_write_and_read(served: Served, client: HaxallClient) -> None:
    tag = _tag()
    with served.open_db() as db:
        p1 = Ref(_point(db, tag).id)
        p2 = Ref(_point(db, tag).id)
    day = date(2024, 3, 1)
    start = datetime(2024, 3, 1, tzinfo=NY)
    rows = [{"ts": start + timedelta(hours=h), "val": Number(float(h), "°F")} for h in range(48)]
    client.his_write_by_id(p1, rows)
    client.his_write_by_ids(
        [p1, p2],
        [{"ts": start + timedelta(hours=h), "v1": Number(100.0 + h)} for h in range(24)],
    )

    one_day = client.his_read_by_id(p1, day)
    assert [r["val"].val for r in one_day.rows] == [float(h) for h in range(24)]
    assert one_day.rows[0]["ts"] == start
    assert one_day.rows[0]["val"].unit == "°F"
    assert one_day.meta["hisStart"] == start
    assert one_day.meta["hisEnd"] == datetime(2024, 3, 2, tzinfo=NY)

    two_days = client.his_read_by_id(p1, DateRange(day, date(2024, 3, 2)))
    assert len(two_days.rows) == 48  # the end date is inclusive

    span = DateTimeRange(start + timedelta(hours=5), start + timedelta(hours=8))
    assert [r["val"].val for r in client.his_read_by_id(p1, span).rows] == [5.0, 6.0, 7.0]
    since = client.his_read_by_id(p1, DateTimeRange(start + timedelta(hours=46)))
    assert [r["val"].val for r in since.rows] == [46.0, 47.0]
    utc = DateTimeRange(datetime(2024, 3, 1, 5, tzinfo=ZoneInfo("UTC")))  # 00:00 New York
    assert len(client.his_read_by_id(p1, utc).rows) == 48

    batch = client.his_read_by_ids([p1, p2], day)
    assert [c.name for c in batch.cols] == ["ts", "v0", "v1"]
    assert batch.rows[3]["v0"].val == 3.0 and batch.rows[3]["v1"] == Number(103.0, "°F")
    assert len(batch.rows) == 24


def test_point_write_and_array(served: Served, client: HaxallClient) -> None:
    tag = _tag()
    with served.open_db() as db:
        ref = db.commit(
            hx.Diff.make_add(
                {
                    "dis": "SP",
                    "point": hx.MARKER,
                    "writable": hx.MARKER,
                    "kind": "Number",
                    "unit": "°F",
                    tag: hx.MARKER,
                }
            )
        ).new_rec["id"]
    pid = Ref(ref.id)
    res = client.point_write(pid, 16, Number(70))
    assert "ok" in res.meta
    client.point_write(pid, 8, Number(72, "°F"), who="tester", duration=Number(5, "min"))
    array = client.point_write_array(pid)
    assert len(array.rows) == 17
    assert array.rows[7]["val"] == Number(72, "°F") and array.rows[7]["who"] == "tester"
    assert array.rows[15]["val"] == Number(70, "°F") and array.rows[15]["who"] == "admin"
    assert client.read_by_id(pid)["writeVal"] == Number(72, "°F")
    client.point_write(pid, 8)  # release
    assert client.read_by_id(pid)["writeLevel"] == Number(16)
    with pytest.raises(CallError):
        client.point_write(pid, 18, Number(1))
    with pytest.raises(CallError):
        client.point_write(pid, 10, "text")
