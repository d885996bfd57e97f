"""Commits and reads when Redis is paused, full, read-only or refusing (issue 9, items 7, 8
and 11): a commit is never sent twice and its outcome is settled or reported as unknown,
reads never wait on the network, and every Redis failure reaches the caller as an
hx.FolioError that names the server."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator

import pytest
import redis
from helpers.folio_util import add_rec, keys_of, stored_version

import hxredis as hx
from hxredis import store
from hxredis.redis_errors import translate
from hxredis.server import RedisServer, start_server

M = hx.MARKER


def n(val: float) -> hx.Number:
    return hx.Number(val)


@pytest.fixture(params=[True, False], ids=["stack", "plain"])
def private_server(request: pytest.FixtureRequest) -> Iterator[RedisServer]:
    """A server of this test only, free to pause and reconfigure."""
    server = start_server(timeseries=request.param)
    yield server
    _resume(server.process.pid)
    server.stop()


def pause(server: RedisServer, seconds: float) -> threading.Timer:
    """SIGSTOP the server now and SIGCONT it after ``seconds``."""
    os.kill(server.process.pid, signal.SIGSTOP)
    timer = threading.Timer(seconds, _resume, (server.process.pid,))
    timer.start()
    return timer


def _resume(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGCONT)


def stream_entries(db: hx.Folio) -> int:
    return db.client.xlen(keys_of(db).changes)


# ------------------------------------------------------------------------------------------
# item 7: a commit is sent once
# ------------------------------------------------------------------------------------------


def test_commits_while_the_server_is_paused_apply_once(
    private_server: RedisServer, db_name: str
) -> None:
    """The server is paused longer than the socket timeout.  Each commit either applies
    exactly once and reports success, or reports a TimeoutError saying it was not applied
    (when no connection could be made to send it).  It used to be re-sent: 'Rec already
    exists', a ConcurrentChangeError, a FORCE update applied twice."""
    with hx.open(private_server.url, name=db_name, socket_timeout=0.5) as db:
        rec = add_rec(db, {"dis": "a", "v": n(0)})
        for diff in (
            hx.Diff.make_add({"dis": "b"}),
            hx.Diff(rec, {"v": n(1)}, hx.Diff.FORCE),
            hx.Diff(rec, {"v": n(2)}, hx.Diff.FORCE),
        ):
            ver, entries = stored_version(db), stream_entries(db)
            timer = pause(private_server, 1.5)
            try:
                result = db.commit(diff).new_rec
            except hx.TimeoutError as exc:
                assert "the commit was not applied" in str(exc)
                timer.join()
                assert stored_version(db) == ver
                assert stream_entries(db) == entries
                continue
            timer.join()
            assert stored_version(db) == ver + 1
            assert stream_entries(db) == entries + 1
            assert db.read_by_id(result["id"]) == result
            with hx.open(private_server.url, name=db_name, follow=False) as fresh:
                assert fresh.read_by_id(result["id"])["mod"] == result["mod"]


