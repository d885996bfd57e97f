"""Haystack timezone names and the ``zoneinfo`` zones they stand for.

Haystack names a timezone by the city part of its IANA id: ``America/New_York`` is
``New_York``, ``Etc/GMT+5`` is ``GMT+5``. :func:`tz` resolves a name as Haxall's
``TimeZone.fromStr`` does (tzdata 2025c tables, shipped as ``data/timezones.txt`` and
``data/timezone-aliases.txt``):

1. a canonical Haystack name (``New_York``) or its full IANA id (``America/New_York``);
2. else an alias: a tzdata ``backward`` link (``US/Eastern``, ``PST8PDT``, ``Asia/Calcutta``)
   or the last segment of a slash-containing one (``Eastern``, ``Calcutta``), which
   resolves to its canonical zone (``PST8PDT`` is ``Los_Angeles``);
3. else :class:`~hxredis.errors.ParseError`. Names are case-sensitive.

One deliberate choice where Haxall's behaviour does not suit Python:

* **``Rel``** (Fantom's "relative" zone, ``Etc/Rel``) has no IANA zone: it is :data:`REL`,
  a ``ZoneInfo`` at UTC+0 whose abbreviation and Haystack name are ``Rel``.

:data:`UTC` is ``ZoneInfo("Etc/UTC")``, the zone of every UTC DateTime hxredis creates.
"""

from __future__ import annotations

import io
import struct
from datetime import datetime, timedelta, timezone, tzinfo
from functools import cache
from importlib.resources import files
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ParseError

__all__ = ["REL", "UTC", "is_tz_name", "tz", "tz_name"]


def _table(filename: str) -> list[str]:
    """Return the data lines of one of the package's tz tables."""
    text = (files(__package__) / "data" / filename).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def _load() -> tuple[dict[str, str], dict[str, str]]:
    """Build (input -> Haystack name, Haystack name -> zoneinfo key)."""
    key_of = dict(line.split("\t") for line in _table("timezones.txt"))
    name_of: dict[str, str] = {}
    for line in _table("timezone-aliases.txt"):  # sorted: a later last segment wins
        alias, target = line.split("=")
        name_of[alias] = name_of[alias.rpartition("/")[2]] = target
    for name, key in key_of.items():  # canonical names and ids win over aliases
        name_of[name] = name_of[key] = name
    return name_of, key_of


_NAME_OF, _KEY_OF = _load()


class _RelZone(ZoneInfo):
    """Fantom's ``Rel`` zone: UTC+0 named ``Rel``; pickles back to the :data:`REL` singleton."""

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (tz, ("Rel",))


def _utc_tzif(abbr: str) -> bytes:
    """Return a TZif v2 file for a zone always at UTC+0 whose abbreviation is ``abbr``."""
    chars = abbr.encode("ascii") + b"\0"
    # counts: isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt; one ttinfo (0s, no DST)
    block = b"TZif2" + bytes(15) + struct.pack(">6l", 0, 0, 0, 0, 1, len(chars))
    block += struct.pack(">lBB", 0, 0, 0) + chars
    return block + block + b"\n" + abbr.encode("ascii") + b"0\n"


REL: ZoneInfo = _RelZone.from_file(io.BytesIO(_utc_tzif("Rel")), key=_KEY_OF["Rel"])


def _zone(name: str) -> ZoneInfo:
    """Return the zone of a Haystack name known to the tables."""
    key = _KEY_OF[name]
    if key == REL.key:
        return REL
    try:
        return ZoneInfo(key)
    except ZoneInfoNotFoundError:
        raise ParseError(
            f"Timezone {name} ({key}) is missing from the tz database; install tzdata"
        ) from None


@cache
def tz(name: str) -> ZoneInfo:
    """Return the zone of a Haystack timezone name, alias or full IANA id.

    ``tz("New_York")``, ``tz("America/New_York")``, ``tz("US/Eastern")``, ``tz("EST5EDT")``
    and ``tz("Eastern")`` are all ``ZoneInfo("America/New_York")``, the same object.
    ``tz("UTC")`` is :data:`UTC`; ``tz("GMT")`` is ``Etc/GMT`` (not UTC); ``tz("GMT+5")`` is
    ``Etc/GMT+5`` (offset -05:00). Raises :class:`~hxredis.errors.ParseError`
    (``Unknown timezone: x``) for any other name.
    """
    haystack_name = _NAME_OF.get(name) if isinstance(name, str) else None
    if haystack_name is None:
        raise ParseError(f"Unknown timezone: {name}")
    return _zone(haystack_name)


UTC: ZoneInfo = tz("UTC")


def is_tz_name(name: str) -> bool:
    """Return whether :func:`tz` accepts ``name`` (a Haystack name, an alias or an IANA id)."""
    return isinstance(name, str) and name in _NAME_OF


def _fixed_offset_name(zone: timezone) -> str:
    """Return ``UTC`` or ``GMT±h`` for a whole-hour fixed offset, else raise ValueError."""
    offset = zone.utcoffset(None)
    hours, rest = divmod(offset, timedelta(hours=1))
    if rest or not -12 <= hours <= 14:
        raise ValueError(f"Fixed offset {zone} has no Haystack timezone name")
    if hours == 0:
        return "UTC"
    return f"GMT{-hours:+d}"  # POSIX sign: Etc/GMT+5 is UTC-05:00


def tz_name(zone: tzinfo | datetime) -> str:
    """Return the Haystack name of a zone, or of an aware datetime's zone.

    A ``ZoneInfo`` is named by its key: IANA links and aliases resolve to their canonical
    zone, whose name is the id's last segment (``ZoneInfo("US/Pacific")`` ->
    ``"Los_Angeles"``, ``ZoneInfo("UTC")`` -> ``"UTC"``). ``datetime.timezone.utc`` is
    ``"UTC"``; another whole-hour fixed offset is ``GMT±h`` with the POSIX sign
    (UTC-05:00 -> ``"GMT+5"``). Raises ValueError for a naive datetime, any other fixed
    offset, a zone without a Haystack name and other ``tzinfo`` types.
    """
    if isinstance(zone, datetime):
        if zone.tzinfo is None:
            raise ValueError(f"Naive datetime {zone.isoformat()} has no timezone")
        zone = zone.tzinfo
    if isinstance(zone, ZoneInfo):
        name = _NAME_OF.get(zone.key)  # type: ignore[arg-type]
        if name is None:
            raise ValueError(f"Timezone {zone.key!r} has no Haystack name")
        return name
    if isinstance(zone, timezone):
        return _fixed_offset_name(zone)
    raise ValueError(f"Unsupported tzinfo {type(zone).__name__}: use zoneinfo.ZoneInfo")
