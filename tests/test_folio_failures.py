"""Failures: Redis stopped mid-way, a reply lost after Redis applied a commit, a Redis error
inside the commit script.  A failed commit raises, applies nothing (in Redis or in the cache)
and leaves the Folio usable; the cache changes only after Redis confirmed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.folio_util import (
    add_rec,
    commit,
    keys_of,
    rec_state,
    stored_trio,
    stored_version,
    wait_for,
)
from helpers.proxy import ReplyDroppingProxy

import hxredis as hx
from hxredis.server import RedisServer, start_server

M = hx.MARKER

#: What a commit raises when Redis is unreachable.
UNREACHABLE = hx.ConnectionError


def n(val: float) -> hx.Number:
    return hx.Number(val)


@pytest.fixture(params=[True, False], ids=["stack", "plain"])
def private_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RedisServer]:
    """A server of this test only, persisting into tmp_path/data so it can be restarted."""
    server = start_server(timeseries=request.param, persistence=True, data_dir=tmp_path / "data")
    server.test_timeseries = request.param  # type: ignore[attr-defined]
    yield server
    server.stop()


def restart(server: RedisServer) -> RedisServer:
    """Start the same kind of server again on the same port and data directory."""
    return start_server(
        timeseries=server.test_timeseries,  # type: ignore[attr-defined]
        persistence=True,
        data_dir=server.data_dir,
        port=server.port,
    )


def test_commit_while_redis_is_stopped(private_server: RedisServer, db_name: str) -> None:
    db = hx.open(private_server.url, name=db_name)
    try:
        a = add_rec(db, {"dis": "a", "v": n(1), "site": M})
        b = add_rec(db, {"dis": "b", "v": n(1)})
        ver = db.cur_ver
        before = {r["id"].id: rec_state(r) for r in db.read_all("id")}
        private_server.stop()

        attempts = [
            lambda: commit(db, a, {"v": n(2)}),
            lambda: db.commit_all([hx.Diff(a, {"v": n(3)}), hx.Diff(b, {"v": n(3)})]),
            lambda: db.commit_all([hx.Diff(a, {"v": n(4)}), hx.Diff.make_add({"dis": "new"})]),
            lambda: add_rec(db, {"dis": "new"}, hx.Ref("new-while-down")),
            lambda: db.commit(hx.Diff(b, None, hx.Diff.REMOVE)),
            lambda: commit(db, a, {"trash": M}),
        ]
        for attempt in attempts:
            with pytest.raises(UNREACHABLE) as info:
                attempt()
            assert "Error" in type(info.value).__name__
            # the cache is unchanged and still answers reads
            assert {r["id"].id: rec_state(r) for r in db.read_all("id")} == before
            assert db.cur_ver == ver
            assert db.read_count("site") == 1
            assert db.read_by_id("new-while-down", False) is None

        # Redis comes back: nothing had been applied, and the same Folio works again
        server = restart(private_server)
        try:
            with hx.open(server.url, name=db_name) as fresh:
                assert {r["id"].id: rec_state(r) for r in fresh.read_all("id")} == before
                assert fresh.cur_ver == ver
            a2 = commit(db, a, {"v": n(5)})
            assert a2["v"] == n(5)
            assert stored_version(db) == ver + 1
        finally:
            server.stop()
    finally:
        db.close()


def test_transient_commits_do_not_need_redis(private_server: RedisServer, db_name: str) -> None:
    db = hx.open(private_server.url, name=db_name)
    try:
        pt = add_rec(db, {"dis": "pt", "point": M})
        private_server.stop()
        res = db.commit(hx.Diff(pt, {"curVal": n(7)}, hx.Diff.TRANSIENT))
        assert res.new_rec["curVal"] == n(7)
        assert db.read("curVal == 7")["id"] == pt["id"]
    finally:
        db.close()


def test_follower_recovers_after_restart(private_server: RedisServer, db_name: str) -> None:
    follower = hx.open(private_server.url, name=db_name)
    try:
        add_rec(follower, {"dis": "before"})
        private_server.stop()
        server = restart(private_server)
        try:
            with hx.open(server.url, name=db_name) as writer:
                rec = add_rec(writer, {"dis": "after restart"})
            wait_for(
                lambda: follower.read_by_id(rec["id"], False),
                timeout=10,
                what="the follower to reconnect",
            )
        finally:
            server.stop()
    finally:
        follower.close()


def test_close_while_redis_is_stopped(private_server: RedisServer, db_name: str) -> None:
    db = hx.open(private_server.url, name=db_name)
    private_server.stop()
    db.close()
    assert db.is_closed


@pytest.fixture
def proxy(redis_server: RedisServer) -> Iterator[ReplyDroppingProxy]:
    p = ReplyDroppingProxy(redis_server.port)
    yield p
    p.close()


def test_reply_lost_is_settled_as_applied(
    proxy: ReplyDroppingProxy, redis_server: RedisServer, db_name: str
) -> None:
    """The commit reached Redis but its answer did not reach us: the outcome is settled
    through the change stream (it was applied, once), never by sending the commit again."""
    with hx.open(proxy.url, name=db_name) as db:
        rec = add_rec(db, {"dis": "x", "n": n(0)})
        ver = stored_version(db)
        proxy.drop_next_reply_to("EVALSHA")
        assert commit(db, rec, {"n": n(1)})["n"] == n(1)
        assert proxy.dropped.is_set()
        assert stored_version(db) == ver + 1
        assert db.cur_ver == ver + 1
        with hx.open(redis_server.url, name=db_name) as fresh:
            assert rec_state(fresh.read_by_id(rec["id"])) == rec_state(db.read_by_id(rec["id"]))
        current = db.read_by_id(rec["id"])
        assert commit(db, current, {"n": n(2)})["n"] == n(2)


def test_request_lost_is_settled_as_not_applied(
    proxy: ReplyDroppingProxy, redis_server: RedisServer, db_name: str
) -> None:
    """The commit never reached Redis: a ConnectionError that says nothing was applied,
    and the script can no longer run should it arrive late."""
    with hx.open(proxy.url, name=db_name) as db:
        rec = add_rec(db, {"dis": "x", "n": n(0)})
        ver = stored_version(db)
        proxy.drop_next_request("EVALSHA")
        with pytest.raises(hx.ConnectionError, match="the commit was not applied"):
            commit(db, rec, {"n": n(1)})
        assert stored_version(db) == ver
        assert db.read_by_id(rec["id"])["n"] == n(0)
        assert commit(db, rec, {"n": n(2)})["n"] == n(2)
        with hx.open(redis_server.url, name=db_name) as fresh:
            assert fresh.read_by_id(rec["id"])["n"] == n(2)


def test_commit_script_error_applies_nothing(db: hx.Folio, open_db) -> None:
    a = add_rec(db, {"dis": "a"})
    text, ver = stored_trio(db, a["id"].id), stored_version(db)
    db.client.set(keys_of(db).tag("foo"), "not a set")
    with pytest.raises(Exception):  # noqa: B017 - any error will do; nothing may be applied
        commit(db, a, {"dis": "changed", "foo": M})
    assert db.read_by_id(a["id"])["dis"] == "a"
    assert stored_version(db) == ver
    assert stored_trio(db, a["id"].id) == text


def test_failed_commits_do_not_break_the_connection(db: hx.Folio) -> None:
    """An error reply (duplicate add, stale mod, missing record) never desynchronises the
    connection: the next commands get their own answers."""
    a = add_rec(db, {"dis": "a", "v": n(0)})
    stale = a
    a = commit(db, a, {"v": n(1)})
    for _ in range(3):
        with pytest.raises(hx.CommitError):
            add_rec(db, {"dis": "dup"}, a["id"])
        with pytest.raises(hx.ConcurrentChangeError):
            commit(db, stale, {"v": n(9)})
        a = commit(db, a, {"v": n(a["v"].val + 1)})
    assert db.read_by_id(a["id"])["v"] == n(4)
    assert hx.trio.loads(stored_trio(db, a["id"].id))[0]["v"] == n(4)


def test_open_refuses_a_records_key_of_another_type(
    redis_server: RedisServer, db_name: str
) -> None:
    client = redis_server.client()
    client.set(f"hx:{{{db_name}}}:recs", "not records")
    with pytest.raises(hx.LoadError, match=rf"hx:\{{{db_name}\}}:recs.* holds a string"):
        hx.open(redis_server.url, name=db_name, follow=False)
    assert client.get(f"hx:{{{db_name}}}:recs") == b"not records"  # left as it was
    with hx.open(redis_server.url, name=f"{db_name}-other", follow=False) as other:
        assert other.read_count("id") == 0


@pytest.mark.parametrize(
    ("suffix", "kind", "write"),
    [
        ("ver", "hash", ("HSET", "x", "1")),
        ("changes", "list", ("RPUSH", "x")),
        ("meta", "set", ("SADD", "x")),
    ],
)
def test_open_refuses_any_key_of_another_type(
    redis_server: RedisServer, db_name: str, suffix: str, kind: str, write: tuple[str, ...]
) -> None:
    client = redis_server.client()
    key = f"hx:{{{db_name}}}:{suffix}"
    client.execute_command(write[0], key, *write[1:])
    with pytest.raises(hx.LoadError, match=rf"hx:\{{{db_name}\}}:{suffix}.* holds a {kind}"):
        hx.open(redis_server.url, name=db_name, follow=False)
    assert client.type(key).decode() == kind  # left as it was
