"""The Redis client layer: URIs, module detection and RedisTimeSeries commands."""

from __future__ import annotations

import pytest

import hxredis as hx
from hxredis.server import RedisServer


def test_module_detection_follows_the_server(redis_server: RedisServer) -> None:
    with hx.RedisClient.from_url(redis_server.url) as client:
        names = {m["name"] for m in client.module_list()}
        assert ("timeseries" in names) is redis_server.has_timeseries
        assert client.has_module("timeseries") is redis_server.has_timeseries
        assert not client.has_module("nosuchmodule")


def test_timeseries_commands(stack_server: RedisServer, key_prefix: str) -> None:
    key = key_prefix + "ts"
    with hx.RedisClient.from_url(stack_server.url) as client:
        client.ts_create(key, duplicate_policy="last")
        assert client.ts_add(key, 1_000, 1.5) == 1_000
        assert client.ts_madd([(key, 2_000, 2.5), (key, 3_000, 3.5), (key, 2_000, 9.0)]) == [
            2_000,
            3_000,
            2_000,
        ]
        assert client.ts_range(key, "-", "+") == [(1_000, 1.5), (2_000, 9.0), (3_000, 3.5)]
        assert client.ts_range(key, 1_500, 2_500) == [(2_000, 9.0)]
        assert client.ts_del_range(key, 0, 2_000) == 2
        assert client.ts_range(key, "-", "+") == [(3_000, 3.5)]


def test_timeseries_commands_need_the_module(plain_server: RedisServer, key_prefix: str) -> None:
    with hx.RedisClient.from_url(plain_server.url) as client:
        with pytest.raises(hx.HisConfigError, match="no RedisTimeSeries module"):
            client.ts_add(key_prefix + "ts", 1, 1.0)
        assert client.redis.exists(key_prefix + "ts") == 0


@pytest.mark.parametrize(
    "uri",
    ["http://localhost:6379", "redis://localhost:6379/notanint", "localhost:6379", ""],
)
def test_malformed_uris_are_value_errors(uri: str) -> None:
    with pytest.raises(ValueError, match="invalid Redis URI"):
        hx.RedisClient.from_url(uri)


def test_password_never_in_uri_errors() -> None:
    with pytest.raises(ValueError) as info:
        hx.RedisClient.from_url("redis://user:s3cret@localhost:6379/x1")
    assert "s3cret" not in str(info.value)
    assert "***" in str(info.value)
