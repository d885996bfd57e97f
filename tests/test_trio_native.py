"""The native Trio codec (hxredis._fastcore.trio) against the pure-Python reference.

dumps must be byte-identical, loads value-identical (Ref dis and DateTime zones included),
and on any text or bytes both must return the same records or raise the same ParseError.
"""

from __future__ import annotations

import gc
import math
from collections import OrderedDict
from datetime import date, datetime, time
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from test_trio import (
    SAFE_WRITES,
    TE_ERRORS,
    TE_READ,
    TR_VECTORS,
    ZW_TRIO,
    same_recs,
    st_datetime,
    st_rec,
    st_text,
)

from hxredis import trio
from hxredis.errors import ParseError
from hxredis.timezones import tz
from hxredis.values import MARKER, Number, Ref

native = pytest.importorskip("hxredis._fastcore.trio")


def test_trio_uses_native() -> None:
    assert trio.NATIVE
    assert trio.loads is native.loads
    assert trio.dumps is native.dumps


def outcome(fn: Any, arg: Any) -> tuple[str, Any]:
    """("ok", result) or (exception type name, message and line)."""
    try:
        return "ok", fn(arg)
    except (ParseError, ValueError, TypeError) as e:
        return type(e).__name__, (str(e), getattr(e, "line", None))


def assert_same_loads(text: str | bytes) -> None:
    ref, nat = outcome(trio.py_loads, text), outcome(native.loads, text)
    assert ref[0] == nat[0], (ref, nat)
    if ref[0] == "ok":
        assert same_recs(nat[1], ref[1]), (nat[1], ref[1])
    else:
        assert ref[0] == "ParseError", ref
        assert nat[1] == ref[1]


def assert_same_dumps(recs: Any) -> None:
    ref, nat = outcome(trio.py_dumps, recs), outcome(native.dumps, recs)
    assert nat == ref


# ------------------------------------------------------------------------------------------------
# Vectors
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("vec", TR_VECTORS, ids=[v[0] for v in TR_VECTORS])
def test_tr_vectors(vec: tuple[str, str, list[dict[str, Any]], str]) -> None:
    _, text, recs, written = vec
    assert_same_loads(text)
    assert_same_loads(written)
    assert native.dumps(recs) == trio.py_dumps(recs) == written


@pytest.mark.parametrize("vec", TE_READ + TE_ERRORS, ids=[v[0] for v in TE_READ + TE_ERRORS])
def test_te_vectors(vec: tuple[str, Any, Any]) -> None:
    assert_same_loads(vec[1])


@pytest.mark.parametrize("vec", ZW_TRIO + SAFE_WRITES, ids=[v[0] for v in ZW_TRIO + SAFE_WRITES])
def test_writer_vectors(vec: tuple[str, Any, str]) -> None:
    val = vec[1]
    if isinstance(val, str) and val.startswith("DT:"):
        val = trio.py_loads("v:" + val[3:])[0]["v"]
    assert native.dumps({"v": val}) == trio.py_dumps({"v": val})
    assert native.dump_rec({"v": val}) == trio.py_dump_rec({"v": val})


def test_load_rec_and_errors() -> None:
    for text in ["", "a", "a\n---\nb", "---\na\n---", b"a:\xff", "a:{"]:
        ref, nat = outcome(trio.py_load_rec, text), outcome(native.load_rec, text)
        assert nat[0] == ref[0]
        assert same_recs([nat[1]], [ref[1]]) if ref[0] == "ok" else nat == ref
    for bad in [12, None, [{"a": MARKER}, 3], {"Bad": MARKER}, {"a": 1.5}, {"a": object()}]:
        assert_same_dumps(bad)
    assert outcome(native.dump_rec, [1]) == outcome(trio.py_dump_rec, [1])
    assert outcome(native.loads, 12) == outcome(trio.py_loads, 12)


# ------------------------------------------------------------------------------------------------
# Generated records and texts
# ------------------------------------------------------------------------------------------------


@given(st.lists(st_rec, max_size=4))
def test_dumps_and_loads_generated_records(recs: list[dict[str, Any]]) -> None:
    assert_same_dumps(recs)
    text = trio.py_dumps(recs)
    assert_same_loads(text)
    assert same_recs(native.loads(text), [r for r in recs if r])


_UNITS = [None, "kW", "°F", "ft²", "%", "$", "sec", "_foo", "m/s", "kWh/ft²"]


@given(
    st.one_of(
        st.floats(),
        st.integers(-(2**63), 2**63).map(float),
        st.sampled_from([1e-3, 9.99e-4, 1e7, 9999999.5, 1e12, 1e12 + 1, -0.0, 5e-324, 1e308]),
    ),
    st.sampled_from(_UNITS),
)
def test_number_text(val: float, unit: str | None) -> None:
    assert_same_dumps({"v": Number(val, unit)})


