"""The native value codes equal CPython's conversions bit for bit: ``format_float`` writes what
``repr`` writes, ``parse_float`` reads what ``float()`` reads (floattext.h)."""

from __future__ import annotations

import math
import random
import struct
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hxredis._fastcore import hisbuf as native
from hxredis.his import wire

MAX = 1.7976931348623157e308
TINY = 5e-324


def _bits(v: float) -> bytes:
    return b"nan" if math.isnan(v) else struct.pack("<d", v)


def _random_doubles(n: int, seed: int) -> list[float]:
    """Finite doubles of uniformly random bit patterns."""
    bits = np.random.default_rng(seed).integers(0, 2**64, n, dtype=np.uint64, endpoint=False)
    vals = bits.view(np.float64)
    return vals[np.isfinite(vals)].tolist()


def _assert_formats(values) -> None:
    for v in values:
        for x in (v, -v):
            assert native.format_float(x) == wire.py_format_float(x) == repr(x).encode(), x


def _assert_parses(texts) -> None:
    for text in texts:
        assert _bits(native.parse_float(text)) == _bits(float(text)), text


def _rts_text(v: float, upper: bool = True) -> bytes:
    """``v`` as RedisTimeSeries writes it in exponent form: shortest digits, ``1.2345E-1``."""
    sign, digits, exp = Decimal(repr(v)).normalize().as_tuple()
    text = "".join(map(str, digits))
    x = int(exp) + len(text) - 1
    mant = text[0] + ("." + text[1:] if len(text) > 1 else "")
    return f"{'-' if sign else ''}{mant}{'E' if upper else 'e'}{x}".encode()


# --- formatting ------------------------------------------------------------------------------


@settings(max_examples=3000)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_fuzz_format_equals_repr(v: float) -> None:
    _assert_formats([v])


def test_format_equals_repr_on_random_bit_patterns() -> None:
    for v in _random_doubles(1_000_000, seed=10):
        assert native.format_float(v) == repr(v).encode(), v


@pytest.mark.slow
def test_many_random_bit_patterns_format_and_parse_back() -> None:
    for seed in range(12, 17):
        for v in _random_doubles(1_000_000, seed=seed):
            code = native.format_float(v)
            assert code == repr(v).encode(), v
            assert native.parse_float(code) == v, code


def test_format_near_powers_of_two_and_ten() -> None:
    values = []
    for e in range(-1074, 1024):
        values.append(2.0**e)
    for k in range(-323, 309):
        values.append(float(f"1e{k}"))
    for v in list(values):
        values += [math.nextafter(v, 0), math.nextafter(v, math.inf)]
        values += [math.nextafter(math.nextafter(v, 0), 0), v * 3, v * 5, v * 7 / 3]
    _assert_formats(v for v in values if math.isfinite(v))


def test_format_integers_around_2_53() -> None:
    values = []
    for base in (2**53, 2**52, 2**54, 10**15, 10**16, 10**17, 2**63, 2**64):
        values += [float(base + i) for i in range(-300, 300)]
        values += [float(base) + 0.5 * i for i in range(-50, 50)]
    values += [float(i) for i in range(-2000, 2000)]
    _assert_formats(values)


def test_format_short_decimals() -> None:
    values = [float(f"{k}e{x}") for k in range(1, 1000) for x in range(-25, 25)]
    values += [k / 10**d for k in range(1, 300) for d in range(0, 20)]
    _assert_formats(values)


def test_format_ties_and_extremes() -> None:
    values = [1000000000000000.25, 1000000000000000.75, 999999999999999.5, 4503599627370496.5]
    values += [2.0**52 + 0.5 * i for i in range(1, 40)] + [10.0**15 + 0.125 * i for i in range(64)]
    values += [0.5 + 2.0**-i for i in range(1, 53)] + [9.5, 0.25, 0.125, 1e-4, 1e-5]
    values += [MAX, TINY, 2.2250738585072014e-308, 2.225073858507201e-308, 1e308, 1e-308]
    values += [TINY * i for i in range(1, 2000)] + [MAX / 2**i for i in range(60)]
    values += [v / 3 for v in (1e16, 1e17, 1e-4, 1e-5, 1e15)]
    _assert_formats(values)


