"""pytest fixtures giving tests real Redis servers: ``pytest_plugins = ["hxredis.testing"]``.

* ``stack_server``: Redis Stack with the RedisTimeSeries module, one per test session;
* ``plain_server``: Redis without modules, one per test session;
* ``redis_server``: each test using it runs twice, against both servers.

The servers are started by :mod:`hxredis.server` on free loopback ports with private data
directories and stopped at the end of the session.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import RedisServer, start_server

__all__ = ["plain_server", "redis_server", "stack_server"]


@pytest.fixture(scope="session")
def stack_server() -> Iterator[RedisServer]:
    """Redis Stack with the RedisTimeSeries module, for the whole test session."""
    with start_server(timeseries=True) as server:
        yield server


@pytest.fixture(scope="session")
def plain_server() -> Iterator[RedisServer]:
    """Redis without modules, for the whole test session."""
    with start_server(timeseries=False) as server:
        yield server


@pytest.fixture(params=["stack", "plain"])
def redis_server(request: pytest.FixtureRequest) -> RedisServer:
    """Each test using this runs twice: against the TimeSeries server and the plain one."""
    return request.getfixturevalue(f"{request.param}_server")
