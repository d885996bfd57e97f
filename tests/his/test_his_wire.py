"""The native bulk wire format equals its pure-Python reference byte for byte; the reply
scanners never crash or hang on arbitrary bytes."""

from __future__ import annotations

import itertools

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
def test_fuzz_builders_equal_the_reference(data, offset: int) -> None:
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
def test_fuzz_range_parser_equals_the_reference(pairs, double: bool) -> None:
    data = b"junk" + _range_reply([t for t, _ in pairs], [c for _, c in pairs], double)
    got = native.parse_ts_range(data, 4, 7)
    ref = wire.py_parse_ts_range(data, 4, 7)
    assert np.array_equal(got[0], ref[0])
    assert np.array_equal(got[1], ref[1], equal_nan=True)
    assert got[2] == ref[2] == len(data)
    assert native.skip_reply(data, 4) == wire.py_skip_reply(data, 4) == (len(data), [])


@given(pairs=st.lists(st.tuples(st.integers(-(2**50), 2**50), codes), max_size=30))
def test_fuzz_member_parser_equals_the_reference(pairs) -> None:
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


def _resp(value) -> bytes:
    """RESP text of a nested test value: int, bytes (bulk), str (error), list (array)."""
    if isinstance(value, int):
        return b":%d\r\n" % value
    if isinstance(value, bytes):
        return b"$%d\r\n%s\r\n" % (len(value), value)
    if isinstance(value, str):
        return b"-%s\r\n" % value.encode()
    return b"*%d\r\n" % len(value) + b"".join(_resp(v) for v in value)


resp_values = st.recursive(
    st.integers(-(2**60), 2**60)
    | st.binary(max_size=12)
    | st.text("ERR bad\r", min_size=1, max_size=8).filter(lambda t: "\r" not in t),
    lambda inner: st.lists(inner, max_size=5),
    max_leaves=20,
)


def _scan(scanner, pieces: list[bytes]):
    """Feed ``pieces`` in turn: ``(piece index, end, errors)`` or the error's type name."""
    scanner.reset()
    try:
        for i, piece in enumerate(pieces):
            end = scanner.feed(piece, 0)
            if end >= 0:
                return i, end, scanner.errors
    except ValueError as exc:
        return type(exc).__name__
    return None


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted({c % (len(data) + 1) for c in cuts}), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@given(value=resp_values, cuts=st.lists(st.integers(0, 10_000), max_size=8))
def test_reply_scanner_finds_the_reply_end_across_pieces(value, cuts) -> None:
    data = _resp(value) + b":7\r\n"  # the next reply must be left alone
    end, errors = native.skip_reply(data, 0)
    pieces = _split(data, cuts)
    for scanner in (native.ReplyScanner(), wire.PyReplyScanner()):
        i, stop, found = _scan(scanner, pieces)
        assert sum(map(len, pieces[:i])) + stop == end
        assert found == errors


@given(
    data=st.binary(max_size=80) | st.text("*$:+-,_%!2\r\n1a:", max_size=60).map(str.encode),
    cuts=st.lists(st.integers(0, 100), max_size=5),
)
def test_reply_scanners_on_arbitrary_pieces(data: bytes, cuts) -> None:
    pieces = _split(data, cuts)
    assert _scan(native.ReplyScanner(), pieces) == _scan(wire.PyReplyScanner(), pieces)


def test_reply_scanner_reports_blob_errors_across_every_cut() -> None:
    data = b"*2\r\n!5\r\nWRONG\r\n+OK\r\n"
    for scanner in (native.ReplyScanner(), wire.PyReplyScanner()):
        for cut in range(len(data) + 1):
            pieces = [data[:cut], data[cut:]]
            i, stop, errors = _scan(scanner, pieces)
            assert (len(pieces[0]) * i + stop, errors) == (len(data), ["WRONG"])
