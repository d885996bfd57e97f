"""hx.open: URIs (redis://, rediss://, unix://), HXREDIS_URI, the embedded server, lifecycle,
passwords kept out of reprs, logs and errors, the key schema and its version, and the cold
load of stored records (architecture.md "Redis key schema", the issue's items 1, 2 and 6)."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from helpers.folio_util import add_rec, keys_of, raises_exactly

import hxredis as hx
from hxredis.server import RedisServer, start_server

M = hx.MARKER
PASSWORD = "Pw-s3cr3t-XyZ"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ------------------------------------------------------------------------------------------------
# URIs and HXREDIS_URI
# ------------------------------------------------------------------------------------------------


def test_open_close_and_context_manager(redis_server: RedisServer, db_name: str) -> None:
    with hx.open(redis_server.url, name=db_name) as db:
        assert isinstance(db, hx.Folio)
        assert db.name == db_name
        assert db.id_prefix is None
        rec = add_rec(db, {"dis": "x"})
    assert db.is_closed
    raises_exactly(hx.ShutdownError, lambda: db.read_by_id(rec["id"]))
    raises_exactly(hx.ShutdownError, lambda: db.commit(hx.Diff(rec, {"y": M})))
    db.close()  # idempotent after the with block
    with hx.open(redis_server.url, name=db_name) as db2:
        assert db2.read_by_id(rec["id"])["dis"] == "x"


def test_close_stops_the_follower(redis_server: RedisServer, db_name: str) -> None:
    db = hx.open(redis_server.url, name=db_name)
    db.close()
    db.close()
    followers = [t for t in threading.enumerate() if t.name == f"hxredis-follow-{db_name}"]
    assert followers == []


def test_default_name(redis_server: RedisServer) -> None:
    with hx.open(redis_server.url) as db:
        assert db.name == "default"


def test_db_index_in_uri(redis_server: RedisServer, db_name: str) -> None:
    with hx.open(f"{redis_server.url}/5", name=db_name) as db5:
        rec = add_rec(db5, {"dis": "in five"})
        assert db5.client.connection_pool.connection_kwargs["db"] == 5
    with hx.open(f"{redis_server.url}/6", name=db_name) as db6:
        assert db6.read_by_id(rec["id"], False) is None
    plain = redis_server.client(db=5)
    try:
        assert plain.exists(f"hx:{{{db_name}}}:recs")
    finally:
        plain.close()


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1:{port}/0",
        "127.0.0.1:{port}",
        "localhost",
        "",
    ],
)
def test_malformed_uri(redis_server: RedisServer, uri: str) -> None:
    with pytest.raises(ValueError):
        hx.open(uri.format(port=redis_server.port), name="x")


@pytest.mark.parametrize("path", ["/notanint", "/x", "/1.5", "/-"])
def test_bad_db_index(redis_server: RedisServer, path: str) -> None:
    with pytest.raises(ValueError) as info:
        hx.open(f"redis://:{PASSWORD}@127.0.0.1:{redis_server.port}{path}", name="x")
    assert PASSWORD not in str(info.value)


def test_explicit_uri_beats_environment(
    redis_server: RedisServer, db_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HXREDIS_URI", f"redis://127.0.0.1:{free_port()}/0")
    with hx.open(redis_server.url, name=db_name) as db:
        add_rec(db, {"dis": "ok"})
        assert db.client.connection_pool.connection_kwargs["port"] == redis_server.port


def test_environment_uri(
    redis_server: RedisServer, db_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HXREDIS_URI", f"{redis_server.url}/3")
    with hx.open(name=db_name) as db:
        rec = add_rec(db, {"dis": "via env"})
        kwargs = db.client.connection_pool.connection_kwargs
        assert (kwargs["port"], kwargs["db"]) == (redis_server.port, 3)
    with hx.open(f"{redis_server.url}/3", name=db_name) as db:
        assert db.read_by_id(rec["id"])["dis"] == "via env"


def test_unix_socket(db_name: str) -> None:
    directory = tempfile.mkdtemp(prefix="hxs", dir="/tmp")  # socket paths must be short
    path = os.path.join(directory, "r.sock")
    try:
        args = ["--unixsocket", path, "--unixsocketperm", "700"]
        with start_server(timeseries=False, extra_args=args) as server:
            with hx.open(f"unix://{path}", name=db_name) as db:
                rec = add_rec(db, {"dis": "over unix"})
            with hx.open(f"unix://{path}?db=0", name=db_name) as db:
                assert db.read_by_id(rec["id"])["dis"] == "over unix"
            with hx.open(server.url, name=db_name) as db:
                assert db.read_by_id(rec["id"])["dis"] == "over unix"
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key)),
            *("-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.mark.parametrize("timeseries", [True, False], ids=["stack", "plain"])
def test_tls(tls_files: tuple[Path, Path], db_name: str, timeseries: bool) -> None:
    """rediss:// with TLS options passed through to redis-py."""
    cert, key = tls_files
    tls_port = free_port()
    args = ["--tls-port", str(tls_port), "--tls-cert-file", str(cert), "--tls-key-file", str(key)]
    args += ["--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no"]
    with start_server(timeseries=timeseries, extra_args=args) as server:
        uri = f"rediss://127.0.0.1:{tls_port}/0"
        with hx.open(uri, name=db_name, ssl_ca_certs=str(cert)) as db:
            rec = add_rec(db, {"dis": "over tls"})
        with hx.open(server.url, name=db_name) as db:
            assert db.read_by_id(rec["id"])["dis"] == "over tls"
        # without the CA the certificate does not verify
        with pytest.raises(hx.ConnectionError, match="certificate verify failed") as raised:
            hx.open(uri, name=db_name)
        assert isinstance(raised.value, redis.exceptions.ConnectionError)


