"""The exceptions hxredis raises.

Every Folio error derives from :class:`FolioError`.  A few also derive from the
built-in exception a Python caller would naturally catch: :class:`ParseError`
is a :class:`ValueError` and :class:`UnknownRecError` is a :class:`KeyError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "CommitError",
    "ConcurrentChangeError",
    "DiffError",
    "FolioError",
    "HisConfigError",
    "HisWriteError",
    "InvalidRecIdError",
    "InvalidTagNameError",
    "InvalidTagValueError",
    "LoadError",
    "ParseError",
    "RecError",
    "SchemaVersionError",
    "ShutdownError",
    "UnknownRecError",
]


class FolioError(Exception):
    """Base class of every error raised by hxredis."""


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