def test_a_commit_whose_outcome_cannot_be_known(
    private_server: RedisServer, db_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redis stays unreachable past the settling deadline: CommitOutcomeUnknownError (a
    CommitError), nothing re-sent; once Redis is back, sync() shows what really happened."""
    monkeypatch.setattr(store, "_RESOLVE_SECONDS", 1.0)
    with hx.open(private_server.url, name=db_name, socket_timeout=0.3) as db:
        rec = add_rec(db, {"dis": "a", "v": n(0)})
        ver = stored_version(db)
        timer = pause(private_server, 3.0)
        with pytest.raises(hx.CommitOutcomeUnknownError, match="cannot be known") as raised:
            db.commit(hx.Diff(rec, {"v": n(1)}))
        assert isinstance(raised.value, hx.CommitError)
        assert f"127.0.0.1:{private_server.port}" in str(raised.value)
        assert db.read_by_id(rec["id"])["v"] == n(0)  # the cache shows only what was confirmed
        timer.join()
        db.sync()
        stored = stored_version(db)
        assert stored in (ver, ver + 1)  # applied once, or not at all: never twice
        with hx.open(private_server.url, name=db_name, follow=False) as fresh:
            truth = fresh.read_by_id(rec["id"])
        assert db.read_by_id(rec["id"])["v"] == truth["v"] == n(stored - ver)


def test_a_cancelled_commit_can_no_longer_run(redis_server: RedisServer, db_name: str) -> None:
    """The settling script marks a commit that had not arrived as cancelled; should the
    commit arrive later, it does nothing."""
    with hx.open(redis_server.url, name=db_name, follow=False) as db:
        rec = add_rec(db, {"dis": "a"})
        keys = keys_of(db)
        token = "t" * 32
        verdict = db._store._run_once(
            db._store._resolve, [keys.changes, keys.cancelled(token)], [token, "0-0", 60_000]
        )
        assert verdict == [b"cancelled"]
        ver = stored_version(db)
        write = store.RecordWrite("r", rec["id"].id, hx.zinc.dumps(rec["mod"]), "", "")
        args = [db._store.source, 1000, token, 1, *store_args(write)]
        reply = db._store._run_once(
            db._store._commit,
            [keys.recs, keys.mods, keys.ver, keys.changes, keys.his_gc, keys.cancelled(token)],
            args,
        )
        assert reply == [b"cancelled"]
        assert stored_version(db) == ver
        assert db.client.hexists(keys.recs, rec["id"].id)


def store_args(write: store.RecordWrite) -> list:
    return [write.op, write.id, write.base_mod, write.new_mod, write.trio, 0, 0]


# ------------------------------------------------------------------------------------------
# item 8: reads never wait on Redis
# ------------------------------------------------------------------------------------------


def test_reads_answer_while_a_commit_waits_on_a_paused_server(
    private_server: RedisServer, db_name: str
) -> None:
    with hx.open(private_server.url, name=db_name, socket_timeout=2) as db:
        recs = [add_rec(db, {"dis": f"r{i}", "point": M}) for i in range(5)]
        timer = pause(private_server, 3.0)
        committing = threading.Thread(target=lambda: db.commit(hx.Diff(recs[0], {"x": M})))
        committing.start()
        try:
            while committing.is_alive() and db._io_lock.acquire(blocking=False):
                db._io_lock.release()  # not yet taken by the committing thread
            found = db.read_all("point")
            counted = db.read_count("point")
            by_id = db.read_by_ids([r["id"] for r in recs])
            assert committing.is_alive()  # the reads did not wait for the commit
        finally:
            timer.join()
            committing.join()
        assert len(found) == counted == len(by_id) == 5
        assert db.read_by_id(recs[0]["id"])["x"] == M


# ------------------------------------------------------------------------------------------
# item 11: Redis failures as hx errors naming the server
# ------------------------------------------------------------------------------------------


def test_unreachable_server(private_server: RedisServer, db_name: str) -> None:
    url, port = private_server.url, private_server.port
    db = hx.open(url, name=db_name)
    private_server.stop()
    try:
        with pytest.raises(hx.ConnectionError, match=f"127.0.0.1:{port}") as raised:
            add_rec(db, {"dis": "a"})
        assert isinstance(raised.value, ConnectionError)  # the built-in, too
        with pytest.raises(hx.ConnectionError, match="is the server running"):
            db.sync()
    finally:
        db.close()
    with pytest.raises(hx.ConnectionError, match=f"127.0.0.1:{port}"):
        hx.open(url, name=db_name)


def test_wrong_password() -> None:
    secret = "s3cr3t-Pw"
    with start_server(timeseries=False, password=secret) as server:
        url = f"redis://:wrong-{secret}@127.0.0.1:{server.port}/0"
        with pytest.raises(hx.AuthenticationError, match="check the user and password") as raised:
            hx.open(url, name="x")
        assert secret not in str(raised.value)
        assert isinstance(raised.value, PermissionError)


def test_a_user_without_permission(private_server: RedisServer, db_name: str) -> None:
    admin = private_server.client()
    admin.acl_setuser("nobody", enabled=True, passwords=["+pw"], keys=["*"], commands=["+ping"])
    url = f"redis://nobody:pw@127.0.0.1:{private_server.port}/0"
    with pytest.raises(hx.AuthenticationError, match="lacks a permission"):
        hx.open(url, name=db_name)


def test_server_out_of_memory(private_server: RedisServer, db_name: str) -> None:
    with hx.open(private_server.url, name=db_name) as db:
        rec = add_rec(db, {"dis": "a"})
        used = db.client.info("memory")["used_memory"]
        db.client.config_set("maxmemory", used // 2)
        try:
            with pytest.raises(hx.ServerError, match="out of memory") as raised:
                add_rec(db, {"dis": "b" * 10_000})
            assert raised.value.code == "OOM"
            assert db.read_count("dis") == 1
        finally:
            db.client.config_set("maxmemory", 0)
        assert db.read_by_id(rec["id"])["dis"] == "a"


def test_read_only_replica(private_server: RedisServer, db_name: str) -> None:
    with hx.open(private_server.url, name=db_name) as db:
        add_rec(db, {"dis": "a"})
        with start_server(timeseries=False) as unreachable_primary:
            port = unreachable_primary.port
        db.client.replicaof("127.0.0.1", port)
        try:
            with pytest.raises(hx.ReadOnlyError, match="read-only replica") as raised:
                add_rec(db, {"dis": "b"})
            assert isinstance(raised.value, hx.ServerError)
            assert db.read_count("dis") == 1
        finally:
            db.client.replicaof("NO", "ONE")


def test_server_busy_running_a_script(private_server: RedisServer, db_name: str) -> None:
    with hx.open(private_server.url, name=db_name) as db:
        add_rec(db, {"dis": "a"})
        db.client.config_set("busy-reply-threshold", 100)
        looping = private_server.client()
        spinner = threading.Thread(target=_spin, args=(looping,))
        spinner.start()
        try:
            admin = private_server.client()
            while not _busy(admin):
                pass
            with pytest.raises(hx.ServerError, match="busy running a script") as raised:
                add_rec(db, {"dis": "b"})
            assert raised.value.code == "BUSY"
        finally:
            private_server.client().script_kill()
            spinner.join()
        assert add_rec(db, {"dis": "c"})["dis"] == "c"
        assert db.read_count("dis") == 2


def _spin(client: redis.Redis) -> None:
    with contextlib.suppress(redis.ResponseError):  # "Script killed by user"
        client.eval("while true do end", 0)


def _busy(client: redis.Redis) -> bool:
    try:
        client.ping()
    except redis.ResponseError as exc:
        return str(exc).startswith("BUSY")
    return False


@pytest.mark.parametrize(
    ("error", "expected", "code"),
    [
        (redis.exceptions.BusyLoadingError("Redis is loading"), hx.ServerError, "LOADING"),
        (redis.exceptions.TimeoutError("Timeout reading"), hx.TimeoutError, None),
        (redis.exceptions.ConnectionError("Connection reset"), hx.ConnectionError, None),
        (redis.exceptions.AuthenticationError("WRONGPASS"), hx.AuthenticationError, None),
        (redis.exceptions.NoPermissionError("NOPERM"), hx.AuthenticationError, None),
        (redis.exceptions.OutOfMemoryError("OOM"), hx.ServerError, "OOM"),
        (redis.exceptions.ReadOnlyError("READONLY"), hx.ReadOnlyError, "READONLY"),
        (redis.exceptions.ResponseError("BUSY Redis is busy"), hx.ServerError, "BUSY"),
        (redis.exceptions.ResponseError("ERR something"), hx.ServerError, "ERR"),
    ],
)
def test_every_redis_failure_is_a_folio_error(
    error: Exception, expected: type, code: str | None
) -> None:
    translated = translate(error, "127.0.0.1:7/0")
    assert type(translated) is expected
    assert isinstance(translated, hx.FolioError)
    assert "127.0.0.1:7/0" in str(translated)
    if code is not None:
        assert translated.code == code