# ------------------------------------------------------------------------------------------------
# passwords
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def password_server() -> Iterator[RedisServer]:
    with start_server(timeseries=False, password=PASSWORD) as server:
        client = server.client()
        client.execute_command("ACL", "SETUSER", "alice", "on", f">{PASSWORD}-alice", "~*", "&*")
        client.execute_command("ACL", "SETUSER", "alice", "+@all")
        client.close()
        yield server


def test_password_uri(password_server: RedisServer, db_name: str, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    uri = f"redis://:{PASSWORD}@127.0.0.1:{password_server.port}/0"
    with hx.open(uri, name=db_name) as db:
        rec = add_rec(db, {"dis": "auth"})
        assert PASSWORD not in repr(db)
        assert PASSWORD not in str(db)
        assert PASSWORD not in repr(db.client)
    user_uri = f"redis://alice:{PASSWORD}-alice@127.0.0.1:{password_server.port}/0"
    with hx.open(user_uri, name=db_name) as db:
        assert db.read_by_id(rec["id"])["dis"] == "auth"
        assert PASSWORD not in repr(db)
    assert PASSWORD not in caplog.text


@pytest.mark.parametrize(
    "uri",
    [
        "bogus://:{pw}@127.0.0.1:{port}/0",
        "redis://:{pw}@127.0.0.1:notaport/0",
    ],
)
def test_password_not_in_uri_errors(password_server: RedisServer, uri: str) -> None:
    with pytest.raises(ValueError) as info:
        hx.open(uri.format(pw=PASSWORD, port=password_server.port), name="x")
    assert PASSWORD not in str(info.value)
    assert PASSWORD not in repr(info.value)


def test_wrong_password(password_server: RedisServer, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "Wr0ng-Pa55word-Q"
    with pytest.raises(Exception) as info:  # redis-py's AuthenticationError
        hx.open(f"redis://:{wrong}@127.0.0.1:{password_server.port}/0", name="x")
    assert wrong not in str(info.value)
    assert wrong not in caplog.text


def test_password_not_in_logs_or_errors_when_server_goes(db_name: str, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    server = start_server(timeseries=False, password=PASSWORD)
    try:
        db = hx.open(f"redis://:{PASSWORD}@127.0.0.1:{server.port}/0", name=db_name)
        rec = add_rec(db, {"dis": "x"})
        server.stop()
        with pytest.raises(Exception) as info:  # the type: test_folio_failures
            db.commit(hx.Diff(rec, {"y": M}))
        assert PASSWORD not in str(info.value)
        assert PASSWORD not in repr(info.value)
        db.close()
    finally:
        server.stop()
    assert PASSWORD not in caplog.text


# ------------------------------------------------------------------------------------------------
# the embedded server
# ------------------------------------------------------------------------------------------------


def test_embedded_server(tmp_path: Path, db_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HXREDIS_URI", raising=False)
    data = tmp_path / "data"
    db = hx.open(name=db_name, data_dir=data)
    try:
        port = db.client.connection_pool.connection_kwargs["port"]
        modules = {m[b"name"] if b"name" in m else m["name"] for m in db.client.module_list()}
        assert {b"timeseries", "timeseries"} & modules  # Redis Stack is available here
        rec = add_rec(db, {"dis": "embedded", "n": hx.Number(1)})
    finally:
        db.close()
    assert data.is_dir() and any(data.iterdir())
    # the server stopped with the Folio
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
    # the data survives a restart on the same directory
    with hx.open(name=db_name, data_dir=data) as db:
        assert db.read_by_id(rec["id"])["dis"] == "embedded"


def test_embedded_server_default_directory(
    tmp_path: Path, db_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HXREDIS_URI", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    with hx.open(name=db_name) as db:
        add_rec(db, {"dis": "x"})
    assert (tmp_path / "hxredis").is_dir()
    assert any((tmp_path / "hxredis").iterdir())


# ------------------------------------------------------------------------------------------------
# key schema and schema version
# ------------------------------------------------------------------------------------------------


def _hash_tag(key: str) -> str:
    start = key.index("{")
    return key[start + 1 : key.index("}", start)]


def test_key_schema(open_db, db_name: str) -> None:
    db = open_db()
    a = add_rec(db, {"dis": "a", "site": M})
    db.commit(hx.Diff(a, {"equip": M}))
    b = add_rec(db, {"dis": "b"})
    db.commit(hx.Diff(b, None, hx.Diff.REMOVE))
    keys = [k.decode() for k in db.client.scan_iter(match=f"*{db_name}*")]
    assert keys
    for key in keys:
        assert key.startswith("hx:")
    record_side = [k for k in keys if not k.startswith("hx:his:")]
    assert {_hash_tag(k) for k in record_side} == {db_name}
    schema = keys_of(db)
    assert schema.meta in keys
    assert db.client.hget(schema.meta, "schema") == b"1"
    # each point's history key has its own hash tag naming the database and the point
    assert _hash_tag(schema.his(a["id"].id)) == f"{db_name}:{a['id'].id}"


def test_custom_key_prefix(redis_server: RedisServer, db_name: str) -> None:
    with hx.open(redis_server.url, name=db_name, prefix="tenant1") as t1:
        a = add_rec(t1, {"dis": "t1"})
        keys = [k.decode() for k in t1.client.scan_iter(match=f"*{db_name}*")]
        assert keys and all(k.startswith("tenant1:") for k in keys)
    with hx.open(redis_server.url, name=db_name, prefix="tenant2") as t2:
        assert t2.read_by_id(a["id"], False) is None
        add_rec(t2, {"dis": "t2"})
    with hx.open(redis_server.url, name=db_name) as default:
        assert default.read_all("dis") == []
    with hx.open(redis_server.url, name=db_name, prefix="tenant1") as t1:
        assert [r.dis for r in t1.read_all("dis")] == ["t1"]


def test_databases_are_isolated(redis_server: RedisServer, db_name: str) -> None:
    with (
        hx.open(redis_server.url, name=db_name + "a") as a,
        hx.open(redis_server.url, name=db_name + "b") as b,
    ):
        ra = add_rec(a, {"dis": "A"})
        add_rec(b, {"dis": "B"})
        b.sync()
        a.sync()
        assert [r.dis for r in a.read_all("dis")] == ["A"]
        assert [r.dis for r in b.read_all("dis")] == ["B"]
        assert b.read_by_id(ra["id"], False) is None
        assert b.cur_ver == 1


@pytest.mark.parametrize("bad", ["a b", "x{y}", "a:b", "", "é", "x" * 101])
def test_bad_name_or_prefix(redis_server: RedisServer, bad: str) -> None:
    with pytest.raises(ValueError):
        hx.open(redis_server.url, name=bad)
    with pytest.raises(ValueError):
        hx.open(redis_server.url, name="ok", prefix=bad)


@pytest.mark.parametrize("version", ["99", "0", "abc", "2"])
def test_unknown_schema_version(open_db, version: str) -> None:
    db = open_db()
    rec = add_rec(db, {"dis": "x"})
    meta = keys_of(db).meta
    db.client.hset(meta, "schema", version)
    with pytest.raises(hx.SchemaVersionError) as info:
        open_db()
    assert isinstance(info.value, hx.FolioError)
    assert version in str(info.value)
    assert "schema" in str(info.value)
    # nothing was changed by the refused open
    assert db.client.hget(meta, "schema") == version.encode()
    db.client.hset(meta, "schema", "1")
    assert open_db().read_by_id(rec["id"])["dis"] == "x"


# ------------------------------------------------------------------------------------------------
# cold load
# ------------------------------------------------------------------------------------------------


def test_cold_load_is_bulk(open_db) -> None:
    db = open_db()
    db.commit_all([hx.Diff.make_add({"dis": f"r{i}", "i": hx.Number(i)}) for i in range(3000)])

    def calls(stats: dict, name: str) -> int:
        return int(stats.get(f"cmdstat_{name}", {}).get("calls", 0))

    before = db.client.info("commandstats")
    other = open_db(follow=False)
    after = db.client.info("commandstats")
    assert other.read_count("i") == 3000
    assert calls(after, "hget") - calls(before, "hget") <= 2  # schema version, creation stamp
    assert calls(after, "hmget") - calls(before, "hmget") <= 2
    assert calls(after, "hscan") - calls(before, "hscan") <= 10
    assert calls(after, "hgetall") - calls(before, "hgetall") <= 2


def _write_raw(db: hx.Folio, rec_id: str, text: bytes | str) -> None:
    db.client.hset(keys_of(db).recs, rec_id, text)


@pytest.mark.parametrize(
    "text",
    [
        "id:@bad-rec\nfoo:{{{\n",
        "id:@bad-rec\nBad Name:1\n",
        "id:@bad-rec\nx:[1,2\n",
        'id:"bad-rec"\n',
        'id:@another-id\ndis:"x"\n',
        b'id:@bad-rec\ndis:"\xff\xfe"\n',
        'dis:"no id"\n',
        "id:@bad-rec\n---\nid:@second\n",
    ],
    ids=["syntax", "name", "list", "str-id", "id-mismatch", "utf8", "no-id", "two-recs"],
)
def test_bad_stored_record(open_db, text: str | bytes, caplog) -> None:
    db = open_db()
    good = add_rec(db, {"dis": "good"})
    _write_raw(db, "bad-rec", text)
    with pytest.raises(hx.LoadError) as info:
        open_db()
    assert "bad-rec" in str(info.value)
    caplog.set_level(logging.WARNING)
    skipping = open_db(skip_bad_records=True)
    assert skipping.skipped_records == 1
    assert "bad-rec" in caplog.text
    assert skipping.read_by_id(good["id"])["dis"] == "good"
    assert skipping.read_by_id_trash("bad-rec", False) is None


def _write_bad_change(db: hx.Folio, rec_id: str) -> None:
    """Act as another writer that stores an undecodable record and announces it."""
    keys = keys_of(db)
    _write_raw(db, rec_id, f"id:@{rec_id}\nBad Name:1\n")
    version = db.client.incr(keys.ver)
    db.client.xadd(keys.changes, {"v": version, "src": "another-writer", "ids": rec_id})


def test_bad_record_from_the_change_stream(open_db) -> None:
    db = open_db(follow=False)
    rec = add_rec(db, {"dis": "a"})
    _write_bad_change(db, rec["id"].id)
    with pytest.raises(hx.LoadError) as info:
        db.sync()
    assert rec["id"].id in str(info.value)
    with pytest.raises(hx.LoadError):
        db.sync()


def test_bad_record_from_the_change_stream_skipped(open_db, caplog) -> None:
    caplog.set_level(logging.WARNING)
    db = open_db(follow=False, skip_bad_records=True)
    rec = add_rec(db, {"dis": "a"})
    good = add_rec(db, {"dis": "good"})
    _write_bad_change(db, rec["id"].id)
    db.sync()
    assert db.skipped_records == 1
    assert rec["id"].id in caplog.text
    assert db.read_by_id(rec["id"], False) is None
    assert db.read_by_id(good["id"])["dis"] == "good"
