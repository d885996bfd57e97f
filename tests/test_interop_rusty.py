"""Interop with rusty-haystack, an independent (Rust) Haystack implementation.

Trio and Zinc written by rusty-haystack must decode here to equal values, and what hxredis
writes must decode there to equal values.  Where rusty-haystack departs from Haxall the test
says so (``RUSTY_DEVIATIONS``) and keeps those values out of the round trips.  Skipped when
rusty-haystack is not installed (``pip install rusty-haystack``).
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from test_trio import same, same_recs

import hxredis as hx
from hxredis import trio, zinc

rusty = pytest.importorskip("rusty_haystack")

# Where rusty-haystack 0.7 reads or writes differently from Haxall (formats.md):
RUSTY_DEVIATIONS = {
    "trio-bool": "reads Trio `true`/`false` as Strs (Haxall: Bools); writes T/F, which we read",
    "control-chars": "cannot read the \\u{h} escape Haxall writes for control chars",
    "uri-backslash": "drops the backslash of \\# in a Uri (Haxall keeps it)",
    "utc-in-dict": "reads `…Z a` in a Dict as a DateTime in zone `a` (Haxall: zone names start"
    " uppercase, so `a` is the next tag)",
}


# ------------------------------------------------------------------------------------------------
# Value conversion between the two libraries
# ------------------------------------------------------------------------------------------------


def to_rusty(val: Any) -> Any:
    """The rusty-haystack value of an hxredis value."""
    if val is hx.MARKER:
        return rusty.Marker()
    if val is hx.NA:
        return rusty.NA()
    if val is hx.REMOVE:
        return rusty.Remove()
    if isinstance(val, hx.Number):
        return rusty.Number(val.val, val.unit)
    if isinstance(val, hx.Ref):
        return rusty.Ref(val.id, val.dis)
    if isinstance(val, hx.Uri):
        return rusty.Uri(val.val)
    if isinstance(val, hx.Symbol):
        return rusty.Symbol(val.val)
    if isinstance(val, hx.XStr):
        return rusty.XStr(val.type, val.val)
    if isinstance(val, hx.Coord):
        return rusty.Coord(val.lat, val.lng)
    if isinstance(val, datetime):
        assert val.microsecond == 0  # rusty's HDateTime has whole seconds
        offset = int(val.utcoffset().total_seconds())
        return rusty.HDateTime(
            val.year, val.month, val.day, val.hour, val.minute, val.second, offset, hx.tz_name(val)
        )
    if isinstance(val, list):
        return rusty.HList([to_rusty(v) for v in val])
    if isinstance(val, dict):
        return rusty.HDict({k: to_rusty(v) for k, v in val.items()})
    return val  # str, bool, date, time


def from_rusty(val: Any) -> Any:
    """The hxredis value of a rusty-haystack value."""
    if isinstance(val, rusty.Marker):
        return hx.MARKER
    if isinstance(val, rusty.NA):
        return hx.NA
    if isinstance(val, rusty.Remove):
        return hx.REMOVE
    if isinstance(val, rusty.Number):
        return hx.Number(val.val, val.unit)
    if isinstance(val, rusty.Ref):
        return hx.Ref(val.val, val.dis)
    if isinstance(val, rusty.Uri):
        return hx.Uri(val.val)
    if isinstance(val, rusty.Symbol):
        return hx.Symbol(val.val)
    if isinstance(val, rusty.XStr):
        return hx.XStr(val.type_name, val.val)
    if isinstance(val, rusty.Coord):
        return hx.Coord(val.lat, val.lng)
    if isinstance(val, rusty.HDateTime):
        return val.dt().astimezone(hx.tz(val.tz_name))
    if isinstance(val, rusty.HList):
        return [from_rusty(v) for v in val]
    if isinstance(val, rusty.HDict):
        return {k: from_rusty(v) for k, v in val.items()}
    return val


def rusty_grid(recs: list[dict[str, Any]]) -> Any:
    names = sorted({name for rec in recs for name in rec})
    rows = [rusty.HDict({k: to_rusty(v) for k, v in rec.items()}) for rec in recs]
    return rusty.HGrid.from_parts(rusty.HDict(), [rusty.HCol(n) for n in names], rows)


# ------------------------------------------------------------------------------------------------
# Values both libraries read and write as Haxall does
# ------------------------------------------------------------------------------------------------

# Printable text (no control chars but newline and tab; see RUSTY_DEVIATIONS).
st_str = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\n\t"))
st_one_line = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1)
st_number = st.builds(
    hx.Number,
    st.one_of(
        st.floats(allow_nan=False, allow_infinity=False, width=32),
        st.integers(-(10**9), 10**9).map(float),
        st.sampled_from([float("inf"), float("-inf")]),
    ),
    st.sampled_from([None, "kW", "°F", "ft²", "%", "$", "sec", "kWh/ft²", "m³/h"]),
).filter(lambda n: n.unit is None or abs(n.val) != float("inf"))
st_datetime = st.builds(
    lambda dt, zone: dt.replace(tzinfo=hx.tz("UTC"), microsecond=0, fold=0).astimezone(hx.tz(zone)),
    st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2098, 12, 31)),
    st.sampled_from(["UTC", "New_York", "London", "Los_Angeles", "Kolkata", "Sydney"]),
)
st_coord = st.builds(
    hx.Coord.from_micro,
    st.integers(-90_000_000, 90_000_000),
    st.integers(-180_000_000, 180_000_000),
).filter(lambda c: zinc.loads(zinc.dumps(c)) == c)
st_scalar = st.one_of(
    st.just(hx.MARKER),
    st.just(hx.NA),
    st_number,
    st_str,
    st.builds(
        hx.Uri,
        st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\\`")),
    ),
    st.builds(
        hx.Ref, st.from_regex(r"[A-Za-z0-9_:.~\-]{1,20}", fullmatch=True), st.none() | st_one_line
    ),
    st.sampled_from([hx.Symbol("site"), hx.Symbol("hot-water"), hx.Symbol("ph:equip")]),
    st.dates(min_value=date(1901, 1, 1), max_value=date(2099, 12, 31)),
    st.times(),
    st_datetime,
    st_coord,
    st.builds(hx.XStr, st.sampled_from(["Foo", "Bin", "Span"]), st_one_line),
)
st_name = st.from_regex(r"[a-z][A-Za-z0-9_]{0,8}", fullmatch=True)
st_value = st.recursive(
    st_scalar,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(  # see RUSTY_DEVIATIONS["utc-in-dict"]
            st_name, inner.filter(lambda v: not isinstance(v, datetime)), max_size=3
        )
    ),
    max_leaves=6,
)
st_rec = st.dictionaries(st_name, st_value, min_size=1, max_size=8)


# ------------------------------------------------------------------------------------------------
# Trio
# ------------------------------------------------------------------------------------------------


def block_safe(rec: dict[str, Any]) -> bool:
    """Whether every multi-line Str survives Haxall's indented block: no line with leading or
    trailing whitespace (Haxall's TrioWriter loses those, and so does rusty-haystack's; the
    hxredis writer quotes such text instead)."""
    texts = [v for v in rec.values() if isinstance(v, str) and "\n" in v]
    return all(line == line.strip() for text in texts for line in text.split("\n"))


@given(st.lists(st_rec.filter(block_safe), min_size=1, max_size=3))
@example([{"doc": "hello\nworld\n", "m": hx.MARKER}])
def test_trio_written_by_rusty_reads_here(recs: list[dict[str, Any]]) -> None:
    text = rusty.encode_grid("text/trio", rusty_grid(recs))
    assert same_recs(trio.loads(text), recs)


@given(st.lists(st_rec, min_size=1, max_size=3))
@example([{"doc": "x \ny", "i": " a\n b", "m": hx.MARKER}])
def test_trio_written_here_reads_in_rusty(recs: list[dict[str, Any]]) -> None:
    rows = rusty.decode_grid("text/trio", trio.dumps(recs)).rows()
    got = [{k: from_rusty(v) for k, v in row.items()} for row in rows]
    assert same_recs(got, recs)


def test_trio_bools_written_by_rusty() -> None:
    text = rusty.encode_grid("text/trio", rusty_grid([{"a": True, "b": False}]))
    assert trio.loads(text) == [{"a": True, "b": False}]


@pytest.mark.xfail(reason=RUSTY_DEVIATIONS["trio-bool"], strict=False)
def test_trio_bools_written_here_read_in_rusty() -> None:
    rows = rusty.decode_grid("text/trio", trio.dumps({"a": True, "b": False})).rows()
    assert [dict(row.items()) for row in rows] == [{"a": True, "b": False}]


# ------------------------------------------------------------------------------------------------
# Zinc
# ------------------------------------------------------------------------------------------------


@given(st_value | st.booleans())
def test_zinc_written_by_rusty_reads_here(val: Any) -> None:
    assert same(zinc.loads(rusty.encode_scalar("text/zinc", to_rusty(val))), val)


@given(st_value | st.booleans())
def test_zinc_written_here_reads_in_rusty(val: Any) -> None:
    assert same(from_rusty(rusty.decode_scalar("text/zinc", zinc.dumps(val))), val)


@pytest.mark.parametrize(
    ("val", "deviation"),
    [
        ("\b", "control-chars"),
        (hx.Uri("a\\#b"), "uri-backslash"),
        ({"b": datetime(2000, 1, 1, tzinfo=hx.tz("UTC")), "a": hx.MARKER}, "utc-in-dict"),
    ],
)
def test_known_deviations(val: Any, deviation: str) -> None:
    """Documents the deviations: these values do not survive rusty-haystack's reader."""
    try:
        back = from_rusty(rusty.decode_scalar("text/zinc", zinc.dumps(val)))
    except (rusty.HaystackError, hx.ParseError):
        return
    assert not same(back, val), f"rusty-haystack fixed: {RUSTY_DEVIATIONS[deviation]}"


def test_scalars_of_each_kind() -> None:
    vals = [
        hx.MARKER,
        hx.NA,
        True,
        hx.Number(72.5, "°F"),
        "text",
        hx.Uri("http://x/y"),
        hx.Ref("a", "Alpha"),
        hx.Symbol("hot-water"),
        date(2024, 1, 2),
        time(13, 5, 1, 500000),
        datetime(2024, 1, 4, 12, 39, tzinfo=hx.tz("New_York")),
        hx.Coord(37.65, -77.61),
        hx.XStr("Bin", "text/plain"),
        [hx.Number(1), None, "a"],
        {"a": hx.Number(1), "b": hx.MARKER},
    ]
    for val in vals:
        assert same(zinc.loads(rusty.encode_scalar("text/zinc", to_rusty(val))), val), val
        assert same(from_rusty(rusty.decode_scalar("text/zinc", zinc.dumps(val))), val), val
