"""The HTTP API with a raw client (httpx): statuses, content negotiation, error grids, every
Zinc reply parsed by hszinc and every JSON reply by a strict JSON parser; nav and watches."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import hszinc
import httpx
import pytest
from http_util import Served, api, eventually, login

import hxredis as hx

ZINC_EMPTY = 'ver:"3.0"\nempty\n'
JSON_EMPTY = '{"_kind":"grid","meta":{"ver":"3.0"},"cols":[{"name":"empty"}],"rows":[]}'


def _no_constant(name: str) -> Any:
    raise ValueError(f"non-JSON token {name}")


def strict_json(text: str) -> Any:
    """JSON parsed strictly: no NaN/Infinity tokens, no duplicate keys, no null anywhere."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in items]
        assert len(keys) == len(set(keys)), f"duplicate keys {keys}"
        assert all(v is not None for _, v in items), f"null in {items}"
        return dict(items)

    return json.loads(text, parse_constant=_no_constant, object_pairs_hook=pairs)


def zinc_grid(resp: httpx.Response, *, symbols: bool = False) -> hx.Grid:
    """A Zinc reply checked by hszinc, decoded by hxredis.  hszinc 1.3 parses Haystack 3
    Zinc, which has no Symbol: the Haystack 4 ops and filetypes replies (``def`` is a Symbol)
    pass ``symbols=True`` and are parsed by hxredis only."""
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/zinc")
    assert resp.text.startswith('ver:"3.0"')
    if not symbols:
        hszinc.parse(resp.text, mode=hszinc.MODE_ZINC, single=True)
    return hx.zinc.loads(resp.text)


def json_grid(resp: httpx.Response) -> hx.Grid:
    """A JSON v4 reply checked strictly, decoded by hxredis."""
    assert resp.status_code == 200, resp.text
    obj = strict_json(resp.text)
    assert obj["_kind"] == "grid" and obj["meta"]["ver"] == "3.0"
    return hx.json.loads(resp.text)


@pytest.fixture
def token(served: Served) -> str:
    return login(served)


@pytest.fixture
def zc(served: Served, token: str):
    with api(served, token, "zinc") as c:
        yield c


@pytest.fixture
def jc(served: Served, token: str):
    with api(served, token, "json") as c:
        yield c


def _zinc_body(grid: hx.Grid) -> str:
    return hx.zinc.dumps_grid(grid)


def _site(served: Served, **tags: Any) -> hx.Ref:
    with served.open_db() as db:
        changes = {"dis": "S", "site": hx.MARKER, **tags}
        return db.commit(hx.Diff.make_add(changes)).new_rec["id"]


def test_statuses(served: Served, token: str, zc: httpx.Client) -> None:
    assert httpx.get(served.uri + "/about").status_code == 401
    assert httpx.get(served.uri + "/about").headers["www-authenticate"] == "HELLO"
    bad = {"Authorization": "BEARER authToken=nope"}
    assert httpx.get(served.uri + "/about", headers=bad).status_code == 403
    assert httpx.get(served.uri + "/about", headers={"Authorization": "SCRAM x"}).status_code == 400
    assert zc.get("noSuchOp").status_code == 404
    assert httpx.get(served.uri + "x/about", headers=zc.headers).status_code == 404
    assert zc.get("commit").status_code == 405
    assert zc.put("about").status_code == 501
    assert zc.get("about", headers={"Accept": "text/turtle"}).status_code == 406
    assert zc.post("read", content=ZINC_EMPTY, headers={"Content-Type": ""}).status_code == 400
    assert zc.post(
        "read", content="a,b\n1,2", headers={"Content-Type": "text/csv"}
    ).status_code == (415)
    assert zc.post("read", content='ver:"3.0"\nfilter\n"site').status_code == 400
    nan = 'ver:"3.0"\nid,val\n@x,nan\n'  # phable's Zinc writer bug
    assert zc.post("hisRead", content=nan).status_code == 400
    assert zc.post(
        "read", content="{", headers={"Content-Type": "application/json"}
    ).status_code == (400)
    # a GET body and a GET Content-Type are ignored (phable's about)
    resp = zc.request("GET", "about", content="garbage", headers={"Content-Type": "json"})
    assert zinc_grid(resp).rows[0]["productName"] == "hxredis"


