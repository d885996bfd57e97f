"""Real ``hxredis serve`` processes for the HTTP tests, one per Redis server (and more on
demand), each on its own database with three users, one per role."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable, Iterator

import pytest
from http_util import Served, add_users, start_serve

from hxredis.server import RedisServer


@pytest.fixture(scope="session")
def serve_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Served]]:
    """Start ``hxredis serve`` processes (stopped at the end of the session)."""
    started: list[Served] = []
    logs = tmp_path_factory.mktemp("serve-logs")

    def start(
        redis: RedisServer,
        name: str | None = None,
        *extra: str,
        workers: int = 1,
        scheme: str = "http",
    ) -> Served:
        name = name or f"h{uuid.uuid4().hex[:10]}"
        if not any(s.name == name for s in started):
            add_users(redis, name)
        served = start_serve(
            redis, name, logs / f"{name}-{len(started)}.log", *extra, workers=workers, scheme=scheme
        )
        started.append(served)
        return served

    yield start
    for served in started:
        served.proc.terminate()
    for served in started:
        try:
            served.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            served.proc.kill()


@pytest.fixture(scope="session")
def _shared(serve_factory: Callable[..., Served]) -> dict[str, Served]:
    return {}


@pytest.fixture
def served(
    redis_server: RedisServer, serve_factory: Callable[..., Served], _shared: dict[str, Served]
) -> Served:
    """One ``hxredis serve`` per Redis server for the session (both servers in turn)."""
    if redis_server.url not in _shared:
        _shared[redis_server.url] = serve_factory(redis_server)
    return _shared[redis_server.url]
