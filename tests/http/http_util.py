"""Helpers of the HTTP tests: starting ``hxredis serve`` and its users."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx

import hxredis as hx
from hxredis.http.auth import UserStore
from hxredis.server import RedisServer

T = TypeVar("T")

PASSWORDS = {"admin": "s3cret-Admin-pw", "operator": "op-Pa55word", "viewer": "v1ewer-pw"}


@dataclass
class Served:
    """A running ``hxredis serve``: its base URI, database, Redis server and log file."""

    uri: str
    name: str
    redis: RedisServer
    log: Path
    proc: subprocess.Popen[bytes]

    def open_db(self) -> hx.Folio:
        return hx.open(self.redis.url, name=self.name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_serve(
    redis: RedisServer, name: str, log: Path, *extra: str, workers: int = 1, scheme: str = "http"
) -> Served:
    """Start ``hxredis serve`` on a free port and wait until it answers."""
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    args = [sys.executable, "-m", "hxredis", "--uri", redis.url, "--name", name, "serve"]
    args += ["--port", str(port), "--workers", str(workers), "--log-level", "debug", *extra]
    with log.open("ab") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
    uri = f"{scheme}://127.0.0.1:{port}/api/{name}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{uri}/about", timeout=2, verify=False).status_code == 401:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"hxredis serve did not start: {log.read_text()[-2000:]}")
        time.sleep(0.1)
    return Served(uri, name, redis, log, proc)


def add_users(redis: RedisServer, name: str) -> None:
    with hx.open(redis.url, name=name) as db:
        store = UserStore(db.client, "hx", name)
        for role, password in PASSWORDS.items():
            store.add(role, password, role)


def login(served: Served, user: str = "admin") -> str:
    """A bearer token of ``user`` (phable's SCRAM client does the handshake)."""
    from phable import HaystackClient

    return HaystackClient.open(served.uri, user, PASSWORDS[user])._auth_token


def api(served: Served, token: str, fmt: str = "zinc") -> httpx.Client:
    """An httpx client on ``served``'s API base, authorized with ``token``."""
    mime = {"zinc": "text/zinc", "json": "application/json"}[fmt]
    headers = {"Authorization": f"BEARER authToken={token}", "Accept": mime, "Content-Type": mime}
    return httpx.Client(base_url=served.uri + "/", headers=headers, timeout=30)


def eventually(fn: Callable[[], T], ok: Callable[[T], object], timeout: float = 20.0) -> T:
    """``fn()`` once ``ok`` accepts it: for changes another process makes, which a server's
    Folio sees when it has followed the change stream."""
    deadline = time.monotonic() + timeout
    while True:
        result = fn()
        if ok(result) or time.monotonic() > deadline:
            return result
        time.sleep(0.05)
