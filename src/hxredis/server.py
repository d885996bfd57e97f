"""The launcher: real Redis servers on free loopback ports, for tests, benchmarks, the demo
and the embedded default of :func:`hxredis.open`.

>>> with start_server(timeseries=True) as srv:
...     client = srv.client()
...     client.ping()

A server is started with a private data directory, waits until it answers PING and is
stopped by :meth:`RedisServer.stop`, by leaving the ``with`` block, at interpreter exit,
or (on Linux) by the kernel when the process that started it dies, so no server outlives
its owner, not on a failed test and not on Ctrl-C.  Binaries come from
:mod:`hxredis.provision`.
"""

from __future__ import annotations

import argparse
import atexit
import ctypes
import fcntl
import os
import platform
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

_live: set[RedisServer] = set()
_live_lock = threading.Lock()


class RedisServer:
    """A running ``redis-server`` process owned by this Python process.

    Attributes: ``host``, ``port``, ``data_dir``, ``binary``, ``version`` (``"7.4.1"``),
    ``modules`` (module name to version, e.g. ``{"timeseries": 11202}``).  The password,
    when one was set, is never part of ``repr`` or of :attr:`url`.
    """

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        binary: Binary,
        port: int,
        data_dir: Path,
        owns_data_dir: bool,
        password: str | None,
        dir_lock: IO[str] | None = None,
    ) -> None:
        self.process = process
        self._dir_lock = dir_lock
        self.binary = binary
        self.host = "127.0.0.1"
        self.port = port
        self.data_dir = data_dir
        self._owns_data_dir = owns_data_dir
        self._password = password
        self.version = ""
        self.modules: dict[str, int] = {}

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
        return self.process.poll() is None

    def client(self, **kwargs: Any) -> redis.Redis:
        """A redis-py client for this server (password included); kwargs go to redis.Redis,
        with the defaults of :func:`hxredis.client.client_options` (5 s timeouts, no
        retries)."""
        kwargs.setdefault("password", self._password)
        return redis.Redis(host=self.host, port=self.port, **client_options(kwargs))

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL after ``timeout``); idempotent.

        A data directory the launcher created is deleted; one the caller gave is kept.
        """
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        with _live_lock:
            _live.discard(self)
        if self._dir_lock is not None:
            self._dir_lock.close()  # releases the data directory for the next server
            self._dir_lock = None
        if self._owns_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        mods = ",".join(sorted(self.modules)) or "no modules"
        return f"<RedisServer {self.url} redis {self.version} ({mods}) {state}>"


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
) -> RedisServer:
    """Start a Redis server on a free loopback port and wait until it answers PING.

    ``timeseries``: True for Redis Stack with RedisTimeSeries, False for plain Redis, None
    for Redis Stack when it can be had and plain Redis otherwise.  ``persistence`` turns on
    the append-only file and snapshots in ``data_dir`` (default: a private temporary
    directory, deleted on stop).  ``extra_args`` are appended to the server's command line.
    ``binary`` overrides the provisioned binaries.  Raises :class:`ServerUnavailableError`
    when no suitable binary can be found or provisioned, or the server does not start.
    """
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if binary is None:
        binary = _choose_binary(timeseries, cache)
    elif timeseries and binary.timeseries is None:
        raise ServerUnavailableError(f"{binary.server} has no RedisTimeSeries module to load")
    owns_dir = data_dir is None
    directory = Path(tempfile.mkdtemp(prefix="hxredis-")) if owns_dir else Path(data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    dir_lock = None if owns_dir else _lock_data_dir(directory)
    attempts = 1 if port is not None else 3
    last_error: ServerUnavailableError | None = None
    for _ in range(attempts):
        chosen = port if port is not None else _free_port()
        try:
            return _launch(
                binary, chosen, directory, owns_dir, persistence, password, extra_args,
                startup_timeout, dir_lock,
            )  # fmt: skip
        except ServerUnavailableError as exc:  # another process may have taken the port
            last_error = exc
    if dir_lock is not None:
        dir_lock.close()
    if owns_dir:
        shutil.rmtree(directory, ignore_errors=True)
    assert last_error is not None
    raise last_error


def _choose_binary(timeseries: bool | None, cache: Path) -> Binary:
    if timeseries is False:
        return find_plain(cache)
    try:
        return find_stack(cache)
    except ServerUnavailableError:
        if timeseries:
            raise
        return find_plain(cache)


def _lock_data_dir(directory: Path) -> IO[str]:
    """An exclusive lock on a data directory, held while its server runs: two servers on
    one directory would corrupt each other's files."""
    lock = open(directory / "hxredis.lock", "w")  # noqa: SIM115 - held until stop()
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        raise ServerUnavailableError(
            f"data directory {directory} is in use by another Redis server started by hxredis; "
            "connect to that server with its URI, or choose another data_dir"
        ) from None
    return lock


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _launch(
    binary: Binary,
    port: int,
    data_dir: Path,
    owns_dir: bool,
    persistence: bool,
    password: str | None,
    extra_args: Sequence[str],
    startup_timeout: float,
    dir_lock: IO[str] | None,
) -> RedisServer:
    log_file = data_dir / f"redis-{port}.log"
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
    # The password goes through stdin-free config: a config file readable only by us, so it
    # never shows in the process list.
    if password is not None:
        conf = data_dir / f"redis-{port}.conf"
        conf.touch(mode=0o600)
        conf.write_text(f"requirepass {_quote_conf(password)}\n")
        args.insert(1, str(conf))
    try:
        with open(log_file, "ab") as early_output:  # errors printed before the log file opens
            process = subprocess.Popen(
                args,
                env=binary.env(),
                stdin=subprocess.DEVNULL,
                stdout=early_output,
                stderr=early_output,
                preexec_fn=_die_with_parent if platform.system() == "Linux" else None,
            )
    except OSError as exc:
        raise ServerUnavailableError(f"cannot run {binary.server}: {exc}") from exc
    server = RedisServer(process, binary, port, data_dir, owns_dir, password, dir_lock)
    with _live_lock:
        _live.add(server)
    try:
        _wait_ready(server, log_file, startup_timeout)
    except BaseException:
        server._owns_data_dir = False  # the caller decides about the directory after retries
        server._dir_lock = None  # and keeps the directory locked while retrying
        server.stop()
        raise
    return server


def _wait_ready(server: RedisServer, log_file: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    client = server.client(socket_connect_timeout=1, socket_timeout=5)
    try:
        while True:
            if not server.running:
                raise ServerUnavailableError(
                    f"redis-server on port {server.port} exited with code "
                    f"{server.process.returncode}: {_tail(log_file)}"
                )
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
        server.version = str(client.info("server")["redis_version"])
        server.modules = {
            m["name"]: int(m.get("ver", 0)) for m in RedisClient(client).module_list()
        }
    finally:
        client.close()


def _tail(log_file: Path) -> str:
    lines = log_file.read_text(errors="replace").splitlines() if log_file.exists() else []
    return " | ".join(line.strip() for line in lines[-8:] if line.strip()) or "(no output)"


def _quote_conf(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _die_with_parent() -> None:
    """In the child before exec: ask Linux to SIGTERM it when the parent dies."""
    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


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
