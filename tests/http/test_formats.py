"""Content negotiation and the JSON v3 codec of the HTTP server (no server needed)."""

from __future__ import annotations

import json
import math
from datetime import date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

import hxredis as hx
from hxredis.http.formats import (
    HttpError,
    decode_request,
    encode_response,
    negotiate,
    query_grid,
)


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        (None, "zinc"),
        ("", "zinc"),
        ("*/*", "zinc"),
        ("text/zinc", "zinc"),
        ("application/json", "json"),
        ("application/json; version=4", "json"),
        ("application/vnd.haystack+json;version=4", "json"),
        ("application/json;version=3", "json3"),
        ("application/vnd.haystack+json;version=3", "json3"),
        ("text/trio", "trio"),
        ("text/csv", "csv"),
        ("text/html, text/csv;q=0.5", "csv"),
        ("text/zinc;q=0, application/json", "json"),
    ],
)
def test_negotiate(accept: str | None, fmt: str) -> None:
    assert negotiate(accept) == fmt


@pytest.mark.parametrize(
    "accept", ["text/turtle", "application/ld+json", "application/json;version=2"]
)
def test_negotiate_refuses(accept: str) -> None:
    with pytest.raises(HttpError) as err:
        negotiate(accept)
    assert err.value.status == 406


def test_filetype_overrides_accept() -> None:
    assert negotiate("text/zinc", "json") == "json"
    with pytest.raises(HttpError):
        negotiate("text/zinc", "xml")


def test_request_errors() -> None:
    for ctype, body, status in [
        (None, b'ver:"3.0"\nempty\n', 400),
        ("text/trio", b"dis: x", 415),
        ("text/zinc", b'ver:"3.0"\n', 400),
        ("text/zinc", b"\xff\xfe", 400),
        ("application/json", b"[1, 2]", 400),
        ("application/json;version=3", b'{"meta": {"ver": "3.0"}}', 400),
        (
            "application/json;version=3",
            b'{"meta":{"ver":"3.0"},"cols":[{"name":"a"}],"rows":[{"a":"q:x"}]}',
            400,
        ),
    ]:
        with pytest.raises(HttpError) as err:
            decode_request(ctype, body)
        assert err.value.status == status, (ctype, body)


def test_json_v3_round_trip() -> None:
    row = {
        "m": hx.MARKER,
        "r": hx.REMOVE,
        "na": hx.NA,
        "n": hx.Number(72.5, "°F"),
        "nan": hx.Number(math.inf),
        "ref": hx.Ref("a-1", "RTU 1"),
        "sym": hx.Symbol("site"),
        "s": "a:colon",
        "plain": "text",
        "d": date(2014, 1, 3),
        "h": time(23, 59),
        "t": datetime(2015, 6, 8, 15, 47, 41, tzinfo=hx.tz("New_York")),
        "u": hx.Uri("http://x/"),
        "c": hx.Coord(37.545, -77.449),
        "x": hx.XStr("Bin", "text/plain"),
        "b": True,
        "list": [hx.Number(1), "x"],
        "dict": {"a": hx.MARKER},
    }
    grid = hx.Grid({"dis": "g"}, [("m", {"dis": "M"}), *[k for k in row if k != "m"]], [row])
    text = encode_response(grid, "json3")
    assert b'"s":"s:a:colon"' in text and b'"n":"n:72.5 \xc2\xb0F"' in text
    back = decode_request("application/json;version=3", text)
    assert back == grid


def test_query_grid() -> None:
    grid = query_grid(
        [("id", "@p1"), ("range", "yesterday"), ("limit", "10"), ("filetype", "json")]
    )
    assert grid.rows == [{"id": hx.Ref("p1"), "range": "yesterday", "limit": hx.Number(10)}]
    assert query_grid([]).rows == []
    with pytest.raises(HttpError):
        query_grid([("Bad-Name", "x")])


def test_csv() -> None:
    grid = hx.Grid(
        {},
        [("id", {"dis": "Id"}), "site", "n", "s"],
        [{"id": hx.Ref("a", "A b"), "site": hx.MARKER, "n": hx.Number(1, "kW"), "s": 'q"x'}],
    )
    assert encode_response(grid, "csv").decode() == 'Id,site,n,s\n@a A b,\u2713,1kW,"q""x"\n'


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
    | st.sampled_from(["m:", "n:1 kW", "r:a b", "t:2020-01-01T00:00:00Z", "h:9:30", "q:x", "x:"]),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)  # fmt: skip


@given(
    st.sampled_from(["text/zinc", "application/json", "application/json;version=3"]),
    st.binary(max_size=200) | _JSON.map(lambda v: json.dumps(v).encode()),
)
def test_decode_request_arbitrary_input(ctype: str, body: bytes) -> None:
    """Any body is a grid or a 400, never another exception."""
    try:
        assert isinstance(decode_request(ctype, body), hx.Grid)
    except HttpError as exc:
        assert exc.status == 400


@given(_JSON)
def test_decode_v3_grid_arbitrary_rows(rows: object) -> None:
    body = json.dumps({"meta": {"ver": "3.0"}, "cols": [{"name": "a"}], "rows": rows}).encode()
    try:
        decode_request("application/json;version=3", body)
    except HttpError as exc:
        assert exc.status == 400
