"""Point checks and item normalization: Haxall's ``FolioUtil.hisWriteCheck`` (folio.md §4.3).

:func:`point_config` checks a point record's tags in Haxall's order and raises
:class:`~hxredis.errors.HisConfigError` with Haxall's messages; :func:`normalize` turns the
items of a ``his.write`` into sorted ``(epoch ms, value)`` pairs with one pair per timestamp
(the last item wins) or raises :class:`~hxredis.errors.HisWriteError`.

Timestamps are floored to the point's precision (1 s or 1 ms) towards negative infinity
(Haxall floors towards 2000-01-01 for sub-second times before 2000, an untested quirk).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from .. import timezones, units
from ..errors import HisConfigError, HisWriteError
from ..values import MARKER, NA, REMOVE, Coord, Number, Span, kind_of

__all__ = [
    "PointConfig",
    "epoch_ms",
    "ms_datetime",
    "normalize",
    "point_config",
    "read_config",
    "span_ms",
]

HIS_KINDS = {"Number": Number, "Bool": bool, "Str": str, "Coord": Coord}
_KNOWN_KINDS = {
    *HIS_KINDS,
    *("Marker", "NA", "Remove", "Uri", "Ref", "Symbol", "Date", "Time", "DateTime"),
    *("XStr", "List", "Dict", "Grid", "Span", "Bin", "Obj"),
}
_MIN_YEAR = 1950


@dataclass(frozen=True)
class PointConfig:
    """A checked point: ``kind`` (Number, Bool, Str or Coord), the tz name as tagged and its
    zone, the canonical unit (or None) and the timestamp precision in ms (1000 or 1)."""

    kind: str
    tz_name: str
    zone: tzinfo
    unit: str | None
    precision_ms: int


def point_config(rec: Mapping[str, Any]) -> PointConfig:
    """The history configuration of ``rec``; HisConfigError (Haxall's message, in Haxall's
    order of checks) when it is not a usable history point."""
    if rec.get("point") is not MARKER:
        raise HisConfigError(rec, "Rec missing 'point' tag")
    if rec.get("his") is not MARKER:
        raise HisConfigError(rec, "Rec missing 'his' tag")
    if "aux" in rec:
        raise HisConfigError(rec, "Rec marked as 'aux'")
    if "trash" in rec:
        raise HisConfigError(rec, "Rec marked as 'trash'")
    return _config(rec)


def read_config(rec: Mapping[str, Any]) -> PointConfig:
    """The checks of ``his.read`` (folio.md §4.1), then the tag checks of :func:`point_config`."""
    if rec.get("point") is not MARKER or rec.get("his") is not MARKER:
        raise HisConfigError(rec, "Not tagged as his point")
    if "aux" in rec:
        raise HisConfigError(rec, "Cannot read aux point")
    if "trash" in rec:
        raise HisConfigError(rec, "Rec marked as 'trash'")
    return _config(rec)


def _config(rec: Mapping[str, Any]) -> PointConfig:
    kind = _str_tag(rec, "kind")
    if kind not in _KNOWN_KINDS:
        raise HisConfigError(rec, f"Invalid 'kind' tag: {kind}")
    if kind not in HIS_KINDS:
        raise HisConfigError(rec, f"Unsupported 'kind' for his: {kind}")
    tz_text = _str_tag(rec, "tz")
    if not timezones.is_tz_name(tz_text):
        raise HisConfigError(rec, f"Invalid 'tz' tag: {tz_text}")
    unit = rec.get("unit")
    if unit is not None:
        if not isinstance(unit, str):
            raise HisConfigError(rec, "Invalid type for 'unit' tag")
        if not units.is_unit(unit):
            raise HisConfigError(rec, f"Invalid 'unit' tag: {unit}")
        unit = units.canonical_unit(unit)
    return PointConfig(kind, tz_text, timezones.tz(tz_text), unit, _precision(rec))


def _str_tag(rec: Mapping[str, Any], name: str) -> str:
    val = rec.get(name)
    if val is None:
        raise HisConfigError(rec, f"Missing '{name}' tag")
    if not isinstance(val, str):
        raise HisConfigError(rec, f"Invalid type for '{name}' tag: {_type_name(val)}")
    return val


def _precision(rec: Mapping[str, Any]) -> int:
    val = rec.get("hisTsPrecision")
    if val is None:
        return 1000
    if not isinstance(val, Number):
        raise HisConfigError(rec, "Invalid type for hisTsPrecision")
    seconds = units.duration_seconds(val.unit)
    if seconds is not None and val.val * seconds == 1.0:
        return 1000
    if seconds is not None and val.val * seconds * 1000 == 1.0:
        return 1
    raise HisConfigError(rec, f"Unsupported hisTsPrecision: {val}")


def _type_name(val: Any) -> str:
    try:
        return kind_of(val)
    except TypeError:
        return type(val).__name__


def epoch_ms(ts: datetime) -> int:
    """Milliseconds since 1970-01-01 UTC of an aware datetime, floored."""
    delta = ts - _EPOCH
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


def ms_datetime(ms: int, zone: tzinfo) -> datetime:
    """An epoch-ms timestamp as an aware datetime in ``zone`` (the inverse of epoch_ms)."""
    return (_EPOCH + timedelta(milliseconds=ms)).astimezone(zone)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezones.UTC)


def span_ms(span: Span) -> tuple[int, int]:
    """A Span as the inclusive epoch-ms bounds of the (whole-ms) samples it contains."""
    return _epoch_ms_ceil(span.start), _epoch_ms_ceil(span.end) - 1


def _epoch_ms_ceil(ts: datetime) -> int:
    ms = epoch_ms(ts)
    return ms if ts.microsecond % 1000 == 0 else ms + 1


def normalize(
    rec: Mapping[str, Any], config: PointConfig, items: Iterable[Any]
) -> list[tuple[int, Any]]:
    """``items`` (HisItems or ``(ts, val)`` pairs) as sorted ``(epoch ms, value)`` pairs, one
    per floored timestamp (the last item in timestamp order wins; input order breaks ties).

    Values are normalized as folio.md §4.3 says: unitless Numbers get the point's unit,
    non-integers are rounded through float32, ``-0.0`` becomes ``0.0``; :data:`NA` and
    :data:`REMOVE` (delete the sample) are kept.  HisWriteError for a timestamp that is not
    an aware datetime in the point's tz or lies before 1950, a None value, a value of
    another kind or unit.
    """
    pairs = []
    for item in items:
        try:
            ts, val = item
        except (TypeError, ValueError):
            raise HisWriteError(rec, f"Not a history item: {item!r}") from None
        pairs.append((ts, val, item))
    for ts, _val, item in pairs:
        if not isinstance(ts, datetime) or ts.tzinfo is None:
            raise HisWriteError(rec, f"History timestamp must be an aware datetime: {item!r}")
    if any(pairs[i - 1][0] > pairs[i][0] for i in range(1, len(pairs))):
        pairs.sort(key=lambda p: p[0])
    rec_zone = timezones.tz_name(config.zone)
    out: dict[int, Any] = {}
    for ts, val, item in pairs:
        item_tz = _tz_name(ts)
        if item_tz != rec_zone:
            raise HisWriteError(
                rec, f'Mismatched timezone, rec tz "{config.tz_name}" != item tz "{item_tz}"'
            )
        if ts.year < _MIN_YEAR:
            raise HisWriteError(rec, f"Timestamps before 1950 not supported: {item}")
        ms = epoch_ms(ts) // config.precision_ms * config.precision_ms
        out[ms] = _value(rec, config, val)
    return sorted(out.items())


def _tz_name(ts: datetime) -> str:
    try:
        return timezones.tz_name(ts)
    except ValueError:
        return str(ts.tzinfo)


def _value(rec: Mapping[str, Any], config: PointConfig, val: Any) -> Any:
    if val is None:
        raise HisWriteError(rec, "Cannot write null val")
    if val is NA or val is REMOVE:
        return val
    expected = HIS_KINDS[config.kind]
    if type(val) is not expected:
        raise HisWriteError(
            rec,
            f'Mismatched value type, rec kind "{config.kind}" != item type "{_type_name(val)}"',
        )
    if expected is not Number:
        return val
    if val.unit is not None and val.unit != config.unit:
        raise HisWriteError(
            rec, f"Mismatched unit, rec unit '{config.unit or 'null'}' != item unit '{val.unit}'"
        )
    return Number(float32_round(val.val), config.unit)


def float32_round(f: float) -> float:
    """Haxall's history rounding: a non-integer (or beyond +/-1e12) float through IEEE-754
    float32, integers exactly; ``-0.0`` becomes ``0.0``; NaN and infinities unchanged."""
    if f == 0.0:
        return 0.0
    if (f.is_integer() and -1e12 <= f <= 1e12) or not math.isfinite(f):
        return f
    try:
        rounded: float = struct.unpack("<f", struct.pack("<f", f))[0]
    except OverflowError:
        return math.copysign(math.inf, f)
    return rounded + 0.0  # a tiny negative rounds to -0.0, which becomes 0.0 too
