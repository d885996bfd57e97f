"""Faults that used to leave a Folio's cache silently different from Redis (issue 9, items
2 to 6): a trimmed change stream seen from version 0, readers during a reload, a reload cut
off by a Redis failure, Redis losing or rolling back data, and a follower that met an error.
Each runs against real servers; a cache is "right" when it equals a fresh open's."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.folio_util import add_rec, keys_of, rec_state, stored_version, wait_for
from helpers.proxy import ReplyDroppingProxy

import hxredis as hx
from hxredis.server import RedisServer, start_server

M = hx.MARKER


def n(val: float) -> hx.Number:
    return hx.Number(val)


def state(db: hx.Folio) -> dict:
    """Everything a Folio's reads show, comparable across Folios."""
    return {r["id"].id: rec_state(r) for r in db.read_all("id")}


def truth(url: str, name: str) -> dict:
    with hx.open(url, name=name, follow=False) as fresh:
        return state(fresh)


def add_many(db: hx.Folio, count: int, **tags: object) -> list[hx.Rec]:
    diffs = [hx.Diff.make_add({"dis": f"r{i}", "i": n(i), **tags}) for i in range(count)]
    return [d.new_rec for d in db.commit_all(diffs)]


def trim_stream(db: hx.Folio, keep: int) -> None:
    """What a stream bounded to ``keep`` entries does after many commits."""
    db.client.xtrim(keys_of(db).changes, maxlen=keep, approximate=False)


# ------------------------------------------------------------------------------------------
# item 2: a gap in the change stream seen from version 0
# ------------------------------------------------------------------------------------------


def test_reader_of_an_empty_database_notices_a_trimmed_stream(
    redis_server: RedisServer, db_name: str
) -> None:
    with hx.open(redis_server.url, name=db_name, follow=False) as reader:
        assert reader.cur_ver == 0
        with hx.open(redis_server.url, name=db_name, follow=False) as writer:
            for i in range(30):
                add_many(writer, 10, batch=n(i))
            trim_stream(writer, 5)
        reader.sync()
        assert reader.read_count("id") == 300
        assert state(reader) == truth(redis_server.url, db_name)
        assert reader.cur_ver == 30


def test_follower_of_an_empty_database_notices_a_trimmed_stream(
    redis_server: RedisServer, db_name: str
) -> None:
    """A reader whose follower was frozen (here: kept from the cache) while the stream was
    trimmed past everything it had seen."""
    with hx.open(redis_server.url, name=db_name) as reader:
        # the follower cannot apply anything while the lock is held
        with reader._io_lock, hx.open(redis_server.url, name=db_name, follow=False) as writer:
            for i in range(30):
                add_many(writer, 10, batch=n(i))
            trim_stream(writer, 5)
        wait_for(lambda: reader.read_count("id") == 300, timeout=10, what="the follower")
        assert state(reader) == truth(redis_server.url, db_name)


# ------------------------------------------------------------------------------------------
# item 3: readers during a reload keep seeing the old snapshot
# ------------------------------------------------------------------------------------------


