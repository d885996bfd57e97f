"""How Redis failures reach callers: every redis-py exception becomes an :class:`FolioError`
subclass (see :mod:`hxredis.errors`) whose message names the server, never its password, and
says what to do.  The redis-py exception is chained as ``__cause__``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis
import redis.exceptions as rx

from .errors import (
    AuthenticationError,
    ConnectionError,
    FolioError,
    ReadOnlyError,
    ServerError,
    TimeoutError,
)

__all__ = ["describe", "redis_failures", "translate"]


def describe(client: redis.Redis) -> str:
    """Where ``client`` connects, as ``host:port/db`` or the unix socket path; no password."""
    kwargs = getattr(getattr(client, "connection_pool", None), "connection_kwargs", {})
    if kwargs.get("path"):
        return f"unix:{kwargs['path']}"
    return f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"


def translate(exc: BaseException, server: str) -> FolioError:
    """The hxredis error for a redis-py failure talking to ``server``."""
    if isinstance(exc, FolioError):
        return exc
    text = str(exc)
    where = f"Redis at {server}"
    if isinstance(exc, rx.NoPermissionError):
        return AuthenticationError(
            f"{where}: the ACL user lacks a permission hxredis needs ({text}); grant it or "
            "open with read_only=True"
        )
    if isinstance(exc, (rx.AuthenticationError, rx.AuthenticationWrongNumberOfArgsError)):
        return AuthenticationError(
            f"{where} refused the credentials ({text}); check the user and password"
        )
    if isinstance(exc, rx.BusyLoadingError):
        return ServerError(
            f"{where} is still loading its data into memory; try again in a moment", "LOADING"
        )
    if isinstance(exc, rx.TimeoutError):
        return TimeoutError(
            f"{where} did not answer in time ({text}); the server may be paused, overloaded "
            "or running a long script"
        )
    if isinstance(exc, rx.ConnectionError):
        return ConnectionError(f"cannot reach {where}: {text}; is the server running?")
    if isinstance(exc, rx.ReadOnlyError):
        return ReadOnlyError(
            f"{where} refused a write: it is a read-only replica ({text})", "READONLY"
        )
    if isinstance(exc, rx.OutOfMemoryError):
        return ServerError(
            f"{where} is out of memory (maxmemory reached) and refused a write; free memory, "
            "raise maxmemory or remove records",
            "OOM",
        )
    code = text.split(" ", 1)[0] if text[:1].isupper() else ""
    if code == "BUSY":
        return ServerError(
            f"{where} is busy running a script; try again when it has finished ({text})", code
        )
    return ServerError(f"{where} answered with an error: {text}", code)


@contextmanager
def redis_failures(server: str) -> Iterator[None]:
    """Raise the hxredis error (:func:`translate`) for any redis-py failure inside."""
    try:
        yield
    except rx.RedisError as exc:
        raise translate(exc, server) from exc
