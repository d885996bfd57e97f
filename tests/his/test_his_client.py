"""The RedisTimeSeries commands of hx.RedisClient that history added."""

from __future__ import annotations

import pytest

import hxredis as hx


def test_ts_revrange_and_info(stack_server, key_prefix: str) -> None:
    with hx.RedisClient(stack_server.client()) as client:
        key = key_prefix + "series"
        client.ts_create(key, duplicate_policy="last")
        for t in (1, 2, 3):
            client.ts_add(key, t, t * 1.5)
        assert client.ts_revrange(key, "-", "+", count=2) == [(3, 4.5), (2, 3.0)]
        info = client.ts_info(key)
        assert info["total_samples"] == 3
        assert (info["first_timestamp"], info["last_timestamp"]) == (1, 3)
        assert info["duplicate_policy"] == "last"


def test_ts_commands_need_the_module(plain_server) -> None:
    with hx.RedisClient(plain_server.client()) as client, pytest.raises(hx.HisConfigError):
        client.ts_info("x")
