"""Zinc codec: formats.md sections 1 and 2, vectors 6.2 to 6.5."""

from __future__ import annotations

import contextlib
import math
import re
import string
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import pytest
import vectors
from hypothesis import given
from hypothesis import strategies as st

import hxredis as hx
from hxredis import zinc
from hxredis.tokenizer import Tokenizer
from hxredis.values import Grid, GridCol

N = hx.Number
M = hx.MARKER


# ------------------------------------------------------------------------------------------------
# 6.2 reader vectors
# ------------------------------------------------------------------------------------------------

_READ = [v for v in vectors.section("6.2") if v.id != "ZR-RULE"]


@pytest.mark.parametrize("vec", _READ, ids=lambda v: v.id)
def test_read_vectors(vec: vectors.Vector) -> None:
    source, expected = vec.fields
    text = vectors.value(source)
    if vectors.error(expected) is not None:
        with pytest.raises(hx.ParseError):
            zinc.loads(text)
        return
    vectors.assert_same(zinc.loads(text), vectors.value(expected))
    with pytest.raises(hx.ParseError):  # one value, then end of input
        zinc.loads(text + " 123")


_RULE_NUMS = ["123", "-123", "1_234", "-1_234", "1.2", "-80.09"]
_RULE_NUMS += ["1.234E12", "1.234E+12", "-1.234E+12", "-1.234E-12"]
_RULE_UNITS = ["ft", "ft/s", "_foo", "ms", "day", "%", "Δ°F", "°daysC", "inH₂O", "J/kg_dry"]


@pytest.mark.parametrize("unit", _RULE_UNITS)
@pytest.mark.parametrize("num", _RULE_NUMS)
def test_read_number_rule(num: str, unit: str) -> None:
    """ZR-RULE: every number with every unit (IOTest.verifyNumber)."""
    val = zinc.loads(num + unit)
    assert val == N(float(num.replace("_", "")), unit)
    assert zinc.loads(zinc.dumps(val)) == val


@pytest.mark.parametrize(
    ("text", "msg"),
    [
        ("foo", 'Unexpected identifier "foo"'),
        ("Foo(12,3)", "Expecting 'C' for coord, not \"Foo\""),
        ("{Foo}", 'Invalid dict tag name: "Foo"'),
        ('foo("bar")', 'Invalid XStr type "foo"'),
        ("@", "Invalid empty Ref"),
        ("T 123", "Expected eof"),
        ("C(91,0)", "Invalid lat"),
        ('ver:"4.0"\na\n', 'Unsupported version "4.0"'),
        ('ver:"3.0"\n\n', "No columns defined"),
        ('ver:"3.0"\na,a\n', "Duplicate column name: a"),
    ],
)
def test_read_error_messages(text: str, msg: str) -> None:
    with pytest.raises(hx.ParseError) as info:
        zinc.loads(text)
    assert info.value.msg.startswith(msg)
    assert info.value.line is not None


def test_read_error_line() -> None:
    with pytest.raises(hx.ParseError) as info:
        zinc.loads('ver:"3.0"\na,b\n1,2\n3,foo\n')
    assert info.value.line == 4 and str(info.value).endswith("[line 4]")


def test_read_coord_from_str() -> None:
    """CO-27: malformed coords."""
    for text in ("1.0,2.0", "(1.0,2.0)", "C(1.0,2.0"):
        with pytest.raises(hx.ParseError):
            zinc.loads(text)


def test_read_trailing_newlines_and_deep_nesting() -> None:
    assert zinc.loads("T\n\n") is True
    with pytest.raises(hx.ParseError):
        zinc.loads("[" * 5000)
    with pytest.raises(hx.ParseError):
        zinc.loads("{a:" * 5000)
    deep = "[" * 50 + "]" * 50
    assert zinc.dumps(zinc.loads(deep)) == deep