def test_content_negotiation(served: Served, zc: httpx.Client) -> None:
    ref = _site(served, area=hx.Number(10, "m²"))
    get = {"filter": f"id==@{ref.id}"}
    plain = zc.get("read", params=get, headers={"Accept": ""})
    assert zinc_grid(plain).rows[0]["area"] == hx.Number(10, "m²")
    star = zc.get("read", params=get, headers={"Accept": "text/html, */*;q=0.1"})
    assert zinc_grid(star).rows[0]["id"] == ref
    j4 = zc.get("read", params=get, headers={"Accept": "text/turtle, application/json"})
    assert j4.headers["content-type"] == "application/json"
    assert json_grid(j4).rows[0]["area"] == hx.Number(10, "m²")
    j3 = zc.get("read", params=get, headers={"Accept": "application/json;version=3"})
    obj = strict_json(j3.text)
    assert "_kind" not in obj and obj["rows"][0]["area"] == "n:10 m²"
    assert obj["rows"][0]["site"] == "m:"
    trio = zc.get("read", params=get, headers={"Accept": "text/trio"})
    assert hx.trio.loads(trio.text)[0]["id"] == ref
    csv = zc.get("read", params=get, headers={"Accept": "text/csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert "\u2713" in csv.text and f"@{ref.id}" in csv.text
    skip_q0 = zc.get("read", params=get, headers={"Accept": "text/zinc;q=0, application/json"})
    assert json_grid(skip_q0).rows[0]["id"] == ref
    assert json_grid(zc.get("read", params={**get, "filetype": "json"})).rows
    # request bodies: JSON v4, JSON v3 and Zinc give the same answer
    v3 = json.dumps(
        {"meta": {"ver": "3.0"}, "cols": [{"name": "id"}], "rows": [{"id": f"r:{ref.id}"}]}
    )
    resp = zc.post("read", content=v3, headers={"Content-Type": "application/json;version=3"})
    assert zinc_grid(resp).rows[0]["id"] == ref
    v4 = hx.json.dumps(hx.Grid({}, ["id"], [{"id": ref}]))
    assert (
        json_grid(
            zc.post(
                "read",
                content=v4,
                headers={"Content-Type": "application/json", "Accept": "application/json"},
            )
        ).rows[0]["id"]
        == ref
    )


def test_error_grids_not_500(served: Served, zc: httpx.Client, jc: httpx.Client) -> None:
    cases = [
        ("read", hx.Grid({}, ["filter"], [{"filter": "site and ("}])),
        ("read", hx.Grid({}, ["filter", "limit"], [{"filter": "site", "limit": "x"}])),
        ("read", hx.Grid({}, ["foo"], [{"foo": hx.MARKER}])),
        ("hisRead", hx.Grid({}, ["id", "range"], [{"id": hx.Ref("nope"), "range": "today"}])),
        ("hisRead", hx.Grid({}, ["id", "range"], [{"id": "x", "range": "today"}])),
        ("hisWrite", hx.Grid({"id": hx.Ref("nope")}, ["ts", "val"], [])),
        ("pointWrite", hx.Grid({}, ["id"], [{"id": hx.Ref("nope")}])),
        ("invokeAction", hx.Grid({"id": hx.Ref("x"), "action": "go"}, ["empty"], [])),
        ("commit", hx.Grid({"commit": "explode"}, ["dis"], [{"dis": "x"}])),
        ("watchPoll", hx.Grid({"watchId": "w-nope"}, ["empty"], [])),
        ("watchSub", hx.Grid({}, ["id"], [{"id": hx.Ref("x")}])),
    ]
    for op, req in cases:
        z = zinc_grid(zc.post(op, content=_zinc_body(req)))
        assert "err" in z.meta and z.meta["dis"], (op, z.meta)
        j = json_grid(jc.post(op, content=hx.json.dumps(req)))
        assert "err" in j.meta and j.meta["errType"], (op, j.meta)
        assert "errTrace" not in j.meta
    invoke = zinc_grid(zc.post("invokeAction", content=_zinc_body(cases[7][1])))
    assert "no actions defined" in invoke.meta["dis"]


def test_standard_ops_parse(served: Served, zc: httpx.Client, jc: httpx.Client) -> None:
    for op in ("about", "ops", "formats", "filetypes", "nav"):
        zinc_grid(zc.get(op), symbols=op in ("ops", "filetypes"))
        json_grid(jc.get(op))
    ops = {row["name"] for row in zinc_grid(zc.get("ops"), symbols=True).rows}
    assert {"read", "hisRead", "commit", "watchPoll", "pointWrite"} <= ops
    assert zc.post("close", content=ZINC_EMPTY).text == ZINC_EMPTY + "\n"
    assert zc.get("about").status_code == 403  # the session is closed


def test_empty_grid_bytes(served: Served, zc: httpx.Client, jc: httpx.Client) -> None:
    req = hx.Grid({}, ["id"], [{"id": hx.Ref(f"nope-{uuid.uuid4().hex}")}])
    assert json.loads(jc.post("read", content=hx.json.dumps(req)).text) == json.loads(JSON_EMPTY)
    assert zc.post("read", content=_zinc_body(req)).text.startswith(ZINC_EMPTY)


def test_nav(served: Served, zc: httpx.Client) -> None:
    tag = f"t{uuid.uuid4().hex[:8]}"
    with served.open_db() as db:
        site = db.commit(hx.Diff.make_add({"dis": "A site", "site": hx.MARKER, tag: hx.MARKER}))
        sid = site.new_rec["id"]
        equip = db.commit(
            hx.Diff.make_add({"dis": "AHU", "equip": hx.MARKER, "siteRef": sid, tag: hx.MARKER})
        ).new_rec["id"]
        db.commit(
            hx.Diff.make_add({"dis": "T", "point": hx.MARKER, "equipRef": equip, "siteRef": sid})
        )
    root = zinc_grid(zc.get("nav"))
    assert any(r["id"] == sid and r["navId"] == sid for r in root.rows)
    equips = zinc_grid(zc.get("nav", params={"navId": f"@{sid.id}"}))
    assert [r["id"] for r in equips.rows] == [equip]
    points = zinc_grid(
        zc.post("nav", content=_zinc_body(hx.Grid({}, ["navId"], [{"navId": equip}])))
    )
    assert [r["dis"] for r in points.rows] == ["T"] and "navId" not in points.rows[0]


def test_watches(served: Served, zc: httpx.Client) -> None:
    a, b = _site(served, n=hx.Number(1)), _site(served, n=hx.Number(2))
    missing = hx.Ref(f"missing-{uuid.uuid4().hex}")
    sub = hx.Grid(
        {"watchDis": "test", "lease": hx.Number(30, "s")},
        ["id"],
        [{"id": a}, {"id": missing}, {"id": b}],
    )
    opened = zinc_grid(zc.post("watchSub", content=_zinc_body(sub)))
    watch_id = opened.meta["watchId"]
    assert opened.meta["lease"] == hx.Number(30, "s")
    assert [r.get("id") for r in opened.rows] == [a, None, b]

    def poll(**meta: Any) -> hx.Grid:
        grid = hx.Grid({"watchId": watch_id, **meta}, ["empty"], [])
        return zinc_grid(zc.post("watchPoll", content=_zinc_body(grid)))

    assert {r["id"] for r in poll().rows} == {a, b}  # the first poll: everything
    assert poll().rows == []
    with served.open_db() as db:
        rec = db.read_by_id(a)
        db.commit(hx.Diff(rec, {"n": hx.Number(10)}))
        db.commit(hx.Diff(db.read_by_id(b), {"curVal": hx.Number(5)}, hx.Diff.TRANSIENT))
    changed = eventually(poll, lambda g: g.rows)
    assert {r["id"] for r in changed.rows} == {a}  # a transient change only lives in its process
    assert changed.rows[0]["n"] == hx.Number(10)
    assert len(poll(refresh=hx.MARKER).rows) == 2
    unsub = hx.Grid({"watchId": watch_id}, ["id"], [{"id": a}])
    zinc_grid(zc.post("watchUnsub", content=_zinc_body(unsub)))
    assert [r["id"] for r in poll(refresh=hx.MARKER).rows] == [b]
    close = hx.Grid({"watchId": watch_id, "close": hx.MARKER}, ["empty"], [])
    zinc_grid(zc.post("watchUnsub", content=_zinc_body(close)))
    assert "err" in poll().meta


def test_his_ranges_and_errors(served: Served, zc: httpx.Client) -> None:
    with served.open_db() as db:
        ref = db.commit(
            hx.Diff.make_add(
                {
                    "dis": "P",
                    "point": hx.MARKER,
                    "his": hx.MARKER,
                    "kind": "Number",
                    "tz": "Tokyo",
                    "unit": "kW",
                }
            )
        ).new_rec["id"]
        now = datetime.now(hx.tz("Tokyo")).replace(minute=0, second=0, microsecond=0)
        db.his.write(ref, [hx.HisItem(now - timedelta(hours=h), hx.Number(h)) for h in range(60)])

    def read(rng: str) -> hx.Grid:
        return zinc_grid(zc.get("hisRead", params={"id": f"@{ref.id}", "range": rng}))

    today = read("today")
    assert today.meta["hisStart"].tzinfo == hx.tz("Tokyo")
    assert all(today.meta["hisStart"] <= r["ts"] < today.meta["hisEnd"] for r in today.rows)
    assert today.rows and all(r["val"].unit == "kW" for r in today.rows)
    yesterday = read("yesterday")
    assert len(yesterday.rows) == 24
    assert yesterday.meta["hisEnd"] == today.meta["hisStart"]
    assert "err" in read("tomorrow").meta
    assert "err" in read("2024-03-02,2024-03-01").meta


def test_watch_lease_expires(served: Served, zc: httpx.Client) -> None:
    ref = _site(served)
    sub = hx.Grid({"watchDis": "short", "lease": hx.Number(1, "s")}, ["id"], [{"id": ref}])
    watch_id = zinc_grid(zc.post("watchSub", content=_zinc_body(sub))).meta["watchId"]
    poll = _zinc_body(hx.Grid({"watchId": watch_id}, ["empty"], []))
    assert "err" not in zinc_grid(zc.post("watchPoll", content=poll)).meta
    time.sleep(1.5)  # no poll within the lease: the watch is closed
    lapsed = zinc_grid(zc.post("watchPoll", content=poll))
    assert "Unknown watch" in lapsed.meta["dis"]


def test_commit_errors(served: Served, zc: httpx.Client) -> None:
    ref = _site(served)
    with served.open_db() as db:
        mod = db.read_by_id(ref)["mod"]

    def commit(mode: str, *rows: dict[str, Any], **meta: Any) -> hx.Grid:
        cols = list(dict.fromkeys(k for row in rows for k in row)) or ["empty"]
        grid = hx.Grid({"commit": mode, **meta}, cols, list(rows))
        return zinc_grid(zc.post("commit", content=_zinc_body(grid)))

    assert "err" in commit("add", {"id": ref, "dis": "dup"}).meta  # the id exists
    stale = hx.Ref(ref.id)
    assert "err" in commit("remove", {"id": hx.Ref(f"no-{uuid.uuid4().hex}"), "mod": mod}).meta
    updated = commit("update", {"id": stale, "mod": mod, "dis": "New"})
    assert updated.rows[0]["dis"] == "New"
    again = commit("update", {"id": stale, "mod": mod, "dis": "Old"})
    assert "err" in again.meta and ref.id in again.meta["dis"]
    forced = commit("update", {"id": stale, "mod": mod, "dis": "Forced"}, force=hx.MARKER)
    assert forced.rows[0]["dis"] == "Forced"
    # all rows apply or none: the second row's bad mod keeps the first row out
    other = _site(served)
    with served.open_db() as db:
        other_mod = db.read_by_id(other)["mod"]
    both = commit(
        "update", {"id": other, "mod": other_mod, "dis": "X"},
        {"id": stale, "mod": mod, "dis": "Y"},
    )  # fmt: skip
    assert "err" in both.meta
    with served.open_db() as db:
        assert db.read_by_id(other)["dis"] == "S"


def test_write_replies_parse(served: Served, zc: httpx.Client, jc: httpx.Client) -> None:
    with served.open_db() as db:
        ref = db.commit(
            hx.Diff.make_add(
                {"dis": "W", "point": hx.MARKER, "his": hx.MARKER, "writable": hx.MARKER,
                 "kind": "Bool", "tz": "UTC", "curTracksWrite": hx.MARKER}
            )
        ).new_rec["id"]  # fmt: skip
    write = hx.Grid({}, ["id", "level", "val"], [{"id": ref, "level": hx.Number(8), "val": True}])
    assert "ok" in zinc_grid(zc.post("pointWrite", content=_zinc_body(write))).meta
    array_req = _zinc_body(hx.Grid({}, ["id"], [{"id": ref}]))
    array = zinc_grid(zc.post("pointWrite", content=array_req))
    assert len(array.rows) == 17 and array.meta["writeLevel"] == hx.Number(8)
    assert array.rows[7]["val"] is True and array.rows[16]["levelDis"] == "def"
    assert (
        len(json_grid(jc.post("pointWrite", content=hx.json.dumps(hx.zinc.loads(array_req)))).rows)
        == 17
    )
    rec = zinc_grid(zc.get("read", params={"id": f"@{ref.id}"})).rows[0]
    assert rec["curVal"] is True and rec["writeVal"] is True
    ts = datetime(2024, 5, 1, tzinfo=hx.UTC)
    his = hx.Grid({"id": ref}, ["ts", "val"], [{"ts": ts, "val": False}])
    assert zinc_grid(zc.post("hisWrite", content=_zinc_body(his))).rows == []
    bad = hx.Grid({"id": ref}, ["ts", "val"], [{"ts": ts, "val": hx.Number(1)}])
    assert ref.id in zinc_grid(zc.post("hisWrite", content=_zinc_body(bad))).meta["dis"]
