"""The fast single hisRead (numpy arrays, native rows) over real HTTP: the same bytes as the
grid path for Number and Bool points with NaN, INF, NA and DST changes, in every format; Str
points and Str samples keep the grid path."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from http_util import Served, login

import hxredis as hx
from hxredis.his.spans import read_span
from hxredis.http.formats import encode_response
from hxredis.http.his import parse_range

ACCEPT = {
    "zinc": "text/zinc",
    "json": "application/json",
    "json3": "application/json; version=3",
    "csv": "text/csv",
    "trio": "text/trio",
}
NY = hx.tz("New_York")
START = datetime(2024, 3, 9, 12, tzinfo=NY)  # spans the change to DST on 2024-03-10


def _point(db: hx.Folio, kind: str, **tags: Any) -> hx.Ref:
    changes = {"dis": f"P {kind}", "point": hx.MARKER, "his": hx.MARKER, "kind": kind}
    changes.update({"tz": "New_York", **tags})
    return db.commit(hx.Diff.make_add(changes)).new_rec["id"]


def _expected(db: hx.Folio, ref: hx.Ref, span: hx.Span, fmt: str) -> bytes:
    """Today's grid path: his.read items trimmed to the span, through the grid writers."""
    rec = db.read_by_id(ref)
    items = [i for i in db.his.read(ref, span) if span.start <= i.ts < span.end]
    grid = hx.Grid(
        {"id": rec["id"], "hisStart": span.start, "hisEnd": span.end},
        [("ts", {}), ("val", {"id": rec["id"]})],
        [{"ts": i.ts, "val": i.val} for i in items],
    )
    return encode_response(grid, fmt)


@pytest.fixture
def client(served: Served):
    headers = {"Authorization": f"BEARER authToken={login(served)}"}
    with httpx.Client(base_url=served.uri + "/", headers=headers, timeout=30) as c:
        yield c


def _his_read(client: httpx.Client, ref: hx.Ref, rng: str, fmt: str) -> bytes:
    body = hx.zinc.dumps_grid(hx.Grid({}, ["id", "range"], [{"id": ref, "range": rng}]))
    headers = {"Accept": ACCEPT[fmt], "Content-Type": "text/zinc"}
    resp = client.post("hisRead", content=body, headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.content


def test_same_bytes_as_the_grid_path(served: Served, client: httpx.Client) -> None:
    with served.open_db() as db:
        num = _point(db, "Number", unit="kW")
        flag = _point(db, "Bool")
        specials = [
            hx.Number(float("nan")),
            hx.Number(float("inf")),
            hx.NA,
            hx.Number(-0.0),
            hx.Number(1e13),
            hx.Number(0.1),
            hx.Number(-2.5e-7),
        ]
        items = [
            hx.HisItem(
                START + timedelta(minutes=7 * i, milliseconds=i % 3 * 40),
                specials[i % len(specials)] if i % 5 == 0 else hx.Number(i * 1.25),
            )
            for i in range(1000)
        ]
        db.his.write(num, items)
        db.his.write(
            flag,
            [
                hx.HisItem(START + timedelta(hours=i), hx.NA if i % 7 == 0 else bool(i % 2))
                for i in range(100)
            ],
        )
        start, end = START + timedelta(hours=1), START + timedelta(days=3)
        rng = f"{hx.zinc.dumps(start)},{hx.zinc.dumps(end)}"
        for ref in (num, flag):
            assert read_span(db.his, ref, hx.Span(start, end)) is not None  # the fast path
            for fmt in ACCEPT:
                assert _his_read(client, ref, rng, fmt) == _expected(
                    db, ref, hx.Span(start, end), fmt
                ), fmt
        for rng in ("2024-03-10", "2024-03-09,2024-03-11"):
            span = parse_range(rng, NY)
            assert _his_read(client, num, rng, "zinc") == _expected(db, num, span, "zinc")


def test_str_values_keep_the_grid_path(served: Served, client: httpx.Client) -> None:
    with served.open_db() as db:
        text = _point(db, "Str")
        db.his.write(text, [hx.HisItem(START + timedelta(hours=i), f"s,{i}") for i in range(5)])
        relabeled = _point(db, "Str")
        db.his.write(
            relabeled, [hx.HisItem(START, "on"), hx.HisItem(START + timedelta(hours=1), "off")]
        )
        rec = db.read_by_id(relabeled)
        db.commit(hx.Diff(rec, {"kind": "Number"}))
        db.his.write(relabeled, [hx.HisItem(START + timedelta(hours=2), hx.Number(3))])
        span = hx.Span(START, START + timedelta(days=1))
        assert read_span(db.his, relabeled, span) is None
        rng = f"{hx.zinc.dumps(span.start)},{hx.zinc.dumps(span.end)}"
        for ref in (text, relabeled):
            for fmt in ("zinc", "json", "json3"):
                assert _his_read(client, ref, rng, fmt) == _expected(db, ref, span, fmt)


def test_errors_unchanged(served: Served, client: httpx.Client) -> None:
    with served.open_db() as db:
        site = db.commit(hx.Diff.make_add({"dis": "S", "site": hx.MARKER})).new_rec["id"]
    for ref, rng in ((hx.Ref("nope"), "today"), (site, "today")):
        body = _his_read(client, ref, rng, "zinc").decode()
        assert " err " in body.split("\n", 1)[0]


def test_get_with_a_date_or_datetime_range(served: Served, client: httpx.Client) -> None:
    """A GET query string's ``range=2024-03-10`` parses to a Date (a Zinc scalar), not a Str:
    it still means that day, and a DateTime means from then on."""
    items = [hx.HisItem(START + timedelta(hours=i), hx.Number(i, "kW")) for i in range(30)]
    with served.open_db() as db:
        num = _point(db, "Number", unit="kW")
        db.his.write(num, items)
        day, since = "2024-03-10", hx.zinc.dumps(items[20].ts)
        got = {}
        for rng in (day, since):
            params = {"id": f"@{num.id}", "range": rng}
            resp = client.get("hisRead", params=params, headers={"Accept": "text/zinc"})
            assert resp.status_code == 200, resp.text
            got[rng] = resp.content
        assert got[day] == _expected(db, num, parse_range(day, NY), "zinc")
    rows = hx.zinc.loads(got[since].decode()).rows
    assert [r["val"] for r in rows] == [i.val for i in items[20:]]