def test_read_value_from_tokenizer() -> None:
    tok = Tokenizer('@a "A" , [1,2] x')
    val, nxt = zinc.read_value(tok)
    assert val == hx.Ref("a") and val.dis == "A"
    assert nxt.type == "comma"
    val, nxt = zinc.read_value(tok)
    assert val == [N(1), N(2)] and nxt.type == "id" and nxt.val == "x"


@pytest.mark.parametrize(
    "vec", [v for v in vectors.section("6.4") if v.id.startswith("ZT-")], ids=lambda v: v.id
)
def test_read_tags(vec: vectors.Vector) -> None:
    """ZT vectors: ZincReader.readTags (a dict without braces)."""
    text, expected = vec.fields
    vectors.assert_same(zinc.loads_tags(vectors.value(text)), vectors.value(expected))


def test_read_tags_errors() -> None:
    for text in ("foo bar:", "foo 3", "Foo"):
        with pytest.raises(hx.ParseError):
            zinc.loads_tags(text)


# ------------------------------------------------------------------------------------------------
# 6.3 writer vectors
# ------------------------------------------------------------------------------------------------

_LOSSY = {
    "ZW-032": "unit dropped on write",
    "ZW-033": "unit dropped on write",
    "ZW-085": "Python time has microsecond resolution: 1ns is lost",
}


@pytest.mark.parametrize("vec", vectors.section("6.3"), ids=lambda v: v.id)
def test_write_vectors(vec: vectors.Vector) -> None:
    source, expected, _trio = vec.fields
    val = vectors.value(source)
    if vec.id == "ZW-085":
        pytest.skip(_LOSSY[vec.id])
    text = vectors.value(expected)
    assert zinc.dumps(val) == text
    if vec.id not in _LOSSY:
        vectors.assert_same(zinc.loads(text), val)


def test_write_number_dropped_unit_reads_plain() -> None:
    assert zinc.loads(zinc.dumps(N(math.inf, "%"))) == N(math.inf)


_REFS_GRID = """ver:"3.0" siteRef:@17eb894a-26bb44ff "HQ" mark
id,ref childRef:@17eb894a-26bb44dd "Child" parentRef:@17eb894a-26bb44ee "Parent"
@17eb894a-26bb4400,@17eb894a-26bb440a
@17eb894a-26bb4401 "Alpha",@17eb894a-26bb440b "Beta"
"""


def test_grid_refs_round_trip() -> None:
    """ZincTest.testRefs: Ref dis kept in grid meta, column meta and cells."""
    grid = zinc.loads(_REFS_GRID)
    assert grid.meta["siteRef"].dis == "HQ"
    assert grid.cols[1].meta["parentRef"].dis == "Parent"
    assert grid.rows[1]["id"].dis == "Alpha" and grid.rows[0]["id"].dis is None
    assert zinc.dumps_grid(grid).strip() == _REFS_GRID.strip()


def test_nested_grid_value() -> None:
    grid = Grid({}, ["a", "b"], [[N(1), N(2)], [N(3), N(4)]])
    assert zinc.dumps(grid) == '<<\nver:"3.0"\na,b\n1,2\n3,4\n\n>>'
    assert zinc.loads(zinc.dumps(grid)) == grid
    assert zinc.loads(zinc.dumps_grid(grid)) == grid


def test_write_grid_layout() -> None:
    one = Grid({"x": N(1)}, [("v", {"dis": "V"})], [{"v": None}, {"v": "a"}])
    assert zinc.dumps_grid(one) == 'ver:"3.0" x:1\nv dis:"V"\nN\n"a"\n\n'
    assert zinc.loads(zinc.dumps_grid(one)) == one
    assert zinc.dumps_grid(Grid({}, [], [])) == 'ver:"3.0"\nempty\n\n'
    assert zinc.dumps_grid(Grid({}, ["a", "b"], [])) == 'ver:"3.0"\na,b\n\n'