def test_readers_never_see_an_empty_database_during_a_reload(
    redis_server: RedisServer, db_name: str
) -> None:
    with hx.open(redis_server.url, name=db_name, follow=False) as db:
        recs = []
        for _ in range(4):
            recs += add_many(db, 5000, point=M)
        probe = recs[len(recs) // 2]["id"]
        misses, reads, done = [], [0], threading.Event()

        def read() -> None:
            while not done.is_set():
                try:
                    assert db.read_by_id(probe)["id"] == probe
                    assert db.read_count("point") == 20_000
                except (hx.UnknownRecError, AssertionError) as exc:
                    misses.append(exc)
                reads[0] += 1

        readers = [threading.Thread(target=read) for _ in range(2)]
        for t in readers:
            t.start()
        try:
            for _ in range(3):
                with db._io_lock:
                    db._reload("a test asked for it")
        finally:
            done.set()
            for t in readers:
                t.join()
        assert reads[0] > 0
        assert misses == []


# ------------------------------------------------------------------------------------------
# item 4: a reload cut off by a Redis failure keeps the cache and the transient tags
# ------------------------------------------------------------------------------------------


@pytest.fixture
def proxy(redis_server: RedisServer) -> Iterator[ReplyDroppingProxy]:
    p = ReplyDroppingProxy(redis_server.port)
    yield p
    p.close()


def test_failed_reload_keeps_cache_and_transient_tags(
    proxy: ReplyDroppingProxy, redis_server: RedisServer, db_name: str
) -> None:
    with hx.open(proxy.url, name=db_name, follow=False) as db:
        recs = add_many(db, 50, point=M)
        db.commit(hx.Diff(recs[0], {"curVal": n(42)}, hx.Diff.TRANSIENT))
        with hx.open(redis_server.url, name=db_name, follow=False) as other:
            add_many(other, 20, extra=M)
            trim_stream(other, 1)  # the next sync has to reload
        proxy.drop_next_reply_to("HSCAN")
        with pytest.raises(hx.ConnectionError):
            db.sync()
        assert db.read_count("point") == 50
        assert db.read_by_id(recs[0]["id"])["curVal"] == n(42)
        db.sync()  # Redis answers again
        assert db.read_count("point") == 50
        assert db.read_count("extra") == 20
        assert db.read_by_id(recs[0]["id"])["curVal"] == n(42)


# ------------------------------------------------------------------------------------------
# item 5: Redis lost or rolled back data
# ------------------------------------------------------------------------------------------


@pytest.fixture(params=[True, False], ids=["stack", "plain"])
def private_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RedisServer]:
    """A server of this test only, persisting into tmp_path/data so it can be restarted."""
    server = start_server(timeseries=request.param, persistence=True, data_dir=tmp_path / "data")
    server.test_timeseries = request.param  # type: ignore[attr-defined]
    yield server
    server.stop()


def restart(server: RedisServer, data_dir: Path | None = None) -> RedisServer:
    server.stop()
    return start_server(
        timeseries=server.test_timeseries,  # type: ignore[attr-defined]
        persistence=True,
        data_dir=data_dir or server.data_dir,
        port=server.port,
    )


def test_restart_with_an_empty_data_directory(
    private_server: RedisServer, tmp_path: Path, db_name: str
) -> None:
    db = hx.open(private_server.url, name=db_name, follow=False)
    try:
        recs = add_many(db, 10, point=M)
        server = restart(private_server, tmp_path / "empty")
        try:
            db.sync()
            assert db.read_count("id") == 0
            assert db.cur_ver == 0
            with pytest.raises(hx.CommitError, match="Rec not found"):
                db.commit(hx.Diff(recs[0], {"dis": "x"}, hx.Diff.FORCE))
            added = add_rec(db, {"dis": "new"})
            assert state(db) == truth(server.url, db_name)
            assert db.read_by_id(added["id"])["dis"] == "new"
        finally:
            server.stop()
    finally:
        db.close()


def test_restart_from_an_older_snapshot(private_server: RedisServer, db_name: str) -> None:
    db = hx.open(private_server.url, name=db_name)
    try:
        recs = add_many(db, 10, point=M)
        private_server.client().save()
        snapshot = private_server.data_dir / "snapshot.copy"
        shutil.copytree(private_server.data_dir, snapshot, ignore=shutil.ignore_patterns("*.copy"))
        updated = db.commit(hx.Diff(recs[0], {"dis": "later"})).new_rec
        add_many(db, 5, later=M)
        private_server.stop()
        for item in private_server.data_dir.iterdir():
            if item != snapshot:
                shutil.rmtree(item) if item.is_dir() else item.unlink()
        for item in snapshot.iterdir():
            target = private_server.data_dir / item.name
            shutil.copytree(item, target) if item.is_dir() else shutil.copy(item, target)
        server = restart(private_server)
        try:
            db.sync()
            assert db.read_count("later") == 0
            assert db.read_by_id(recs[0]["id"])["dis"] == "r0"
            assert state(db) == truth(server.url, db_name)
            with pytest.raises(hx.ConcurrentChangeError):
                db.commit(hx.Diff(updated, {"dis": "stale"}))
            assert db.commit(hx.Diff(recs[0], {"dis": "again"})).new_rec["dis"] == "again"
        finally:
            server.stop()
    finally:
        db.close()


