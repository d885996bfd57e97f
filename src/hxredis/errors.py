"""The exceptions hxredis raises.

Every error hxredis raises derives from :class:`FolioError`, Redis's own failures included.
A few also derive from the built-in exception a Python caller would naturally catch:
:class:`ParseError` is a :class:`ValueError`, :class:`UnknownRecError` a :class:`KeyError`,
:class:`ConnectionError` the built-in :class:`ConnectionError` (:class:`TimeoutError` also the
built-in :class:`TimeoutError`) and :class:`AuthenticationError` a :class:`PermissionError`.
The Redis failures are also the matching redis-py exceptions (``redis.ConnectionError``,
``redis.TimeoutError``, ``redis.AuthenticationError``, ``redis.ResponseError``,
``redis.ReadOnlyError``), so code written for redis-py keeps catching them; the redis-py
exception behind one is chained as ``__cause__``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import redis.exceptions as _redis

__all__ = [
    "AuthenticationError",
    "CommitError",
    "CommitOutcomeUnknownError",
    "ConcurrentChangeError",
    "ConnectionError",
    "DiffError",
    "FolioError",
    "HisConfigError",
    "HisWriteError",
    "InvalidRecIdError",
    "InvalidTagNameError",
    "InvalidTagValueError",
    "LoadError",
    "ParseError",
    "ReadOnlyError",
    "RecError",
    "SchemaVersionError",
    "ServerError",
    "ShutdownError",
    "TimeoutError",
    "UnknownRecError",
]

_BuiltinConnectionError = ConnectionError
_BuiltinTimeoutError = TimeoutError


class FolioError(Exception):
    """Base class of every error raised by hxredis."""

    __repr__ = BaseException.__repr__  # redis-py's would hide the message


class ParseError(FolioError, ValueError):
    """Malformed text: Zinc, Trio, a filter, a Ref id, a timezone or unit name.

    ``line`` and ``col`` (1-based) locate the problem when the input was text.
    """

    def __init__(self, msg: str, line: int | None = None, col: int | None = None) -> None:
        self.msg = msg
        self.line = line
        self.col = col
        if line is not None:
            where = f"line {line}" if col is None else f"line {line}, col {col}"
            msg = f"{msg} [{where}]"
        super().__init__(msg)


class DiffError(FolioError):
    """A Diff is malformed: bad flags, a tag rule broken, an empty or mixed batch."""


class InvalidTagNameError(FolioError):
    """A tag name in a Diff's changes is not a valid Haystack tag name."""


class InvalidTagValueError(FolioError):
    """A tag value in a Diff's changes cannot be stored."""


class InvalidRecIdError(FolioError):
    """The id of a record being added cannot be used."""


class CommitError(FolioError):
    """A commit was refused: duplicate add, missing record, tag overlap."""


class ConcurrentChangeError(CommitError):
    """The record changed since the Diff's old record was read (``mod`` mismatch)."""


class CommitOutcomeUnknownError(CommitError):
    """Redis may or may not have applied a commit: the connection failed or timed out after
    the commit was sent, and neither the change stream nor the stored ``mod`` could settle
    which.  The commit was not re-sent; read the records to see where they stand."""


class LoadError(CommitError):
    """Records stored in Redis could not be loaded."""


class UnknownRecError(FolioError, KeyError):
    """No live record matches the id or filter."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ShutdownError(FolioError):
    """The database is closed."""


class SchemaVersionError(FolioError):
    """The database in Redis was written by an unknown schema version."""


class RecError(FolioError):
    """An error about one record; the message ends with ``[@id]`` when it has one."""

    def __init__(self, rec: Mapping[str, Any] | None, msg: str) -> None:
        self.rec = rec
        rec_id = rec.get("id") if rec is not None else None
        if rec_id is not None:
            msg = f"{msg} [@{getattr(rec_id, 'id', rec_id)}]"
        super().__init__(msg)


class HisConfigError(RecError):
    """A point record is not configured for history (tags point, his, kind, tz, unit)."""


class HisWriteError(RecError):
    """History items cannot be written (timezone, kind or unit mismatch, bad timestamps)."""


class ConnectionError(FolioError, _redis.ConnectionError, _BuiltinConnectionError):
    """Redis cannot be reached: connection refused, reset or lost.  The message names the
    server (never its password)."""


class TimeoutError(ConnectionError, _redis.TimeoutError, _BuiltinTimeoutError):
    """Redis did not answer within the socket timeout.  A write that timed out may or may not
    have been applied (commits raise :class:`CommitOutcomeUnknownError` instead)."""


class AuthenticationError(FolioError, _redis.AuthenticationError, PermissionError):
    """Redis refused the credentials (wrong user or password) or the ACL user lacks a
    permission the operation needs."""


class ServerError(FolioError, _redis.ResponseError):
    """Redis answered with an error: busy running a script (``BUSY``), still loading its data
    (``LOADING``), out of memory (``OOM``), a read-only replica (``READONLY``) or another
    error reply.  ``code`` is the error's first word, e.g. ``"OOM"``."""

    def __init__(self, msg: str, code: str = "") -> None:
        self.code = code
        super().__init__(msg)


class ReadOnlyError(ServerError, _redis.ReadOnlyError):
    """A write was refused: the server is a read-only replica, or the Folio was opened with
    ``read_only=True``."""
