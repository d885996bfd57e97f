"""Haystack units: every id of a unit names the same unit, written as its symbol.

The database is Fantom's ``etc/sys/units.txt`` (the Project Haystack unit database, shipped
as ``data/units.txt``): one unit per line, comma-separated ids, the first id is the unit's
name and the **last id its symbol**, the canonical written form (``second, s, sec`` ->
``sec``; ``us_dollar, USD, $`` -> ``$``). Lookups are exact and case-sensitive.

A name absent from the database that starts with ``_`` and holds only unit-id characters
(ASCII letters, ``_ % / $`` and characters above U+0080, no digits) is a custom unit: it is
its own symbol (``_foo``), as Haxall auto-defines it.

Units are plain ``str`` symbols in hxredis; two units are the same unit exactly when their
symbols are equal.
"""

from __future__ import annotations

import re
from importlib.resources import files

from .errors import ParseError

__all__ = [
    "canonical_unit",
    "canonical_unit_strict",
    "duration_seconds",
    "is_unit",
    "quantity_of",
]

_CUSTOM_UNIT = re.compile(r"_[A-Za-z_%/$\u0081-\U0010ffff]*")

# Seconds per unit of the durations Haxall's Number.toDuration knows (by unit name). Haxall
# counts a month as 30 days and a year as 365 days; it treats no other time unit (``cs``,
# ``ds``) as a duration.
_DURATION_SECONDS_BY_NAME = {
    "nanosecond": 1e-9,
    "microsecond": 1e-6,
    "millisecond": 1e-3,
    "second": 1.0,
    "minute": 60.0,
    "hour": 3600.0,
    "day": 86400.0,
    "week": 604800.0,
    "julian_month": 2592000.0,
    "year": 31536000.0,
}


def _load() -> tuple[dict[str, str], dict[str, str], dict[str, float]]:
    """Parse data/units.txt into (id -> symbol, symbol -> quantity, id -> duration seconds)."""
    text = (files(__package__) / "data" / "units.txt").read_text(encoding="utf-8")
    symbol_of: dict[str, str] = {}
    quantity: dict[str, str] = {}
    seconds: dict[str, float] = {}
    current_quantity = ""
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):  # "[heating rate (sec-1*K1)]"
            current_quantity = line[1 : line.index(" (")]
            continue
        ids = line.split(",")
        symbol = ids[-1]
        quantity[symbol] = current_quantity
        duration = _DURATION_SECONDS_BY_NAME.get(ids[0])
        for unit_id in ids:
            symbol_of[unit_id] = symbol
            if duration is not None:
                seconds[unit_id] = duration
    return symbol_of, quantity, seconds


# _SYMBOL_OF grows as custom units are first seen, so each is validated only once.
_SYMBOL_OF, _QUANTITY_OF, _SECONDS_OF = _load()


def canonical_unit(text: str) -> str:
    """Return the symbol of the unit named by ``text``, one of its ids or a custom unit name.

    ``canonical_unit("s") == canonical_unit("second") == "sec"``; ``canonical_unit("USD") ==
    "$"``; ``canonical_unit("_foo") == "_foo"``. Raises :class:`~hxredis.errors.ParseError`
    (``Invalid unit name 'x'``) for any other text.
    """
    symbol = _SYMBOL_OF.get(text)
    if symbol is not None:
        return symbol
    if isinstance(text, str) and _CUSTOM_UNIT.fullmatch(text):
        _SYMBOL_OF[text] = text
        return text
    raise ParseError(f"Invalid unit name '{text}'")


def canonical_unit_strict(text: str) -> str:
    """Return ``text`` if it is a unit's symbol or a custom unit name (Haxall's strictUnit mode).

    ``"sec"`` passes; ``"s"`` and ``"second"`` (other ids of ``sec``) raise
    :class:`~hxredis.errors.ParseError`, as does any text that is not a unit at all.
    """
    symbol = canonical_unit(text)
    if symbol != text:
        raise ParseError(f"Unit '{text}' is not the canonical symbol '{symbol}'")
    return symbol


def is_unit(text: str) -> bool:
    """Return whether ``text`` names a unit: one of its ids or a legal custom unit name."""
    try:
        canonical_unit(text)
    except ParseError:
        return False
    return True


def duration_seconds(unit: str | None) -> float | None:
    """Return the number of seconds in one ``unit`` if it is a duration unit, else None.

    Any id of the unit works (``"h"``, ``"hr"``, ``"hour"`` -> 3600.0). The durations are
    those of Haxall's ``Number.toDuration``: ``ns µs ms sec min hr day wk mo yr``, with a
    month of 30 days and a year of 365 days. Every other unit, an unknown name and None give
    None.
    """
    return _SECONDS_OF.get(unit)  # type: ignore[arg-type]


def quantity_of(unit: str | None) -> str | None:
    """Return the quantity of the unit named by any of its ids (``"°F"`` -> ``"temperature"``).

    Quantities are the section names of the unit database (``"time"``, ``"currency"``,
    ``"dimensionless"``, ...). Custom units, unknown names and None give None.
    """
    symbol = _SYMBOL_OF.get(unit)  # type: ignore[arg-type]
    return _QUANTITY_OF.get(symbol) if symbol is not None else None