@pytest.mark.parametrize(
    ("val", "text"),
    [
        (datetime(2020, 1, 1, tzinfo=timezone.utc), "2020-01-01T00:00:00Z"),
        (datetime(2020, 6, 1, 12, tzinfo=hx.tz("London")), "2020-06-01T12:00:00+01:00 London"),
        (datetime(2020, 1, 1, 0, 0, 0, 120000, tzinfo=hx.tz("GMT")), "2020-01-01T00:00:00.12Z GMT"),
        (time(23, 59, 59, 999999), "23:59:59.999999"),
        (date(999, 1, 2), "0999-01-02"),
        (hx.Symbol("a-b"), "^a-b"),
        ("\x7f\u2028", '"\x7f\u2028"'),
        (hx.Uri("a\\b\u0001"), "`a\\u005cb\u0001`"),  # a lone backslash: \\u005c
        ({"a": None, "b": M}, "{b}"),
        (hx.REMOVE, "R"),
        (None, "N"),
    ],
)
def test_write_more(val: Any, text: str) -> None:
    assert zinc.dumps(val) == text


def test_write_span() -> None:
    ny = hx.tz("New_York")
    span = hx.Span(datetime(2020, 1, 1, tzinfo=ny), datetime(2020, 1, 2, tzinfo=ny))
    text = zinc.dumps(span)
    assert text == 'Span("2020-01-01T00:00:00-05:00 New_York,2020-01-02T00:00:00-05:00 New_York")'
    assert zinc.loads(text) == span  # an absolute span reads back as a Span
    assert zinc.loads('Span("today")') == hx.XStr("Span", "today")  # others stay XStr


@pytest.mark.parametrize("val", [1, 2.5, b"x", object(), (1, 2), datetime(2020, 1, 1), {1: M}])
def test_write_rejects(val: Any) -> None:
    with pytest.raises(TypeError if not isinstance(val, dict) else ValueError):
        zinc.dumps(val)


@pytest.mark.parametrize("name", ["Foo", "a b", "", "_", "1a"])
def test_write_rejects_unreadable_tag_names(name: str) -> None:
    with pytest.raises(ValueError):
        zinc.dumps({name: M})


def test_scalar_writers() -> None:
    assert zinc.dumps_str('a"$\\\n\b') == '"a\\"\\$\\\\\\n\\u{8}"'
    assert zinc.dumps_uri(hx.Uri("`$\n")) == "`\\`\\$\\n`"
    assert zinc.dumps_number(N(1e-4, "s")) == "1.0E-4sec"
    assert zinc.dumps_ref(hx.Ref("a", "$")) == '@a "\\$"'
    assert zinc.dumps_date(date(2020, 1, 2)) == "2020-01-02"
    assert zinc.dumps_time(time(1, 2, 3, 450000)) == "01:02:03.45"


# ------------------------------------------------------------------------------------------------
# 6.5 grids
# ------------------------------------------------------------------------------------------------


def _g(meta: dict[str, Any], cols: list[str], rows: list[list[Any]]) -> Grid:
    return Grid(meta, cols, rows)


_XY = _g({}, ["x", "y"], [[N(4), N(6)]])
_GRIDS: dict[str, Grid] = {
    "ZG-01": _g({}, ["fooBar33"], []),
    "ZG-02": _g({"tag": M, "foo": "bar"}, ["xyz"], [["val"]]),
    "ZG-03": _g({}, ["val"], [[None]]),
    "ZG-04": _g({}, ["a", "b"], [[N(1), N(2)], [N(3), N(4)]]),
    "ZG-05": _g(
        {},
        ["a", "_b", "__45"],
        [
            [None, N(1), N(2)],
            [N(3), None, N(5)],
            [N(6), N(7000), None],
            [None, None, N(10)],
            [None, None, None],
            [N(14), None, None],
        ],
    ),
    "ZG-06": _g(
        {
            "a": vectors.dt("2009-02-03T04:05:06Z"),
            "foo": M,
            "b": vectors.dt("2010-02-03T04:05:06Z"),
            "bar": M,
            "c": vectors.dt("2009-12-03T04:05:06Z London"),
            "baz": M,
        },
        ["a"],
        [[N(45, "USD")]],
    ),
    "ZG-07": _g({}, ["val"], [[_XY], ["foo"]]),
    "ZG-08": _g({}, ["col1", "col2"], [[_XY, _g({"foo": M}, ["z"], [[N(1)], [N(2)]])]]),
}


