"""Opening without writing: read_only=True (a read-only ACL user, a read-only replica), an
existing database opened at maxmemory, and removes that still run at maxmemory."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from helpers.folio_util import add_rec

import hxredis as hx
from hxredis.keys import KeySchema
from hxredis.server import RedisServer, start_server

# what a read-only ACL user needs (documented in hx.open)
READ_ONLY_RULES = ["+@read", "+@connection"]


@pytest.fixture
def read_only_uri(plain_server: RedisServer) -> Iterator[str]:
    """A URI of the session server for a user that may only read; the user is removed after."""
    name = f"hxro-{uuid.uuid4().hex[:8]}"
    admin = plain_server.client()
    admin.acl_setuser(
        name, enabled=True, passwords=["+ro-pw"], keys=["*"], commands=READ_ONLY_RULES
    )
    yield f"redis://{name}:ro-pw@{plain_server.url.removeprefix('redis://')}/0"
    admin.acl_deluser(name)
    admin.close()


def test_a_read_only_user_opens_reads_and_follows(
    plain_server: RedisServer, read_only_uri: str, db_name: str
) -> None:
    with hx.open(plain_server.url, name=db_name) as writer:
        site = add_rec(writer, {"dis": "Site", "site": hx.MARKER})
        with hx.open(read_only_uri, name=db_name, read_only=True) as reader:
            assert reader.read_only and not writer.read_only
            assert reader.read_by_id(site["id"])["dis"] == "Site"
            equip = add_rec(writer, {"dis": "Equip", "equip": hx.MARKER})
            assert reader.sync().read_by_id(equip["id"])["dis"] == "Equip"
            assert reader.cur_ver == writer.cur_ver


def test_read_only_refuses_persistent_commits_and_keeps_transient_ones(
    plain_server: RedisServer, read_only_uri: str, db_name: str
) -> None:
    with hx.open(plain_server.url, name=db_name) as writer:
        site = add_rec(writer, {"dis": "Site", "site": hx.MARKER})
        trashed = add_rec(writer, {"dis": "Old", "trash": hx.MARKER})
        with hx.open(read_only_uri, name=db_name, read_only=True) as reader:
            ver = reader.cur_ver
            for diffs in (
                [hx.Diff.make_add({"dis": "New"})],
                [hx.Diff(reader.read_by_id(site["id"]), {"dis": "Renamed"})],
                [hx.Diff(reader.read_by_id(site["id"]), None, hx.Diff.REMOVE)],
            ):
                with pytest.raises(hx.ReadOnlyError, match="read_only=True"):
                    reader.commit_all(diffs)
            with pytest.raises(hx.ReadOnlyError):
                reader.commit_remove_trash()
            assert reader.read_by_id_trash(trashed["id"]) is not None
            rec = reader.commit(
                hx.Diff(reader.read_by_id(site["id"]), {"curVal": hx.Number(1)}, hx.Diff.TRANSIENT)
            ).new_rec
            assert rec["curVal"] == hx.Number(1) and reader.cur_ver == ver
            assert "curVal" not in writer.sync().read_by_id(site["id"])
            assert writer.read_by_id(site["id"])["dis"] == "Site"


def test_without_read_only_the_read_only_user_gets_a_clear_error(
    plain_server: RedisServer, read_only_uri: str, db_name: str
) -> None:
    with hx.open(plain_server.url, name=db_name) as writer:
        add_rec(writer, {"dis": "Site"})
        with hx.open(read_only_uri, name=db_name) as reader:  # opening writes nothing
            assert reader.read_count("dis") == 1
            with pytest.raises(hx.AuthenticationError, match="lacks a permission"):
                reader.commit(hx.Diff.make_add({"dis": "New"}))
            assert reader.read_count("dis") == 1


def test_read_only_open_of_a_missing_database_is_empty_then_follows(
    plain_server: RedisServer, read_only_uri: str, db_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    with hx.open(read_only_uri, name=db_name, read_only=True) as reader:
        assert reader.read_count("id") == 0 and reader.cur_ver == 0
        assert "does not exist yet" in caplog.text
        admin = plain_server.client()
        assert admin.exists(KeySchema("hx", db_name).meta) == 0  # nothing created
        with hx.open(plain_server.url, name=db_name) as writer:
            site = add_rec(writer, {"dis": "Site"})
        assert reader.sync().read_by_id(site["id"])["dis"] == "Site"
        admin.close()


def test_a_read_only_replica(db_name: str) -> None:
    """Reads and follows through a replica; commits refused, by hxredis or by Redis."""
    with (
        start_server(timeseries=False) as primary,
        start_server(
            timeseries=False, extra_args=["--replicaof", primary.host, str(primary.port)]
        ) as replica,
        hx.open(primary.url, name=db_name) as writer,
    ):
        site = add_rec(writer, {"dis": "Site"})
        _replicated(primary)
        with hx.open(replica.url, name=db_name, read_only=True) as reader:
            assert reader.read_by_id(site["id"])["dis"] == "Site"
            equip = add_rec(writer, {"dis": "Equip"})
            _replicated(primary)
            assert reader.sync().read_by_id(equip["id"])["dis"] == "Equip"
            with pytest.raises(hx.ReadOnlyError, match="read_only=True"):
                reader.commit(hx.Diff.make_add({"dis": "New"}))
        with hx.open(replica.url, name=db_name) as plain_reader:
            assert plain_reader.read_count("dis") == 2
            with pytest.raises(hx.ReadOnlyError, match="read-only replica"):
                plain_reader.commit(hx.Diff.make_add({"dis": "New"}))


def _replicated(primary: RedisServer) -> None:
    client = primary.client()
    deadline = time.monotonic() + 20
    while client.wait(1, 1000) < 1:  # until the replica has acknowledged every write
        assert time.monotonic() < deadline, "the replica did not catch up"
    client.close()


# -- maxmemory ------------------------------------------------------------------------------------


def _used_memory(client) -> int:
    return int(client.info("memory")["used_memory"])


@pytest.mark.parametrize("timeseries", [True, False], ids=["stack", "plain"])
def test_at_maxmemory_open_and_read_work_adds_are_refused_removes_shrink(
    db_name: str, timeseries: bool
) -> None:
    with start_server(timeseries=timeseries) as server:
        admin = server.client()
        with hx.open(server.url, name=db_name) as db:
            recs = db.commit_all(
                [hx.Diff.make_add({"dis": f"R{i}", "big": "x" * 20_000}) for i in range(60)]
            )
        admin.config_set("maxmemory-policy", "noeviction")
        admin.config_set("maxmemory", _used_memory(admin) // 2)
        with hx.open(server.url, name=db_name) as db:  # opening writes nothing
            assert db.read_count("big") == 60
            with pytest.raises(hx.ServerError, match="out of memory") as info:
                db.commit(hx.Diff.make_add({"dis": "More"}))
            assert info.value.code == "OOM"
            with pytest.raises(hx.ServerError):  # an update that grows memory too
                db.commit(hx.Diff(db.read_by_id(recs[0].new_rec["id"]), {"more": "y" * 10}))
            assert db.read_count("big") == 60
            before = _used_memory(admin)
            db.commit_all([hx.Diff(r.new_rec, None, hx.Diff.REMOVE) for r in recs[:40]])
            assert db.read_count("big") == 20
            assert _used_memory(admin) < before - 40 * 15_000
            assert admin.hlen(KeySchema("hx", db_name).recs) == 20
        with hx.open(server.url, name=db_name) as again:
            assert again.read_count("big") == 20
        admin.close()


def test_read_only_must_be_a_bool(plain_server: RedisServer, db_name: str) -> None:
    with pytest.raises(TypeError, match="read_only must be a bool"):
        hx.open(plain_server.url, name=db_name, read_only="yes")  # type: ignore[arg-type]
