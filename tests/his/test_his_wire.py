"""The native bulk wire format equals its pure-Python reference byte for byte; the reply
scanners never crash or hang on arbitrary bytes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from hxredis._fastcore import hisbuf as native
from hxredis.his import wire

int64s = hnp.arrays(np.int64, st.integers(0, 40), elements=st.integers(-(2**50), 2**50))
floats = st.floats(allow_nan=True, allow_infinity=True)


def test_native_is_used() -> None:
    assert wire.NATIVE
    assert wire.ts_madd is native.ts_madd


@given(data=st.data(), offset=st.integers(-(2**40), 2**40))
def test_builders_equal_the_reference(data, offset: int) -> None:
    ts = data.draw(int64s)
    vals = data.draw(hnp.arrays(np.float64, len(ts), elements=floats))
    for name in ("ts_madd", "zadd"):
        built = getattr(native, name)(b"hx:his:{d:p}", ts, vals, offset)
        assert built == getattr(wire, f"py_{name}")(b"hx:his:{d:p}", ts, vals, offset)


def test_builder_text() -> None:
    ts = np.array([1, -2], dtype=np.int64)
    vals = np.array([1.5, np.nan])
    assert native.ts_madd(b"k", ts, vals, 10) == (
        b"*7\r\n$7\r\nTS.MADD\r\n$1\r\nk\r\n$2\r\n11\r\n$3\r\n1.5\r\n$1\r\nk\r\n$1\r\n8\r\n$1\r\n0\r\n"
    )
    assert native.zadd(b"k", ts, vals, 0) == (
        b"*6\r\n$4\r\nZADD\r\n$1\r\nk\r\n$1\r\n1\r\n$5\r\n1:1.5\r\n$2\r\n-2\r\n$6\r\n-2:nan\r\n"
    )
    with pytest.raises(ValueError):
        native.zadd(b"k", ts, vals[:1], 0)


def _range_reply(ts: list[int], codes: list[bytes], double: bool) -> bytes:
    out = [b"*%d\r\n" % len(ts)]
    for t, c in zip(ts, codes, strict=True):
        value = (b"," + c + b"\r\n") if double else (b"$%d\r\n%s\r\n" % (len(c), c))
        out.append(b"*2\r\n:%d\r\n%s" % (t, value))
    return b"".join(out)


codes = st.one_of(
    floats.map(lambda f: repr(f).encode()),
    st.sampled_from([b"NA", b"nan", b"inf", b"-inf", b"sText", b"C(1.0,2.0)", b"1", b"-0.0"]),
)


@given(pairs=st.lists(st.tuples(st.integers(0, 2**60), codes), max_size=30), double=st.booleans())
def test_range_parser_equals_the_reference(pairs, double: bool) -> None:
    data = b"junk" + _range_reply([t for t, _ in pairs], [c for _, c in pairs], double)
    got = native.parse_ts_range(data, 4, 7)
    ref = wire.py_parse_ts_range(data, 4, 7)
    assert np.array_equal(got[0], ref[0])
    assert np.array_equal(got[1], ref[1], equal_nan=True)
    assert got[2] == ref[2] == len(data)
    assert native.skip_reply(data, 4) == wire.py_skip_reply(data, 4) == (len(data), [])


@given(pairs=st.lists(st.tuples(st.integers(-(2**50), 2**50), codes), max_size=30))
def test_member_parser_equals_the_reference(pairs) -> None:
    members = [b"%d:%s" % (t, c) for t, c in pairs]
    data = b"*%d\r\n" % len(members) + b"".join(b"$%d\r\n%s\r\n" % (len(m), m) for m in members)
    got, ref = native.parse_members(data, 0), wire.py_parse_members(data, 0)
    assert np.array_equal(got[0], ref[0])
    assert np.array_equal(got[1], ref[1], equal_nan=True)
    assert got[2] == ref[2] == len(data)


def test_skip_reply_reports_errors_and_incomplete_replies() -> None:
    data = b"*3\r\n:1\r\n-ERR bad\r\n*1\r\n!5\r\nWRONG\r\n"
    for skip in (native.skip_reply, wire.py_skip_reply):
        assert skip(data, 0) == (len(data), ["ERR bad", "WRONG"])
        for cut in range(len(data)):
            assert skip(data[:cut], 0)[0] == -1
        assert skip(b"%1\r\n+a\r\n_\r\n", 0) == (11, [])


def _outcome(fn, *args):
    try:
        result = fn(*args)
    except ValueError:
        return "ValueError"
    if isinstance(result, tuple) and len(result) == 3:
        return (result[0].tolist(), np.nan_to_num(result[1], nan=1234.5).tolist(), result[2])
    return result


@given(data=st.binary(max_size=80) | st.text("*$:+-,_%2\r\n1a:", max_size=60).map(str.encode))
def test_scanners_on_arbitrary_bytes(data: bytes) -> None:
    assert _outcome(native.skip_reply, data, 0) == _outcome(wire.py_skip_reply, data, 0)
    for name, args in (("parse_members", (data, 0)), ("parse_ts_range", (data, 0, 0))):
        assert _outcome(getattr(native, name), *args) == _outcome(
            getattr(wire, f"py_{name}"), *args
        )