@pytest.mark.parametrize("vec", vectors.section("6.5"), ids=lambda v: v.id)
def test_grid_vectors(vec: vectors.Vector) -> None:
    if vec.id == "ZG-11":
        grid = zinc.loads('<<ver:"3.0"\na,b\n1,2\n3,4>>')
        assert grid == _GRIDS["ZG-04"]
        return
    source, expected = vec.fields
    text = vectors.value(source)
    err = vectors.error(expected)
    if err is not None:
        with pytest.raises(hx.ParseError) as info:
            zinc.loads(text)
        assert str(info.value) == err.msg
        return
    grid = zinc.loads(text)
    vectors.assert_same(grid, _GRIDS[vec.id])
    vectors.assert_same(zinc.loads(zinc.dumps_grid(grid)), grid)


def test_grid_writer_zg05() -> None:
    text = zinc.dumps_grid(_GRIDS["ZG-05"])
    assert text == 'ver:"3.0"\na,_b,__45\n,1,2\n3,,5\n6,7000,\n,,10\n,,\n14,,\n\n'


def test_grid_col_meta_and_ver2() -> None:
    grid = zinc.loads('ver:"2.0" m\na dis:"A" unit:"kW",b\n1,2\n')
    assert grid.meta == {"m": M}
    assert grid.cols == [GridCol("a", {"dis": "A", "unit": "kW"}), GridCol("b", {})]


# ------------------------------------------------------------------------------------------------
# Round trips (hypothesis)
# ------------------------------------------------------------------------------------------------

_TZS = ["UTC", "New_York", "London", "Los_Angeles", "Kolkata", "GMT+5", "GMT-10", "GMT", "Sydney"]
_UNITS = [None, "sec", "%", "kWh/ft²", "Δ°F", "$", "_foo", "m/s", "°C"]
_ID_CHARS = string.ascii_letters + string.digits + "_:-.~"

finite = st.floats(allow_nan=False, allow_infinity=False)
numbers = st.one_of(
    st.builds(N, finite, st.sampled_from(_UNITS)),
    st.builds(N, st.sampled_from([math.nan, math.inf, -math.inf])),
    st.builds(N, st.integers(-(10**12), 10**12).map(float), st.sampled_from(_UNITS)),
)
refs = st.builds(
    hx.Ref, st.text(_ID_CHARS, min_size=1, max_size=20), st.none() | st.text(max_size=10)
)
_LOWER = string.ascii_lowercase
_ALNUM = string.ascii_letters + string.digits + "_"


