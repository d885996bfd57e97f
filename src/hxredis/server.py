"""The launcher: real Redis servers on free loopback ports, for tests, benchmarks, the demo
and the embedded default of :func:`hxredis.open`.

>>> with start_server(timeseries=True) as srv:
...     client = srv.client()
...     client.ping()

A server is started with a private data directory (mode 0700, files created with umask 077),
waits until it answers PING and is stopped by :meth:`RedisServer.stop`, by leaving the
``with`` block, or when the process that started it ends in any way (exit, exception,
SIGTERM, SIGKILL), whichever thread started it.  A small watchdog process (see
``_watchdog.py``) owns the server: it stops it (SIGTERM, never SIGKILL) once no process
holds the data directory's users lock any more.  The server itself holds the data
directory's lock for as long as it runs, so two servers never share a directory, not even
while a server finishes its last save.  Binaries come from :mod:`hxredis.provision`.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import redis

from .client import RedisClient, client_options
from .provision import Binary, ServerUnavailableError, default_cache_dir, find_plain, find_stack

__all__ = ["RedisServer", "ServerUnavailableError", "start_server"]

LOCK_FILE = "hxredis.lock"  # held by the running server process
USERS_FILE = "hxredis.users"  # shared-locked by every process using the server
LOG_FILE = "redis.log"
CONF_FILE = "redis.conf"
STATE_FILE = "hxredis.json"  # the embedded server's address, written by hxredis.embedded
LOG_ROTATE_BYTES = 4 * 1024 * 1024
_WATCHDOG = Path(__file__).with_name("_watchdog.py")

_live: set[RedisServer] = set()
_live_lock = threading.Lock()


class RedisServer:
    """A running ``redis-server`` this process uses.

    Attributes: ``host``, ``port``, ``pid`` (of redis-server), ``data_dir``, ``binary`` (None
    when another process started it), ``version`` (``"7.4.1"``), ``modules`` (module name to
    version, e.g. ``{"timeseries": 11202}``).  The password, when one was set, is never part of
    ``repr`` or of :attr:`url`.
    """

    def __init__(
        self,
        *,
        port: int,
        pid: int,
        data_dir: Path,
        password: str | None,
        users: IO[bytes] | None,
        binary: Binary | None = None,
        watchdog: subprocess.Popen[bytes] | None = None,
        watchdog_pid: int | None = None,
    ) -> None:
        self.host = "127.0.0.1"
        self.port = port
        self.pid = pid
        self.data_dir = data_dir
        self.binary = binary
        self.version = ""
        self.modules: dict[str, int] = {}
        self._password = password
        self._users = users
        self._watchdog = watchdog
        self.watchdog_pid = watchdog.pid if watchdog is not None else watchdog_pid

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>`` without credentials (pass the password separately)."""
        return f"redis://{self.host}:{self.port}"

    @property
    def has_timeseries(self) -> bool:
        """True when MODULE LIST reports the RedisTimeSeries module."""
        return "timeseries" in self.modules

    @property
    def running(self) -> bool:
        """True until the server process has exited."""
        return pid_alive(self.pid)

    def client(self, **kwargs: Any) -> redis.Redis:
        """A redis-py client for this server (password included); kwargs go to redis.Redis,
        with the defaults of :func:`hxredis.client.client_options` (5 s timeouts, no
        retries)."""
        kwargs.setdefault("password", self._password)
        return redis.Redis(host=self.host, port=self.port, **client_options(kwargs))

    def stop(self, timeout: float = 60.0) -> None:
        """Stop using the server; idempotent.  When no other process uses it, it is stopped
        (SIGTERM; a server still saving is given the time it needs, up to ``timeout``) and a
        data directory the launcher created is deleted; one the caller gave is kept."""
        with _live_lock:
            _live.discard(self)
            users, self._users = self._users, None
        if users is None:
            return
        path = users.name
        users.close()
        stopped = _wait_stopped_unless_used(self, Path(path), timeout)
        if self._watchdog is not None and stopped:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._watchdog.wait(timeout)  # its clean-up follows the server's exit at once

    def shutdown(self, timeout: float = 60.0) -> bool:
        """Stop the server even while other processes use it (``hxredis server stop``):
        SIGTERM to its watchdog, then wait up to ``timeout`` for it to exit.  True when
        it has stopped."""
        if self.watchdog_pid is not None and pid_alive(self.watchdog_pid):
            os.kill(self.watchdog_pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.running and time.monotonic() < deadline:
            time.sleep(0.05)
        stopped = not self.running
        self.stop(timeout if stopped else 0.0)
        return stopped

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        mods = ",".join(sorted(self.modules)) or "no modules"
        return f"<RedisServer {self.url} redis {self.version} ({mods}) {state}>"


def pid_alive(pid: int) -> bool:
    """True when process ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True  # no /proc: trust kill(0)


def _wait_stopped_unless_used(server: RedisServer, users_path: Path, timeout: float) -> bool:
    """After releasing our use: wait until the server is gone (True), unless another process
    still uses it (then it keeps running and we return False at once), or ``timeout``."""
    deadline = time.monotonic() + timeout
    try:
        probe = open(users_path, "rb")  # noqa: SIM115 - closed below
    except OSError:
        return True  # the directory is gone: so is the server
    with probe:
        while server.running and time.monotonic() < deadline:
            if _try_lock(probe, fcntl.LOCK_EX):  # nobody: the watchdog takes it next poll
                fcntl.flock(probe, fcntl.LOCK_UN)
            elif _try_lock(probe, fcntl.LOCK_SH):  # other users, no watchdog stopping it
                fcntl.flock(probe, fcntl.LOCK_UN)
                return False
            time.sleep(0.02)
    return not server.running


def _try_lock(f: IO[Any], how: int) -> bool:
    try:
        fcntl.flock(f, how | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def start_server(
    *,
    timeseries: bool | None = None,
    persistence: bool = False,
    password: str | None = None,
    port: int | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    extra_args: Sequence[str] = (),
    binary: Binary | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    startup_timeout: float = 20.0,
    keep: bool = False,
    lock_wait: float = 0.0,
) -> RedisServer:
    """Start a Redis server on a free loopback port and wait until it answers PING.

        ``timeseries``: True for Redis Stack with RedisTimeSeries, False for plain Redis, None
        for Redis Stack when it can be had and plain Redis otherwise.  ``persistence`` turns on
        the append-only file and snapshots in ``data_dir`` (default: a private temporary
        directory, deleted when the server stops).  ``extra_args`` are appended to the server's
        command line.  ``binary`` overrides the provisioned binaries.  ``keep`` leaves the server
        running after this process ends, until :meth:`RedisServer.shutdown`.  ``lock_wait`` is how
    long to wait for a previous server of ``data_dir`` to finish shutting down.

        Raises :class:`ServerUnavailableError` when no suitable binary can be found or
        provisioned, the data directory is in use by another server, or the server does not start.
    """
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if binary is None:
        binary = _choose_binary(timeseries, cache)
    elif timeseries and binary.timeseries is None:
        raise ServerUnavailableError(f"{binary.server} has no RedisTimeSeries module to load")
    owns_dir = data_dir is None
    attempts = 1 if port is not None else 3
    for attempt in range(attempts):
        directory = Path(tempfile.mkdtemp(prefix="hxredis-")) if owns_dir else Path(data_dir)
        try:
            make_private_dir(directory)
            dir_lock = lock_data_dir(directory, lock_wait)
            with dir_lock:  # the server process holds its own copy of the lock
                return _launch(
                    binary, port if port is not None else _free_port(), directory, owns_dir,
                    persistence, password, extra_args, startup_timeout, dir_lock, keep,
                )  # fmt: skip
        except ServerUnavailableError:  # another process may have taken the port
            if owns_dir:
                shutil.rmtree(directory, ignore_errors=True)
            if attempt == attempts - 1:
                raise
        except BaseException:
            if owns_dir:
                shutil.rmtree(directory, ignore_errors=True)
            raise
    raise AssertionError("unreachable")


def make_private_dir(directory: Path) -> None:
    """Create ``directory`` (and parents) and make it accessible to this user only."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory.chmod(0o700)


def open_private(path: Path) -> IO[bytes]:
    """``path`` opened for appending, created if needed and made readable by this user only."""
    f = open(path, "ab")  # noqa: SIM115 - the caller closes it
    os.fchmod(f.fileno(), 0o600)
    return f


def private_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, readable by this user only, also when it existed before."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        os.fchmod(fd, 0o600)
        f.write(text)


def _choose_binary(timeseries: bool | None, cache: Path) -> Binary:
    if timeseries is False:
        return find_plain(cache)
    try:
        return find_stack(cache)
    except ServerUnavailableError:
        if timeseries:
            raise
        return find_plain(cache)


def lock_data_dir(directory: Path, wait: float = 0.0) -> IO[bytes]:
    """The exclusive lock on a data directory, handed to its server process: two servers on
    one directory would corrupt each other's files.  Waits up to ``wait`` seconds for a
    server that is shutting down, then raises :class:`ServerUnavailableError`."""
    lock = open_private(directory / LOCK_FILE)
    deadline = time.monotonic() + wait
    while not _try_lock(lock, fcntl.LOCK_EX):
        if time.monotonic() >= deadline:
            lock.close()
            raise ServerUnavailableError(
                f"data directory {directory} is in use by another Redis server started by "
                "hxredis; connect to that server (`hxredis server status` shows it), or "
                "choose another data directory"
            )
        time.sleep(0.05)
    return lock


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rotate_log(log_file: Path) -> None:
    """One log per data directory: the previous one is kept as ``.1`` once it grows large."""
    try:
        if log_file.stat().st_size > LOG_ROTATE_BYTES:
            log_file.replace(log_file.with_name(log_file.name + ".1"))
    except FileNotFoundError:
        pass


def _launch(
    binary: Binary,
    port: int,
    data_dir: Path,
    owns_dir: bool,
    persistence: bool,
    password: str | None,
    extra_args: Sequence[str],
    startup_timeout: float,
    dir_lock: IO[bytes],
    keep: bool,
) -> RedisServer:
    log_file = data_dir / LOG_FILE
    _rotate_log(log_file)
    args = [str(binary.server), "--port", str(port), "--bind", "127.0.0.1"]
    args += ["--dir", str(data_dir), "--logfile", str(log_file), "--daemonize", "no"]
    args += ["--protected-mode", "yes"]
    if persistence:
        args += ["--appendonly", "yes", "--save", "3600 1 300 100 60 10000"]
    else:
        args += ["--appendonly", "no", "--save", ""]
    if binary.timeseries is not None:
        args += ["--loadmodule", str(binary.timeseries)]
    args += list(extra_args)
    # The password goes in a config file only we can read, so it never shows in the
    # process list.
    if password is not None:
        conf = data_dir / CONF_FILE
        private_file(conf, f"requirepass {_quote_conf(password)}\n")
        args.insert(1, str(conf))
    users = open_private(data_dir / USERS_FILE)  # held while we use the server
    fcntl.flock(users, fcntl.LOCK_SH)
    watchdog_args = [sys.executable, "-I", str(_WATCHDOG), users.name]  # -I: stdlib only
    watchdog_args += ["--pass-fd", str(dir_lock.fileno()), "--log", str(log_file)]
    watchdog_args += ["--state", str(data_dir / STATE_FILE)]
    if keep:
        watchdog_args.append("--keep")
    if owns_dir:
        watchdog_args += ["--remove-dir", str(data_dir)]
    try:
        with open_private(log_file) as early_output:  # errors printed before the log file opens
            watchdog = subprocess.Popen(
                [*watchdog_args, "--", *args],
                env=binary.env(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=early_output,
                pass_fds=(dir_lock.fileno(),),
                start_new_session=True,  # a Ctrl-C in the terminal is not the server's
            )
    except OSError as exc:
        users.close()
        raise ServerUnavailableError(f"cannot run the watchdog of {binary.server}: {exc}") from exc
    assert watchdog.stdout is not None
    first = watchdog.stdout.readline().decode(errors="replace").strip()
    if not first.isdigit():
        users.close()
        watchdog.stdout.close()
        watchdog.wait()
        raise ServerUnavailableError(first.removeprefix("error ") or f"{binary.server} failed")
    server = RedisServer(
        port=port,
        pid=int(first),
        data_dir=data_dir,
        password=password,
        users=users,
        binary=binary,
        watchdog=watchdog,
    )
    with _live_lock:
        _live.add(server)
    try:
        _wait_ready(server, watchdog.stdout, log_file, startup_timeout)
    except BaseException:
        server.shutdown()
        raise
    finally:
        watchdog.stdout.close()
    return server


def _wait_ready(server: RedisServer, news: IO[bytes], log_file: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    client = server.client(socket_connect_timeout=1, socket_timeout=5)
    try:
        while True:
            if not server.running:
                how = news.read().decode(errors="replace").strip() or "exited"
                raise ServerUnavailableError(f"redis-server on port {server.port} {how}")
            try:
                client.ping()
                break
            except redis.exceptions.BusyLoadingError:
                pass
            except redis.exceptions.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise ServerUnavailableError(
                    f"redis-server on port {server.port} did not answer PING within {timeout}s: "
                    f"{_tail(log_file)}"
                )
            time.sleep(0.02)
        identify(server, client)
    finally:
        client.close()


def identify(server: RedisServer, client: redis.Redis) -> None:
    """Fill in ``server.version`` and ``server.modules`` from the server itself."""
    server.version = str(client.info("server")["redis_version"])
    server.modules = {m["name"]: int(m.get("ver", 0)) for m in RedisClient(client).module_list()}


def _tail(log_file: Path) -> str:
    lines = log_file.read_text(errors="replace").splitlines() if log_file.exists() else []
    return " | ".join(line.strip() for line in lines[-8:] if line.strip()) or "(no output)"


def _quote_conf(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@atexit.register
def _stop_all() -> None:
    with _live_lock:
        servers = list(_live)
    for server in servers:
        server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hxredis.server provision|check``: provision binaries or start each kind once."""
    parser = argparse.ArgumentParser(prog="python -m hxredis.server", description=main.__doc__)
    parser.add_argument("command", choices=["provision", "check"])
    parser.add_argument("--cache-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    cache = args.cache_dir or default_cache_dir()
    try:
        for name, find in (("stack", find_stack), ("plain", find_plain)):
            binary = find(cache)
            print(f"{name}: {binary.server}")
            if args.command == "check":
                with start_server(binary=binary, cache_dir=cache) as srv:
                    print(f"  {srv!r}")
    except ServerUnavailableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
