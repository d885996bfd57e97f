"""The launcher starts real servers, reports their modules and leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import redis

from hxredis.provision import Binary, ServerUnavailableError
from hxredis.server import RedisServer, start_server


def test_stack_server_has_timeseries(stack_server: RedisServer) -> None:
    assert stack_server.running
    assert stack_server.has_timeseries
    names = {m[b"name"] for m in stack_server.client().module_list()}
    assert b"timeseries" in names
    assert stack_server.client().execute_command("TS.CREATE", "hxtest:probe") == b"OK"


def test_plain_server_has_no_modules(plain_server: RedisServer) -> None:
    assert plain_server.running
    assert not plain_server.has_timeseries
    assert plain_server.client().module_list() == []
    with pytest.raises(redis.ResponseError):
        plain_server.client().execute_command("TS.CREATE", "hxtest:probe")


def test_both_servers_answer(redis_server: RedisServer, key_prefix: str) -> None:
    client = redis_server.client()
    client.set(key_prefix + "k", "v")
    assert client.get(key_prefix + "k") == b"v"
    assert redis_server.port != 6379
    assert redis_server.version.count(".") == 2


def test_stop_ends_process_and_removes_private_dir() -> None:
    server = start_server(timeseries=False)
    data_dir = server.data_dir
    assert data_dir.exists()
    server.stop()
    assert not server.running
    assert not data_dir.exists()
    server.stop()  # idempotent


def test_password_required_and_hidden(tmp_path) -> None:
    secret = "s3cr3t-Pa$$"
    with start_server(timeseries=False, password=secret, data_dir=tmp_path) as server:
        assert server.client().ping()
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(host=server.host, port=server.port).ping()
        assert secret not in repr(server)
        assert secret not in server.url
        with open(f"/proc/{server.pid}/cmdline", "rb") as cmdline:
            assert secret.encode() not in cmdline.read()
    assert tmp_path.exists()  # a caller's directory is kept


def test_persistence_survives_restart(tmp_path) -> None:
    with start_server(timeseries=False, persistence=True, data_dir=tmp_path) as server:
        server.client().set("hxtest:kept", "yes")
    with start_server(timeseries=False, persistence=True, data_dir=tmp_path) as server:
        assert server.client().get("hxtest:kept") == b"yes"


def test_extra_args_reach_the_server() -> None:
    with start_server(timeseries=False, extra_args=["--maxmemory", "12345678"]) as server:
        assert server.client().config_get("maxmemory")["maxmemory"] == "12345678"


def test_missing_binary_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(ServerUnavailableError, match="cannot run"):
        start_server(binary=Binary(tmp_path / "nope.sh"), port=1)
    script = tmp_path / "fails.sh"
    script.write_text("#!/bin/sh\necho 'bad config line' >&2\nexit 3\n")
    script.chmod(0o755)
    with pytest.raises(ServerUnavailableError, match=r"exit.*3.*bad config line"):
        start_server(binary=Binary(script))


def test_timeseries_required_but_binary_has_none(tmp_path) -> None:
    with pytest.raises(ServerUnavailableError, match="no RedisTimeSeries"):
        start_server(timeseries=True, binary=Binary(tmp_path / "redis-server"))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purpose
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split()[2] != "Z"


@pytest.mark.parametrize("how", ["exit", "sigkill", "exception"])
def test_no_server_outlives_its_process(how: str) -> None:
    code = textwrap.dedent(
        f"""
        import os, signal, sys
        from hxredis.server import start_server
        srv = start_server(timeseries=False)
        print(srv.pid, flush=True)
        if {how!r} == "sigkill":
            os.kill(os.getpid(), signal.SIGKILL)
        if {how!r} == "exception":
            raise RuntimeError("test failure inside the owner")
        """
    )
    child = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    pid = int(child.stdout.split()[0])
    deadline = time.monotonic() + 10
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    alive = _pid_alive(pid)
    if alive:
        os.kill(pid, signal.SIGKILL)
    assert not alive


def test_folio_reports_timeseries(redis_server: RedisServer, db_name: str) -> None:
    import hxredis as hx

    with hx.open(redis_server.url, name=db_name) as db:
        assert db.has_timeseries is redis_server.has_timeseries


def test_one_server_per_data_directory(tmp_path) -> None:
    with (
        start_server(timeseries=False, persistence=True, data_dir=tmp_path),
        pytest.raises(ServerUnavailableError, match="in use by another Redis server"),
    ):
        start_server(timeseries=False, persistence=True, data_dir=tmp_path)
    with start_server(timeseries=False, persistence=True, data_dir=tmp_path) as again:
        assert again.client().ping()  # released by stop()