@given(st_datetime, st.dates(), st.times(), st.text(), st.text(max_size=3))
@example(datetime(2024, 1, 1, tzinfo=tz("Rel")), date(1, 1, 1), time(0, 0, 0, 1), "", "")
def test_scalar_writers(dt: datetime, d: date, t: time, s: str, dis: str) -> None:
    rec = {"dt": dt, "d": d, "t": t, "s": s, "r": Ref("x", dis), "m": MARKER, "b": True}
    assert_same_dumps(rec)
    assert_same_loads(trio.py_dumps(rec))


# Fragments around every native fast path: numbers, dates, times, datetimes, refs, strings.
_FRAGMENTS = [
    *'0123456789-:.TZ +eE"\\@$`^{}[]()_x/',
    "°",
    "é",
    "\t",
    "\x01",
    "2024-01-02",
    "T03:04:05",
    ".123",
    "-05:00",
    "+05:30",
    "Z",
    " New_York",
    " UTC",
    " Nowhere",
    "kW",
    "_foo",
    "sec",
    "0x",
    "1e",
    "@p:demo:r:1",
    ' "dis"',
    '\\"',
    "\\n",
    "\\u0041",
    "\\$",
    "true",
    "NaN",
    "INF",
    "Zinc:",
    "Trio:",
]
st_value_text = st.lists(st.sampled_from(_FRAGMENTS), max_size=8).map("".join)
st_line = st.one_of(
    st.builds(
        lambda n, v: f"{n}:{v}", st.sampled_from(["a", "b", "id", "Bad", " c "]), st_value_text
    ),
    st.sampled_from(["m", "---", "-", "// c", "", "  ", "  indented", "x y"]),
)


@given(st.lists(st_line, max_size=8).map("\n".join))
@example("a:2024-01-02T03:04:05-05:00 New_York")
@example("a:2024-01-02T03:04:05Z")
@example("a:1900-01-02T03:04:05.5Z")
@example("a:2024-02-30T03:04:05.5Z")
@example("a:2024-01-02T03:04:05.Z")
@example('a:@x "\\u0041"')
@example("a:1:05\nb:12:60\nc:7:56:01.")
@example("a:12345678-12345678")
@example("a:2024-11-03T01:30:00-04:00 New_York\nb:2024-11-03T01:30:00-05:00 New_York")
@example("a:2024-03-10T02:30:00-05:00 New_York\nb:2024-03-10T02:30:00-04:00 New_York")
@example("a:2024-01-01T00:00:00+02:00 New_York\nb:2024-06-01T00:00:00.5Z London")
@example("a:2024-06-01T00:00:00Z Rel\nb:2024-06-01T00:00:00-05:00 GMT+5")
def test_loads_trio_like_text(text: str) -> None:
    assert_same_loads(text)


@given(st.text())
def test_loads_arbitrary_text(text: str) -> None:
    assert_same_loads(text)


@given(st.binary())
def test_loads_arbitrary_bytes(data: bytes) -> None:
    assert_same_loads(data)


@given(
    st.dictionaries(st.sampled_from(["a", "b", "m", "doc"]), st.one_of(st.just(MARKER), st_text))
)
def test_text_blocks_and_markers(rec: dict[str, Any]) -> None:
    assert_same_dumps(rec)
    assert_same_loads(trio.py_dumps(rec))


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 1),
        max_value=datetime(2098, 1, 1),
        timezones=st.sampled_from([tz(z) for z in ["New_York", "London", "Sydney", "UTC"]]),
        allow_imaginary=True,
    )
)
@example(datetime(2024, 11, 3, 1, 30, fold=1, tzinfo=tz("New_York")))
@example(datetime(2024, 3, 10, 2, 30, tzinfo=tz("New_York")))
def test_datetimes_around_transitions(dt: datetime) -> None:
    assert_same_dumps({"v": dt})
    assert_same_loads(trio.py_dumps({"v": dt}))


def test_other_mappings_and_key_orders() -> None:
    rec = {"b": MARKER, "a": Number(1), "id": Ref("x", "X"), "c": None, "dis": "d"}
    for val in [
        rec,
        dict(reversed(list(rec.items()))),
        OrderedDict(rec),
        MappingProxyType(rec),
        {**rec, "c": MARKER},
        {**rec, "Bad": None},
        {**rec, "Bad": MARKER},
        {f"n{i}": Number(i) for i in range(100)},
        {1: MARKER},
    ]:
        assert_same_dumps(val)
        assert_same_dumps([val, val])


def test_plain_records_leave_the_cyclic_gc() -> None:
    rec = native.loads('id:@a "A"\nn:1kW\nm\nd:2024-01-02')[0]
    assert not gc.is_tracked(rec)
    rec["x"] = [rec]
    assert gc.is_tracked(rec)
    assert gc.is_tracked(native.loads("id:@a\nl:[1,2]")[0])


def test_nan_keyword_shared() -> None:
    assert math.isnan(native.loads("a:NaN")[0]["a"].val)