def test_format_exact_ties_go_to_the_even_digit() -> None:
    """Float32 values and dyadic fractions are often exactly halfway between two 16- or
    17-digit decimals that both round back (``21.7279205322265625`` is ``21.727920532226562``)."""
    rng = np.random.default_rng(6)
    values = np.float32(rng.normal(20, 5, 50000)).astype(np.float64).tolist()
    values += (rng.integers(1, 2**40, 50000) / 2.0 ** rng.integers(1, 45, 50000)).tolist()
    values += [21.7279205322265625, 16.7987823486328125, 1974014629615873.75]
    _assert_formats(values)


def test_format_subnormals() -> None:
    rng = random.Random(3)
    values = [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(52)))[0] for _ in range(20000)]
    _assert_formats(values)


def test_format_special_values() -> None:
    for v, code in ((0.0, b"0.0"), (-0.0, b"-0.0"), (math.inf, b"inf"), (-math.inf, b"-inf")):
        assert native.format_float(v) == wire.py_format_float(v) == code
    assert native.format_float(math.nan) == wire.py_format_float(-math.nan) == b"nan"
    assert [native.format_float(v) for v in (1.0, 1e16, 1e-5, 20.1, 1e15)] == [
        b"1.0",
        b"1e+16",
        b"1e-05",
        b"20.1",
        b"1000000000000000.0",
    ]


# --- parsing ---------------------------------------------------------------------------------


def test_parse_equals_float_on_repr_and_timeseries_texts() -> None:
    texts = []
    rng = random.Random(4)
    for v in _random_doubles(100_000, seed=11) + [rng.normalvariate(20, 5) for _ in range(20000)]:
        texts += [repr(v).encode(), _rts_text(v), _rts_text(v, upper=False)]
        texts += [b"%.17g" % v, b"%.17G" % v, b"%.16E" % v]
    _assert_parses(texts)


def test_parse_random_digit_strings() -> None:
    rng = random.Random(5)
    texts = []
    for _ in range(200_000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 25)))
        if rng.random() < 0.3:
            digits = "0" * rng.randint(1, 5) + digits
        if rng.random() < 0.7:
            cut = rng.randint(1, len(digits))
            digits = digits[:cut] + "." + digits[cut:]
        if rng.random() < 0.7:
            sign = rng.choice(["", "+", "-"])
            digits += rng.choice("eE") + sign + str(rng.randint(0, 340))
        texts.append((rng.choice(["", "-"]) + digits).encode())
    _assert_parses(texts)


def test_parse_edge_cases() -> None:
    texts = [b"0", b"-0", b"0.0", b"-0.0", b"0e999", b"5E-324", b"4.9406564584124654E-324"]
    texts += [b"2.2250738585072014E-308", b"2.2250738585072011e-308", b"1.7976931348623157E308"]
    texts += [b"1.7976931348623158e308", b"1.7976931348623159e308", b"1E308", b"1e+308", b"1E-7"]
    texts += [b"9007199254740993", b"9007199254740992", b"9007199254740995", b"1e23", b"8.5e-323"]
    texts += [b"1000000000000000.25", b"4503599627370496.5", b"0.1", b"123456789012345678901234"]
    texts += [b"1E400", b"1e-400", b"18446744073709551615", b"9999999999999999999", b"5."]
    _assert_parses(texts)
    assert _bits(native.parse_float(b"-0")) == _bits(-0.0)


def test_parse_non_numbers_like_the_reference() -> None:
    texts = [b"", b"NA", b"nan", b"-nan", b"inf", b"-inf", b"-infinity", b"-ixx", b"sText"]
    texts += [b"C(1.0,2.0)", b"0x10", b"1_0", b"1 ", b"1e", b"1.2.3", b"-", b"-.5", b"+1", b"1e+"]
    texts += [b"1" * 63, b"1" * 62]
    for text in texts:
        assert _bits(native.parse_float(text)) == _bits(wire.py_parse_float(text)), text
    reply = b"*%d\r\n" % len(texts) + b"".join(b"$%d\r\n0:%s\r\n" % (len(t) + 2, t) for t in texts)
    got, ref = native.parse_members(reply, 0), wire.py_parse_members(reply, 0)
    assert [_bits(v) for v in got[1].tolist()] == [_bits(v) for v in ref[1].tolist()]


@settings(max_examples=2000)
@given(st.text("0123456789.eE+-_ inaf", max_size=30).map(str.encode) | st.binary(max_size=30))
def test_parse_arbitrary_text_equals_the_reference(text: bytes) -> None:
    assert _bits(native.parse_float(text)) == _bits(wire.py_parse_float(text))
