"""Shared fixtures: real Redis servers (one with RedisTimeSeries, one without) from the
hxredis.testing plugin, per-test isolated database names and Folios."""

from __future__ import annotations

import os
import uuid

import pytest
from hypothesis import HealthCheck, settings

from hxredis.server import RedisServer, start_server

pytest_plugins = ["hxredis.testing"]

settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=100
)
settings.register_profile(
    "fuzz", deadline=None, suppress_health_check=list(HealthCheck), max_examples=20_000
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def db_name() -> str:
    """A database name no other test uses, so tests never see each other's data."""
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def key_prefix(db_name: str) -> str:
    """A key prefix unique to this test (for tests that talk to Redis without a Folio)."""
    return f"hxtest:{db_name}:"


@pytest.fixture
def open_db(redis_server: RedisServer, db_name: str):
    """Open Folios on the parametrized server, all on this test's database; closed after."""
    import hxredis as hx

    opened: list[hx.Folio] = []

    def _open(**kwargs) -> hx.Folio:
        kwargs.setdefault("name", db_name)
        db = hx.open(redis_server.url, **kwargs)
        opened.append(db)
        return db

    yield _open
    for db in opened:
        db.close()


@pytest.fixture
def db(open_db):
    """A Folio on a fresh database of the parametrized server (both servers in turn)."""
    return open_db()


@pytest.fixture(params=[True, False], ids=["stack", "plain"])
def private_server(request: pytest.FixtureRequest, tmp_path):
    """A server of this test only (each kind in turn), persisting into tmp_path/data so that
    it can be restarted (:func:`helpers.folio_util.restart`)."""
    server = start_server(timeseries=request.param, persistence=True, data_dir=tmp_path / "data")
    server.test_timeseries = request.param  # type: ignore[attr-defined]
    yield server
    server.stop()


@pytest.fixture
def proxy(redis_server: RedisServer):
    """A ReplyDroppingProxy in front of the parametrized server."""
    from helpers.proxy import ReplyDroppingProxy

    p = ReplyDroppingProxy(redis_server.port)
    yield p
    p.close()
