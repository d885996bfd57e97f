"""Records as a Folio stores them in Redis and as its cache holds them.

Stored, a record is the Trio text of that one record with every Ref's display string
dropped (display names are computed, never stored: folio.md section 6).  Cached, it is a
read-only :class:`~hxredis.record.Rec` whose Refs are the cache's interned instances (one
Ref per id, carrying the live display string) and whose Lists and Dicts are frozen.

:func:`decode_record` and :func:`decode_records` are the hot path of a cold load; they are
the compiled ``hxredis._fastcore.codec`` when available (:data:`NATIVE`) and
:func:`py_decode_record` / :func:`py_decode_records`, their references, otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, time
from typing import Any

from . import _fastcore, trio
from .errors import ParseError
from .record import FrozenList, Rec
from .values import Marker, Number, Ref

__all__ = [
    "NATIVE",
    "cached_value",
    "decode_record",
    "decode_records",
    "encode_record",
    "intern",
    "py_decode_record",
    "py_decode_records",
]


def intern(refs: dict[str, Ref], rec_id: str) -> Ref:
    """The one Ref instance of ``rec_id`` in ``refs`` (created and kept on first use)."""
    ref = refs.get(rec_id)
    if ref is None:
        ref = refs[rec_id] = Ref(rec_id)
    return ref


def cached_value(val: Any, ref_of: Callable[[Ref], Ref]) -> Any:
    """A tag value as the cache holds it: every Ref replaced by ``ref_of(ref)`` (at any depth),
    Lists and Dicts frozen; other values as they are."""
    if isinstance(val, Ref):
        return ref_of(val)
    if isinstance(val, list):
        return FrozenList(cached_value(v, ref_of) for v in val)
    if isinstance(val, Mapping):
        return Rec({k: cached_value(v, ref_of) for k, v in val.items()})
    return val


_SCALARS = (str, Number, Marker, date, time, float, int)


def encode_record(rec: Mapping[str, Any]) -> str:
    """The Trio text stored for ``rec``: Refs without their display strings."""
    scalars = _SCALARS  # most values: they hold no Ref
    return trio.dumps(
        {k: v if isinstance(v, scalars) else cached_value(v, _without_dis) for k, v in rec.items()}
    )


def _without_dis(ref: Ref) -> Ref:
    return ref if ref.dis is None else Ref(ref.id)


def _text(text: bytes | str) -> str:
    """Stored text as str; ParseError (not UnicodeDecodeError) when it is not UTF-8."""
    if isinstance(text, str):
        return text
    try:
        return bytes(text).decode()
    except UnicodeDecodeError as exc:
        raise ParseError(f"not UTF-8 text: {exc}") from None


def _the_record(key: str, recs: list[dict[str, Any]]) -> dict[str, Any]:
    """The one record of a stored text, checked to carry the id it is stored under."""
    if len(recs) != 1:
        raise ParseError(f"expected one record, found {len(recs)}")
    rec = recs[0]
    rec_id = rec.get("id")
    if type(rec_id) is not Ref or rec_id.id != key:
        raise ParseError(f"expected id @{key}, found {rec_id!r}")
    return rec


def _undecodable(exc: Exception) -> ParseError:
    """The ParseError for a stored text whose reading failed with something else."""
    return ParseError(f"cannot decode: {type(exc).__name__}: {exc}")


def py_decode_record(key: str, text: bytes | str, refs: dict[str, Ref]) -> Rec:
    """The cached record for the stored Trio ``text`` of record ``key``: every Ref interned
    in ``refs`` (display strings in the text are ignored), Lists and Dicts frozen.

    Raises :class:`~hxredis.errors.ParseError` when the text is not UTF-8, not Trio, not
    exactly one record, or not the record with id ``key``, and for any other failure of the
    reader (a RecursionError, say): a stored text never raises anything else but MemoryError.
    """
    try:
        rec = _the_record(key, trio.loads(_text(text)))
    except ParseError:
        raise
    except Exception as exc:
        raise _undecodable(exc) from exc

    def ref_of(ref: Ref) -> Ref:
        return intern(refs, ref.id)

    return Rec({tag: cached_value(val, ref_of) for tag, val in rec.items()})


def py_decode_records(
    chunk: Mapping[bytes | str, bytes | str], refs: dict[str, Ref], out: dict[str, Rec]
) -> list[tuple[str, ParseError]]:
    """Decode stored records ``{id: text}`` (as Redis returns them: bytes, or strs from a
    decoding client) into ``out`` (id -> record, :func:`py_decode_record`); returns the
    ``(id, error)`` of each record that failed, in order, and left out."""
    failed = []
    for raw_id, text in chunk.items():
        rec_id = raw_id if isinstance(raw_id, str) else raw_id.decode(errors="backslashreplace")
        try:
            out[rec_id] = py_decode_record(rec_id, text, refs)
        except ParseError as exc:
            failed.append((rec_id, exc))
    return failed


_native = _fastcore.load("codec")
#: True when :func:`decode_record` and :func:`decode_records` are the compiled ones.
NATIVE = _native is not None
decode_record = _native.decode_record if _native else py_decode_record
decode_records = _native.decode_records if _native else py_decode_records