def _join(*parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Concatenation of string strategies (cheaper to generate than ``from_regex``)."""
    return st.tuples(*parts).map("".join)


_sym_part = _join(st.sampled_from(_LOWER), st.text(_LOWER + string.digits + "_", max_size=4))
symbols = st.one_of(
    st.lists(_sym_part, min_size=1, max_size=3).map("-".join),
    _join(_sym_part, st.just(":"), _sym_part),
)
datetimes = st.builds(
    lambda secs, us, name: (
        datetime.fromtimestamp(secs, timezone.utc).replace(microsecond=us).astimezone(hx.tz(name))
    ),
    st.integers(-2_000_000_000, 4_000_000_000),
    st.integers(0, 999_999),
    st.sampled_from(_TZS),
).filter(lambda d: 1901 < d.year < 2099 and d.utcoffset() % timedelta(minutes=1) == timedelta(0))
scalars = st.one_of(
    st.sampled_from([M, hx.NA, hx.REMOVE, True, False]),
    numbers,
    st.text(),
    st.builds(hx.Uri, st.text().filter(lambda s: "\\" not in s and "\n" not in s)),
    refs,
    st.builds(hx.Symbol, symbols),
    st.dates(date(1000, 1, 1), date(9999, 12, 31)),
    st.times(),
    datetimes,
    st.builds(
        hx.Coord.from_micro,
        st.integers(-90_000_000, 90_000_000),
        st.integers(-180_000_000, 180_000_000),
    ),
    st.builds(
        hx.XStr,
        _join(st.sampled_from(string.ascii_uppercase), st.text(_ALNUM, max_size=6)),
        st.text(),
    ),
)
tag_names = st.one_of(
    _join(st.sampled_from(_LOWER), st.text(_ALNUM, max_size=8)),
    _join(st.just("_"), st.sampled_from(_ALNUM), st.text(_ALNUM, max_size=4)),
)


def _grids(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Grid]:
    def build(draw: st.DrawFn) -> Grid:
        names = draw(st.lists(tag_names, min_size=1, max_size=3, unique=True))
        meta = draw(st.dictionaries(tag_names, values, max_size=2))
        cols = [(n, draw(st.dictionaries(tag_names, values, max_size=1))) for n in names]
        rows = draw(
            st.lists(
                st.lists(st.none() | values, min_size=len(names), max_size=len(names)), max_size=3
            )
        )
        return Grid(meta, cols, rows)

    return st.composite(build)()


collections = st.recursive(
    scalars,
    lambda inner: (
        st.lists(st.none() | inner, max_size=4) | st.dictionaries(tag_names, inner, max_size=4)
    ),
    max_leaves=8,
)
# grids hold collections and (one level of) nested grids; kept small so fuzz runs stay cheap
grids = _grids(st.one_of(scalars, collections, _grids(scalars)))
values = st.one_of(
    collections,
    grids,
    st.lists(st.none() | grids | scalars, max_size=3),
    st.dictionaries(tag_names, grids | collections, max_size=3),
)


@given(values)
def test_round_trip(val: Any) -> None:
    text = zinc.dumps(val)
    back = zinc.loads(text)
    assert back == val
    vectors.assert_same(back, val)
    assert zinc.dumps(back) == text


@given(grids)
def test_round_trip_grid_document(grid: Grid) -> None:
    back = zinc.loads(zinc.dumps_grid(grid))
    vectors.assert_same(back, grid)


@given(st.floats())
def test_number_text_round_trips_every_float(f: float) -> None:
    text = zinc.dumps(N(f))
    assert zinc.loads(text) == N(f)
    if not N(f).is_int and math.isfinite(f):
        assert re.fullmatch(r"-?\d\.\d+E-?\d+|-?\d+\.\d+", text), text


# ------------------------------------------------------------------------------------------------
# Fuzzing: loads returns or raises ParseError, nothing else
# ------------------------------------------------------------------------------------------------


def _loads_or_parse_error(text: str) -> None:
    with contextlib.suppress(hx.ParseError):
        zinc.loads(text)


@given(st.text(max_size=80))
def test_fuzz_text(text: str) -> None:
    _loads_or_parse_error(text)


_ZINC_ALPHABET = st.sampled_from(
    [
        *'ver:"3.0"\n,@^`\\{}[]()<>-_.0123456789eExTFNMRCZ+ $/%°a',
        "<<",
        ">>",
        "INF",
        "NaN",
        "C(",
        "ver:",
    ]
)


@given(st.lists(_ZINC_ALPHABET, max_size=40).map("".join))
def test_fuzz_zinc_like(text: str) -> None:
    _loads_or_parse_error(text)


@given(values, st.data())
def test_fuzz_mutated_output(val: Any, data: st.DataObject) -> None:
    text = zinc.dumps(val)
    i = data.draw(st.integers(0, len(text)))
    j = data.draw(st.integers(i, min(len(text), i + 3)))
    insert = data.draw(st.text(max_size=3))
    _loads_or_parse_error(text[:i] + insert + text[j:])