@pytest.mark.parametrize("lost", ["recs", "meta"])
def test_a_lost_database_key_is_noticed(redis_server: RedisServer, db_name: str, lost: str) -> None:
    with hx.open(redis_server.url, name=db_name, follow=False) as db:
        add_many(db, 10, point=M)
        db.client.delete(getattr(keys_of(db), lost))
        db.sync()
        assert state(db) == truth(redis_server.url, db_name)
        assert db.client.hget(keys_of(db).meta, "schema") is not None
        added = add_rec(db, {"dis": "after"})
        assert db.read_by_id(added["id"])["dis"] == "after"
        assert state(db) == truth(redis_server.url, db_name)


def test_the_follower_notices_lost_data_without_sync(
    redis_server: RedisServer, db_name: str
) -> None:
    with hx.open(redis_server.url, name=db_name) as db:
        add_many(db, 10, point=M)
        db.client.delete(keys_of(db).recs)
        wait_for(lambda: db.read_count("point") == 0, timeout=10, what="the follower")


# ------------------------------------------------------------------------------------------
# item 6: the follower survives any error and says so
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [{"src": "x", "ids": "a"}, {"v": "not-a-number", "src": "x", "ids": "a"}],
    ids=["no-version", "bad-version"],
)
def test_follower_survives_a_malformed_stream_entry(
    redis_server: RedisServer, db_name: str, fields: dict
) -> None:
    with hx.open(redis_server.url, name=db_name) as db:
        add_many(db, 3)
        db.client.xadd(keys_of(db).changes, fields)
        with hx.open(redis_server.url, name=db_name, follow=False) as writer:
            later = add_rec(writer, {"dis": "after the bad entry"})
        wait_for(lambda: db.read_by_id(later["id"], False) is not None, timeout=10)
        assert db.health()["following"]
        assert state(db) == truth(redis_server.url, db_name)


def test_follower_reports_an_undecodable_record_and_recovers(
    redis_server: RedisServer, db_name: str
) -> None:
    with hx.open(redis_server.url, name=db_name) as db:
        rec = add_rec(db, {"dis": "fine"})
        keys = keys_of(db)
        # another program writes a record hxredis cannot read, and announces it
        db.client.hset(keys.recs, rec["id"].id, 'id: @x\ndis: "unterminated\n')
        version = db.client.incr(keys.ver)
        db.client.xadd(keys.changes, {"v": version, "src": "other", "ids": rec["id"].id})
        wait_for(lambda: db.health()["error"] is not None, timeout=10, what="the report")
        assert rec["id"].id in db.health()["error"]
        assert db.health()["following"]
        with pytest.raises(hx.LoadError, match=rec["id"].id):
            db.sync()
        assert db.read_by_id(rec["id"])["dis"] == "fine"  # the last good state
        # it is repaired: the follower picks up again
        with hx.open(redis_server.url, name=db_name, follow=False, skip_bad_records=True) as fix:
            fix.client.hset(keys.recs, rec["id"].id, hx.trio.dumps({"id": rec["id"], "dis": "ok"}))
            version = fix.client.incr(keys.ver)
            fix.client.xadd(keys.changes, {"v": version, "src": "other", "ids": rec["id"].id})
        wait_for(lambda: db.health()["error"] is None, timeout=10, what="the recovery")
        assert db.read_by_id(rec["id"])["dis"] == "ok"
        assert db.cur_ver == stored_version(db)
