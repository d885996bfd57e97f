"""The native RESP encoder equals the reference and redis-py byte for byte."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis._parsers.encoders import Encoder
from redis.connection import Connection, PythonRespSerializer

from hxredis import resp
from hxredis._fastcore import resp as native

_redis_py = PythonRespSerializer(6000, Encoder("utf-8", "strict", False).encode)


def redis_py_pack(*args) -> bytes:
    return b"".join(_redis_py.pack(*args))


args_strategy = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=100),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.just(b""),
    st.just(""),
)
names = st.one_of(
    st.sampled_from(["SET", "TS.MADD", "CONFIG GET", "ZADD", b"GET", b"OBJECT ENCODING"]),
    st.text(min_size=1, max_size=20),
    st.binary(min_size=1, max_size=20),
)


@given(names, st.lists(args_strategy, max_size=12))
def test_native_equals_reference_and_redis_py(name, args) -> None:
    expected = redis_py_pack(name, *args)
    assert resp.py_pack_command(name, *args) == expected
    assert native.pack_command(name, *args) == expected


@given(st.lists(st.tuples(names, st.lists(args_strategy, max_size=5)), max_size=8))
def test_pack_commands_concatenates(commands) -> None:
    flat = [(name, *args) for name, args in commands]
    expected = b"".join(redis_py_pack(*c) for c in flat)
    assert native.pack_commands(flat) == expected
    assert resp.py_pack_commands(flat) == expected


def test_matches_the_connection_in_use() -> None:
    conn = Connection()
    args = ("TS.MADD", "k", 1_700_000_000_000, 21.5, "k2", 1, -0.0)
    assert native.pack_command(*args) == b"".join(conn.pack_command(*args))


def test_bytes_like_and_unicode() -> None:
    expected = b"*4\r\n$3\r\nSET\r\n$2\r\n\xc3\xa9\r\n$3\r\nabc\r\n$2\r\nxy\r\n"
    args = ("SET", "é", bytearray(b"abc"), memoryview(b"xy"))
    assert native.pack_command(*args) == expected
    assert resp.py_pack_command(*args) == expected


@pytest.mark.parametrize("bad", [True, None, object(), [1, 2]])
@pytest.mark.parametrize("pack", [native.pack_command, resp.py_pack_command])
def test_unsupported_argument_types_raise_type_error(pack, bad) -> None:
    with pytest.raises(TypeError, match="Invalid input of type"):
        pack("SET", "k", bad)


@pytest.mark.parametrize("pack", [native.pack_command, resp.py_pack_command])
def test_empty_command_is_rejected(pack) -> None:
    with pytest.raises(ValueError, match="at least a name"):
        pack()


def test_facade_uses_native_when_built() -> None:
    assert resp.NATIVE
    assert resp.pack_command is native.pack_command


def test_write_buffer_accumulates_and_clears() -> None:
    buf = native.WriteBuffer(16)
    for i in range(1000):  # grows well past its first capacity
        buf.add_command("ZADD", "k", i, f"m{i}")
    expected = b"".join(redis_py_pack("ZADD", "k", i, f"m{i}") for i in range(1000))
    assert buf.getvalue() == expected
    assert len(buf) == len(expected)
    buf.clear()
    assert buf.getvalue() == b""


def test_packed_commands_are_understood_by_redis(redis_server, key_prefix) -> None:
    client = redis_server.client()
    conn = client.connection_pool.get_connection()
    try:
        key = key_prefix + "raw"
        conn.send_packed_command([native.pack_commands([("SET", key, "é\r\n"), ("GET", key)])])
        assert conn.read_response() == b"OK"
        assert conn.read_response() == "é\r\n".encode()
    finally:
        client.connection_pool.release(conn)
