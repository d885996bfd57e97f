"""The Redis client layer: URIs to redis-py clients, module detection, RedisTimeSeries.

redis-py does connections, pools, TLS, ACL users, Cluster, pipelines and scripts;
:class:`RedisClient` adds only what hxredis needs on top: URI validation that never shows a
password, MODULE LIST detection, and the RedisTimeSeries commands the history backends use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .errors import HisConfigError

__all__ = ["DEFAULT_TIMEOUT", "RedisClient", "client_options", "redis_from_url"]


DEFAULT_TIMEOUT = 5.0
"""Seconds a client waits to connect and for each reply, unless the caller says otherwise."""


def client_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """redis-py client ``options`` with hxredis's defaults filled in: ``socket_timeout`` and
    ``socket_connect_timeout`` of :data:`DEFAULT_TIMEOUT` and ``retry`` with no retries, so a
    command is never re-sent blindly, whatever redis-py version is installed.  Options the
    caller gives win."""
    out = dict(options)
    out.setdefault("socket_timeout", DEFAULT_TIMEOUT)
    out.setdefault("socket_connect_timeout", DEFAULT_TIMEOUT)
    if "retry" not in out:
        out["retry"] = Retry(NoBackoff(), 0)
    return out


def redis_from_url(uri: str, **options: Any) -> redis.Redis:
    """A redis-py client for ``redis://``, ``rediss://`` or ``unix://`` URIs; ``options`` go
    to redis-py (TLS files, timeouts ...; defaults from :func:`client_options`; options in
    the URI's query win).

    The user information is everything between ``://`` and the URI's last ``@``, so a
    password may hold ``/``, ``#``, ``?``, ``@`` or ``:`` unencoded (percent-encoded ones are
    decoded; an ``@`` in query options must be encoded as ``%40``).  A malformed URI
    (unknown scheme, non-numeric database index, bad port) raises ValueError whose message,
    and anything chained to it, never contains the password."""
    if not isinstance(uri, str) or not re.match(r"(rediss?|unix)://", uri):
        raise ValueError(
            f"invalid Redis URI {_redact(uri)!r}: expected redis://, rediss:// or unix://"
        )
    bare, user, password = _split_credentials(uri)
    path = re.match(r"rediss?://[^/?#]*(/[^?#]*)?", bare)
    if path is not None and path.group(1) not in (None, "", "/"):
        db_index = path.group(1)[1:]
        if not db_index.isdigit():
            raise ValueError(
                f"invalid Redis URI {_redact(uri)!r}: database index "
                f"{_scrub(db_index, uri)!r} is not a number"
            )
    if user:
        options["username"] = user
    if password:
        options["password"] = password
    try:
        return redis.Redis.from_url(bare, **client_options(options))
    except (ValueError, TypeError) as exc:  # raised below, outside, so nothing is chained
        problem = _scrub(str(exc), uri)
    raise ValueError(f"invalid Redis URI {_redact(uri)!r}: {problem}")


def _user_info(uri: str) -> tuple[str, str | None, str]:
    """``(scheme://, user information or None, the rest)``; without ``://`` the scheme part
    is empty and the user information ends at the text's last ``@`` all the same."""
    scheme, sep, rest = uri.partition("://")
    head, rest = (scheme + sep, rest) if sep else ("", uri)
    user_info, at, host = rest.rpartition("@")
    return (head, user_info, host) if at else (head, None, rest)


def _split_credentials(uri: str) -> tuple[str, str, str]:
    """``(uri without user information, user, password)``, the last two percent-decoded."""
    head, user_info, host = _user_info(uri)
    if user_info is None:
        return uri, "", ""
    user, _, password = user_info.partition(":")
    return head + host, unquote(user), unquote(password)


def _secrets(uri: str) -> list[str]:
    """Every form of the URI's user information that could show a password, longest first."""
    user_info = _user_info(uri)[1]
    if user_info is None:
        return []
    password = user_info.partition(":")[2] if ":" in user_info else user_info
    forms = {user_info, unquote(user_info), password, unquote(password)}
    return sorted((form for form in forms if form), key=len, reverse=True)


def _scrub(text: str, uri: str) -> str:
    """``text`` with every form of the URI's user information replaced by ``***``."""
    for secret in _secrets(uri):
        text = text.replace(secret, "***")
    return text


def _redact(uri: object) -> str:
    """The URI with its password (all its user information when there is no ``:``) replaced
    by ``***``."""
    text = str(uri)
    head, user_info, host = _user_info(text)
    if user_info is None:
        return text
    user = f"{user_info.partition(':')[0]}:" if ":" in user_info else ""
    return f"{head}{user}***@{host}"


def as_text(val: bytes | str) -> str:
    """A Redis reply value as str (redis-py gives bytes unless the client decodes)."""
    return val.decode() if isinstance(val, bytes) else val


class RedisClient:
    """A thin layer over a redis-py client (``.redis``).

    >>> client = RedisClient.from_url("redis://127.0.0.1:6390/0")
    >>> client.has_module("timeseries")
    """

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._modules: dict[str, int] | None = None

    @classmethod
    def from_url(cls, uri: str, **options: Any) -> RedisClient:
        """A client for ``uri`` (see :func:`redis_from_url`)."""
        return cls(redis_from_url(uri, **options))

    def module_list(self) -> list[dict[str, Any]]:
        """MODULE LIST as ``[{"name": "timeseries", "ver": 11202}, ...]`` (asked every call)."""
        modules = [
            {as_text(k): as_text(v) if isinstance(v, bytes) else v for k, v in entry.items()}
            for entry in self.redis.module_list()
        ]
        self._modules = {m["name"]: int(m.get("ver", 0)) for m in modules}
        return modules

    def has_module(self, name: str) -> bool:
        """True when the server has module ``name`` (MODULE LIST, asked once)."""
        if self._modules is None:
            self.module_list()
        assert self._modules is not None
        return name in self._modules

    def _require_timeseries(self) -> None:
        if not self.has_module("timeseries"):
            raise HisConfigError(None, "this Redis server has no RedisTimeSeries module")

    def ts_create(self, key: str, **options: Any) -> None:
        """TS.CREATE ``key``; ``options`` as redis-py's ``ts().create`` (``retention_msecs``,
        ``labels``, ``duplicate_policy``, ``chunk_size``, ``uncompressed``)."""
        self._require_timeseries()
        self.redis.ts().create(key, **options)

    def ts_add(self, key: str, ts: int, val: float) -> int:
        """TS.ADD one sample (epoch ms); returns its timestamp."""
        self._require_timeseries()
        return int(self.redis.ts().add(key, ts, val))

    def ts_madd(self, triples: Iterable[tuple[str, int, float]]) -> list[int]:
        """TS.MADD ``(key, epoch ms, value)`` triples in one command; their timestamps."""
        self._require_timeseries()
        return [int(t) for t in self.redis.ts().madd(list(triples))]

    def ts_range(self, key: str, start: int | str, end: int | str) -> list[tuple[int, float]]:
        """TS.RANGE ``start`` .. ``end`` (epoch ms, inclusive; ``-``/``+`` for the ends)."""
        self._require_timeseries()
        return [(int(t), float(v)) for t, v in self.redis.ts().range(key, start, end)]

    def ts_revrange(
        self, key: str, start: int | str, end: int | str, count: int | None = None
    ) -> list[tuple[int, float]]:
        """TS.REVRANGE ``start`` .. ``end``, newest first, at most ``count`` samples."""
        self._require_timeseries()
        reply = self.redis.ts().revrange(key, start, end, count=count)
        return [(int(t), float(v)) for t, v in reply]

    def ts_info(self, key: str) -> dict[str, Any]:
        """TS.INFO as a dict: ``total_samples``, ``first_timestamp``, ``last_timestamp``,
        ``memory_usage``, ``duplicate_policy`` ..."""
        self._require_timeseries()
        info = self.redis.ts().info(key)
        return {
            "total_samples": info.total_samples,
            "first_timestamp": info.first_timestamp,
            "last_timestamp": info.last_timestamp,
            "memory_usage": info.memory_usage,
            "duplicate_policy": as_text(info.duplicate_policy)
            if info.duplicate_policy is not None
            else None,
        }

    def ts_del_range(self, key: str, start: int, end: int) -> int:
        """TS.DEL samples from ``start`` to ``end`` (epoch ms, inclusive); how many."""
        self._require_timeseries()
        return int(self.redis.ts().delete(key, start, end))

    def close(self) -> None:
        """Release the connections."""
        self.redis.close()

    def __enter__(self) -> RedisClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
