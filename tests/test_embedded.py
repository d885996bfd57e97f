"""The embedded server: outlives its creating thread, is shared by processes, never runs twice
on one data directory, admits only its owner and leaves nothing behind."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import hxredis as hx
from hxredis.embedded import open_embedded, read_state
from hxredis.server import pid_alive, start_server


@pytest.fixture(autouse=True)
def _no_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HXREDIS_URI", raising=False)


def _run(code: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=None if env is None else {**os.environ, **env},
    )


def _wait_gone(pid: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not pid_alive(pid)


def _redis_pids_on(data_dir: Path) -> list[int]:
    """Live redis-server processes holding ``data_dir``'s lock file open, not counting the
    children a server forks to save."""
    lock = str(data_dir / "hxredis.lock")
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        try:
            if not entry.name.isdigit() or not (entry / "comm").read_text().startswith("redis-"):
                continue
            fds = [os.readlink(fd) for fd in (entry / "fd").iterdir()]
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if lock in fds and pid_alive(int(entry.name)):
            parents[int(entry.name)] = ppid
    return [pid for pid, ppid in parents.items() if ppid not in parents]


def test_server_started_in_a_thread_outlives_the_thread(tmp_path: Path) -> None:
    opened: list[hx.Folio] = []
    started: list[object] = []
    thread = threading.Thread(target=lambda: opened.append(hx.open(data_dir=tmp_path / "d")))
    thread.start()
    thread.join()
    pool_thread = threading.Thread(target=lambda: started.append(start_server(timeseries=False)))
    pool_thread.start()
    pool_thread.join()
    (db,) = opened
    (server,) = started
    try:
        time.sleep(0.5)  # a per-thread parent-death signal would have fired by now
        rec = db.commit(hx.Diff.make_add({"dis": "after the thread"})).new_rec
        assert db.read_by_id(rec["id"])["dis"] == "after the thread"
        assert server.client().ping()  # type: ignore[attr-defined]
    finally:
        db.close()
        server.stop()  # type: ignore[attr-defined]
    assert not server.running  # type: ignore[attr-defined]


def test_two_processes_share_one_server(tmp_path: Path) -> None:
    data = tmp_path / "d"
    with hx.open(name="shared", data_dir=data) as db:
        db.commit(hx.Diff.make_add({"dis": "from the owner"}))
        state = read_state(data)
        assert state is not None
        child = _run(
            """
            import sys, hxredis as hx
            with hx.open(name="shared", data_dir=sys.argv[1]) as db:
                print(db.client.connection_pool.connection_kwargs["port"], db.read_count("dis"))
                db.commit(hx.Diff.make_add({"dis": "from the child"}))
            """,
            str(data),
        )
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        assert out.split() == [str(state.port), "1"]
        deadline = time.monotonic() + 5
        while db.read_count("dis") < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert db.read_count("dis") == 2
        assert pid_alive(state.pid)  # the child's close did not stop the owner's server
    assert _wait_gone(state.pid)
    assert read_state(data) is None
    assert not (data / "hxredis.json").exists()


def test_server_keeps_running_while_the_second_process_uses_it(tmp_path: Path) -> None:
    data = tmp_path / "d"
    owner = hx.open(name="x", data_dir=data)
    state = read_state(data)
    assert state is not None
    child = _run(
        """
        import sys, hxredis as hx
        with hx.open(name="x", data_dir=sys.argv[1]) as db:
            print("ready", flush=True)
            sys.stdin.readline()
            db.commit(hx.Diff.make_add({"dis": "after the owner left"}))
            print(db.read_count("dis"), flush=True)
        """,
        str(data),
    )
    assert child.stdout is not None and child.stdin is not None
    assert child.stdout.readline().strip() == "ready"
    owner.close()
    assert pid_alive(state.pid)
    child.stdin.write("go\n")
    child.stdin.flush()
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert out.strip() == "1"
    assert _wait_gone(state.pid)


def test_owner_killed_while_a_second_process_starts(tmp_path: Path) -> None:
    data = tmp_path / "d"
    owner = _run(
        """
        import sys, hxredis as hx
        db = hx.open(name="k", data_dir=sys.argv[1])
        db.commit_all([hx.Diff.make_add({"dis": f"r{i}", "pad": "x" * 1000}) for i in range(3000)])
        print("ready", flush=True)
        sys.stdin.readline()
        """,
        str(data),
    )
    assert owner.stdout is not None
    assert owner.stdout.readline().strip() == "ready"
    state = read_state(data)
    assert state is not None
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    second = _run(
        """
        import sys, hxredis as hx
        with hx.open(name="k", data_dir=sys.argv[1]) as db:
            print(db.read_count("dis"), flush=True)
        """,
        str(data),
    )
    seen: set[int] = set()
    while second.poll() is None:
        pids = _redis_pids_on(data)
        assert len(pids) <= 1, f"two servers on one directory: {pids}"
        seen.update(pids)
        time.sleep(0.01)
    out, err = second.communicate()
    assert second.returncode == 0, err
    assert out.strip() == "3000"  # nothing lost: the old server finished its save first
    assert not pid_alive(state.pid)
    assert _wait_gone(max(seen))


def test_sigterm_of_the_owner_stops_the_server(tmp_path: Path) -> None:
    data = tmp_path / "d"
    owner = _run(
        """
        import sys, hxredis as hx
        db = hx.open(data_dir=sys.argv[1])
        print("ready", flush=True)
        sys.stdin.readline()
        """,
        str(data),
    )
    assert owner.stdout is not None
    assert owner.stdout.readline().strip() == "ready"
    state = read_state(data)
    assert state is not None
    owner.terminate()
    owner.wait()
    assert _wait_gone(state.pid)
    assert read_state(data) is None


def test_stale_state_file_is_cleaned(tmp_path: Path) -> None:
    data = tmp_path / "d"
    data.mkdir()
    stale = {"port": 1, "pid": 999_999_999, "watchdog": 999_999_999, "password": "x"}
    (data / "hxredis.json").write_text(json.dumps(stale))
    with hx.open(data_dir=data) as db:
        assert db.read_count("id") == 0
        state = read_state(data)
        assert state is not None and state.pid != stale["pid"]


def test_only_the_owner_gets_in(tmp_path: Path) -> None:
    data = tmp_path / "d"
    data.mkdir(mode=0o755)
    (data / "redis.conf").write_text("# an old config\n")
    (data / "redis.conf").chmod(0o644)
    with hx.open(data_dir=data) as db:
        db.commit(hx.Diff.make_add({"dis": "secret"}))
        state = read_state(data)
        assert state is not None
        with socket.create_connection(("127.0.0.1", state.port), timeout=5) as sock:
            sock.sendall(b"GET anything\r\n")
            assert sock.recv(100).startswith(b"-NOAUTH")
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        for path in data.rglob("*"):
            mode = stat.S_IMODE(path.stat().st_mode)
            assert mode & 0o077 == 0, f"{path} is mode {oct(mode)}"
        cmdline = Path(f"/proc/{state.pid}/cmdline").read_bytes()
        assert state.password.encode() not in cmdline


def test_nothing_left_behind(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"  # the child's temporary directory, ours alone to look at
    temp.mkdir()
    code = """
        import os, signal
        from hxredis.server import start_server
        srv = start_server(timeseries=False)
        print(srv.pid, srv.data_dir, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    child = _run(code, env={"TMPDIR": str(temp)})
    out, _ = child.communicate(timeout=60)
    pid, directory = out.split()
    assert Path(directory).parent == temp
    assert _wait_gone(int(pid))
    deadline = time.monotonic() + 5
    while Path(directory).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(directory).exists()
    assert list(temp.iterdir()) == []
    data = tmp_path / "d"
    for _ in range(3):
        with hx.open(data_dir=data):
            pass
    logs = sorted(p.name for p in data.iterdir() if "log" in p.name)
    assert logs == ["redis.log"]


def test_kept_server_outlives_its_starter_until_shutdown(tmp_path: Path) -> None:
    data = tmp_path / "d"
    server = open_embedded(data, keep=True)
    server.stop()
    state = read_state(data)
    assert state is not None and pid_alive(state.pid)
    with hx.open(data_dir=data) as db:
        assert db.read_count("id") == 0
    again = open_embedded(data)
    assert again.shutdown()
    assert _wait_gone(state.pid)
    assert read_state(data) is None


def test_without_a_server_the_error_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import hxredis.embedded as embedded
    import hxredis.provision as provision

    def no_stack(cache: Path | None = None) -> None:
        raise provision.ServerUnavailableError("Redis Stack is not installed")

    sources = tmp_path / "sources.list"
    sources.write_text("deb http://127.0.0.1:9/debian bookworm main\n")  # nothing listens
    monkeypatch.setattr(embedded, "find_stack", no_stack)
    monkeypatch.setattr(provision, "APT_SOURCE_FILES", (str(sources),))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # apt, but no redis-server
    if provision.shutil.which("redis-server"):
        pytest.skip("redis-server is on the system PATH")
    with pytest.raises(hx.FolioError) as info:
        hx.open(data_dir=tmp_path / "d")
    message = str(info.value)
    assert "HXREDIS_URI" in message and "redis-server on PATH" in message
    assert "hxredis[embedded]" in message
    assert "fetching" in caplog.text and "127.0.0.1:9" in caplog.text


def test_plain_fallback_says_once_that_history_uses_sorted_sets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import hxredis.embedded as embedded
    import hxredis.provision as provision

    def no_stack(cache: Path | None = None) -> None:
        raise provision.ServerUnavailableError("Redis Stack is not installed")

    monkeypatch.setattr(embedded, "find_stack", no_stack)
    monkeypatch.setattr(embedded, "_told_sorted_sets", False)
    for name in ("a", "b"):
        with hx.open(data_dir=tmp_path / name) as db:
            assert not db.has_timeseries
    assert caplog.text.count("history will use sorted sets") == 1


def test_a_server_refusing_the_recorded_password_is_a_clear_error(tmp_path: Path) -> None:
    data = tmp_path / "d"
    with hx.open(data_dir=data):
        state_file = data / "hxredis.json"
        state = json.loads(state_file.read_text())
        state_file.write_text(json.dumps({**state, "password": "wrong"}))
        child = _run("import sys, hxredis as hx\nhx.open(data_dir=sys.argv[1])\n", str(data))
        _, err = child.communicate(timeout=60)
        assert child.returncode != 0
        assert "refuses the password" in err
        state_file.write_text(json.dumps(state))
