"""Haystack JSON v4: the spec's encodings, round trips of every kind, and a decoder that only
ever raises ParseError."""

from __future__ import annotations

import contextlib
import json
import math
from datetime import date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

import hxredis as hx

NY = hx.tz("New_York")

ENCODINGS = [
    (hx.MARKER, {"_kind": "marker"}),
    (hx.NA, {"_kind": "na"}),
    (hx.REMOVE, {"_kind": "remove"}),
    (True, True),
    (hx.Number(72.5), 72.5),
    (hx.Number(3), 3),
    (hx.Number(72.5, "°F"), {"_kind": "number", "val": 72.5, "unit": "°F"}),
    (hx.Number(float("nan")), {"_kind": "number", "val": "NaN"}),
    (hx.Number(float("-inf"), "kW"), {"_kind": "number", "val": "-INF", "unit": "kW"}),
    ("text", "text"),
    (hx.Uri("http://x/"), {"_kind": "uri", "val": "http://x/"}),
    (hx.Ref("abc-1", "RTU-1"), {"_kind": "ref", "val": "abc-1", "dis": "RTU-1"}),
    (hx.Ref("abc-1"), {"_kind": "ref", "val": "abc-1"}),
    (hx.Symbol("site"), {"_kind": "symbol", "val": "site"}),
    (date(2021, 3, 22), {"_kind": "date", "val": "2021-03-22"}),
    (time(17, 19, 23), {"_kind": "time", "val": "17:19:23"}),
    (
        datetime(2021, 3, 22, 13, 57, tzinfo=NY),
        {"_kind": "dateTime", "val": "2021-03-22T13:57:00-04:00", "tz": "New_York"},
    ),
    (hx.Coord(37.55, -77.45), {"_kind": "coord", "lat": 37.55, "lng": -77.45}),
    (hx.XStr("Foo", "bar"), {"_kind": "xstr", "type": "Foo", "val": "bar"}),
    ([hx.Number(1), "a", hx.MARKER], [1, "a", {"_kind": "marker"}]),
    ({"dis": "x", "site": hx.MARKER}, {"dis": "x", "site": {"_kind": "marker"}}),
]


@pytest.mark.parametrize(("val", "obj"), ENCODINGS, ids=lambda v: repr(v)[:40])
def test_encoding_matches_the_spec_and_reads_back(val, obj) -> None:
    assert json.loads(hx.json.dumps(val)) == obj
    back = hx.json.loads(json.dumps(obj))
    if isinstance(val, hx.Number) and math.isnan(val.val):
        assert math.isnan(back.val)
    else:
        assert back == val


def test_grid_round_trip_leaves_null_cells_out() -> None:
    grid = hx.Grid(
        {"title": "t"},
        [("id", {}), ("dis", {"label": "Name"}), ("v", {})],
        [{"id": hx.Ref("a"), "dis": "A"}, {"id": hx.Ref("b"), "v": hx.Number(2, "kW")}],
    )
    obj = json.loads(hx.json.dumps(grid))
    assert obj["_kind"] == "grid"
    assert obj["meta"] == {"ver": "3.0", "title": "t"}
    assert obj["cols"][1] == {"name": "dis", "meta": {"label": "Name"}}
    assert obj["rows"][0] == {"id": {"_kind": "ref", "val": "a"}, "dis": "A"}
    assert hx.json.loads(hx.json.dumps(grid)) == grid


def test_reader_accepts_the_lenient_forms() -> None:
    assert hx.json.loads('{"a": null, "b": 1}') == {"b": hx.Number(1)}
    assert math.isnan(hx.json.loads("NaN").val)
    utc = hx.json.loads('{"_kind":"dateTime","val":"2021-01-01T00:00:00Z"}')
    assert utc == datetime(2021, 1, 1, tzinfo=hx.tz("GMT"))


@pytest.mark.parametrize(
    "text",
    [
        "{",
        '{"_kind":"bogus"}',
        '{"_kind":"number"}',
        '{"_kind":"ref","val":"bad id"}',
        '{"_kind":"grid","cols":[]}',
        '{"_kind":"dateTime","val":"2021-01-01T00:00:00","tz":"New_York"}',
        '{"_kind":"dateTime","val":"2021-01-01T00:00:00Z","tz":"Nowhere"}',
    ],
)
def test_bad_json_is_a_parse_error(text: str) -> None:
    with pytest.raises(hx.ParseError):
        hx.json.loads(text)


def test_writer_refuses_what_is_not_haystack() -> None:
    with pytest.raises(TypeError):
        hx.json.dumps(object())
    with pytest.raises(TypeError):
        hx.json.dumps(datetime(2021, 1, 1))


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["_kind", "val", "unit", "tz", "lat", "meta"]), children)
    ),
    max_leaves=12,
)


@given(_json_values)
def test_decoder_raises_only_parse_error(obj) -> None:
    with contextlib.suppress(hx.ParseError):
        hx.json.loads(json.dumps(obj))
