"""Project Haystack value kinds as Python objects.

Scalars without a natural Python type get a small immutable class here (Marker, NA, Remove,
Number, Ref, Uri, Symbol, Coord, XStr, Span); the others map to built-ins: Str = ``str``,
Bool = ``bool``, Date = ``datetime.date``, Time = ``datetime.time``, DateTime = an aware
``datetime.datetime`` (tzinfo a ``zoneinfo.ZoneInfo``), List = ``list``, Dict = any ``Mapping``.
:class:`Grid` models nested grids, :class:`HisItem` one history sample.

Equality follows Haxall: Numbers compare float value (NaN equals NaN, -0.0 equals 0.0) and
canonical unit, Refs compare by id only, DateTimes by instant.
"""

from __future__ import annotations

import itertools
import math
import numbers
import os
import re
import secrets
import time as _time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from datetime import time as Time
from functools import lru_cache
from typing import Any, NamedTuple

from . import timezones, units
from .errors import ParseError

__all__ = [
    "MARKER",
    "NA",
    "REMOVE",
    "Coord",
    "Grid",
    "GridCol",
    "HisItem",
    "Marker",
    "NAType",
    "Number",
    "Ref",
    "RemoveType",
    "Span",
    "Symbol",
    "Uri",
    "XStr",
    "dis_of",
    "is_tag_name",
    "kind_of",
    "macro",
]


def _frozen(self: object, name: str, value: object) -> None:
    raise AttributeError(f"{type(self).__name__} is immutable")


# ------------------------------------------------------------------------------------------------
# Singletons
# ------------------------------------------------------------------------------------------------


class _Singleton:
    """Base of the Marker, NA and Remove singletons: one instance per class, pickle-safe."""

    __slots__ = ()
    _instance: Any = None
    _name = ""
    _text = ""

    def __new__(cls) -> Any:
        if cls._instance is None:
            cls._instance = object.__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return f"hx.{self._name}"

    def __str__(self) -> str:
        return self._text

    def __reduce__(self) -> str:
        return self._name  # pickled by reference to the module-level singleton

    def __copy__(self) -> Any:
        return self

    def __deepcopy__(self, memo: object) -> Any:
        return self


class Marker(_Singleton):
    """The Marker kind: a tag that only signals presence. Use the :data:`MARKER` singleton."""

    __slots__ = ()
    _name = "MARKER"
    _text = "\u2713"


class NAType(_Singleton):
    """The NA kind (not available). Use the :data:`NA` singleton."""

    __slots__ = ()
    _name = "NA"
    _text = "NA"


class RemoveType(_Singleton):
    """The Remove kind: in a Diff's changes it removes a tag. Use the :data:`REMOVE` singleton."""

    __slots__ = ()
    _name = "REMOVE"
    _text = "\u2205"


MARKER = Marker()
NA = NAType()
REMOVE = RemoveType()


# ------------------------------------------------------------------------------------------------
# Number
# ------------------------------------------------------------------------------------------------


def _java_double(f: float) -> str:
    """Java ``Double.toString`` of a finite, non-zero float: shortest round-trip digits,
    plain notation when ``1e-3 <= |f| < 1e7`` else ``d.dddE±n``."""
    r = repr(f)
    sign = ""
    if r[0] == "-":
        sign, r = "-", r[1:]
    mant, _, exp_text = r.partition("e")
    int_part, _, frac_part = mant.partition(".")
    digits = int_part + frac_part
    point = len(int_part) + (int(exp_text) if exp_text else 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    exp10 = point - 1  # f == d.ddd * 10**exp10
    if 1e-3 <= abs(f) < 1e7:
        if exp10 >= 0:
            whole = digits[: exp10 + 1].ljust(exp10 + 1, "0")
            return f"{sign}{whole}.{digits[exp10 + 1 :] or '0'}"
        return f"{sign}0.{'0' * (-exp10 - 1)}{digits}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exp10}"


class Number:
    """A Haystack Number: a float64 value with an optional unit.

    ``unit`` may be any id of a unit (``"s"``, ``"sec"``, ``"second"``); it is stored as the
    canonical symbol (``"sec"``) and raises :class:`ParseError` when unknown.  Numbers are
    immutable and hashable; ``==`` compares the float (NaN equals NaN, -0.0 equals 0.0) and
    the unit, and a Number never equals a plain int or float.  ``<`` and friends require the
    same unit (TypeError otherwise); NaN sorts before every other value.  ``str()`` is the
    Zinc text (``3sec``, ``1.0E-4``, ``INF``).
    """

    __slots__ = ("_unit", "_val")
    __setattr__ = _frozen

    def __init__(self, val: float, unit: str | None = None) -> None:
        if type(val) is not float:
            if isinstance(val, bool) or not isinstance(val, numbers.Real):
                raise TypeError(f"Number value must be a real number, not {type(val).__name__}")
            val = float(val)
        object.__setattr__(self, "_val", val)
        object.__setattr__(self, "_unit", None if unit is None else units.canonical_unit(unit))

    @classmethod
    def from_str(cls, text: str, strict_unit: bool = False) -> Number:
        """Haxall ``Number.fromStr``: exactly one Zinc number token (``12``, ``-2.4%``,
        ``1_000``, ``INF``, ``-INF``, ``NaN``), nothing before or after it.

        With ``strict_unit`` the unit text must be the canonical symbol (``6sec``, not
        ``6s``).  ParseError for anything else.
        """
        special = _SPECIAL_NUMBERS.get(text)
        if special is not None:
            return special
        from .tokenizer import Tokenizer  # the tokenizer imports this module

        first, second = text[:1], text[1:2]
        if not ("0" <= first <= "9" or (first == "-" and "0" <= second <= "9")):
            raise ParseError(f"Invalid Number: {text!r}")
        tokens = Tokenizer(text)
        tok = tokens.next()
        if tok.type != "num" or tokens.pos != len(text):
            raise ParseError(f"Invalid Number: {text!r}")
        num: Number = tok.val
        if strict_unit and num._unit is not None:
            m = _NUMBER_PREFIX.match(text)
            if m is None or text[m.end() :] != num._unit:
                raise ParseError(f"Invalid unit, not the canonical symbol: {text!r}")
        return num

    @property
    def val(self) -> float:
        """The float value."""
        return self._val

    @property
    def unit(self) -> str | None:
        """The canonical unit symbol, or None."""
        return self._unit

    @property
    def is_int(self) -> bool:
        """True when the value is integral and within +/- 1e12 (written without a fraction)."""
        v = self._val
        return v.is_integer() and -1e12 <= v <= 1e12

    def __float__(self) -> float:
        return self._val

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Number):
            return NotImplemented
        a, b = self._val, other._val
        return (a == b or (a != a and b != b)) and self._unit == other._unit

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        v = self._val
        return hash(("nan" if v != v else v, self._unit))

    def _key(self, other: object) -> tuple[tuple[bool, float], tuple[bool, float]]:
        if not isinstance(other, Number):
            raise TypeError(f"cannot compare Number with {type(other).__name__}")
        if self._unit != other._unit:
            raise TypeError(f"cannot compare units {self._unit!r} and {other._unit!r}")
        a, b = self._val, other._val
        return (a == a, a if a == a else 0.0), (b == b, b if b == b else 0.0)

    def __lt__(self, other: Number) -> bool:
        a, b = self._key(other)
        return a < b

    def __le__(self, other: Number) -> bool:
        a, b = self._key(other)
        return a <= b

    def __gt__(self, other: Number) -> bool:
        a, b = self._key(other)
        return a > b

    def __ge__(self, other: Number) -> bool:
        a, b = self._key(other)
        return a >= b

    def compare(self, other: Number) -> int:
        """Haxall ``Number.compare``: -1, 0 or 1.

        Two different non-null units must both be durations and compare as durations,
        otherwise TypeError; when at most one unit is set the floats compare directly.
        NaN sorts first and equals NaN.
        """
        a, b = self._val, other._val
        if self._unit is not None and other._unit is not None and self._unit != other._unit:
            sa = units.duration_seconds(self._unit)
            sb = units.duration_seconds(other._unit)
            if sa is None or sb is None:
                raise TypeError(f"cannot compare units {self._unit!r} and {other._unit!r}")
            a, b = a * sa, b * sb
        if a != a or b != b:
            return (b != b) - (a != a)
        return (a > b) - (a < b)

    def __repr__(self) -> str:
        if self._unit is None:
            return f"Number({self._val!r})"
        return f"Number({self._val!r}, {self._unit!r})"

    def __str__(self) -> str:
        v = self._val
        if v.is_integer() and -1e12 <= v <= 1e12:
            text = str(int(v))
        elif v != v:
            return "NaN"
        elif v == math.inf:
            return "INF"
        elif v == -math.inf:
            return "-INF"
        else:
            text = _java_double(v)
        return text if self._unit is None else text + self._unit

    def __reduce__(self) -> tuple[Any, ...]:
        return (Number, (self._val, self._unit))


_SPECIAL_NUMBERS = {
    "INF": Number(math.inf),
    "-INF": Number(-math.inf),
    "NaN": Number(math.nan),
}
_NUMBER_PREFIX = re.compile(r"-?[0-9]+(?:_[0-9]+)*(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


# ------------------------------------------------------------------------------------------------
# Ref
# ------------------------------------------------------------------------------------------------

_REF_ID = re.compile(r"[A-Za-z0-9_:\-.~]+")
_REF_BAD_CHAR = re.compile(r"[^A-Za-z0-9_:\-.~]")


_CHAR_ESCAPES = {
    "\n": "\\n",
    "\r": "\\r",
    "\f": "\\f",
    "\t": "\\t",
    "\\": "\\\\",
    "'": "\\'",
}


def _char_code(c: str, escape_unicode: bool = True) -> str:
    """Fantom ``Str.toCode('\\'', escape_unicode)`` of one char, for error messages."""
    n = ord(c)
    if c in _CHAR_ESCAPES:
        return f"'{_CHAR_ESCAPES[c]}'"
    if n < 0x20 or (escape_unicode and n > 127):
        return f"'\\u{{{n:x}}}'"
    return f"'{c}'"


class Ref:
    """A Haystack Ref: a record identifier with an optional display string.

    Valid id chars are ``a-z A-Z 0-9 _ : - . ~``; an empty id or any other char raises
    :class:`ParseError`.  ``==`` and ``hash`` use the id only.  ``str(ref)`` is the id.
    Refs are immutable except for the display string, which only the folio updates
    (its "live dis") through :meth:`_set_dis`.
    """

    __slots__ = ("_dis", "_id")
    __setattr__ = _frozen

    null_ref: Ref  # Ref("null"), set below

    def __init__(self, id: str, dis: str | None = None) -> None:
        if type(id) is not str or not _REF_ID.fullmatch(id):
            if not isinstance(id, str):
                raise TypeError(f"Ref id must be str, not {type(id).__name__}")
            if not id:
                raise ParseError("Invalid Ref id (empty string): ")
            bad = _REF_BAD_CHAR.search(id)
            assert bad is not None
            raise ParseError(f"Invalid Ref id (invalid char {_char_code(bad.group())}): {id}")
        if dis is not None and not isinstance(dis, str):
            raise TypeError(f"Ref dis must be str or None, not {type(dis).__name__}")
        object.__setattr__(self, "_id", id)
        object.__setattr__(self, "_dis", dis)

    @classmethod
    def gen(cls) -> Ref:
        """A new unique Ref ``tttttttt-rrrrrrrr``: seconds since 2000-01-01 UTC, then 32 bits
        that count up from a random start (re-drawn in a forked child), so one process never
        repeats an id where Haxall's independent random draws would (a 20,000-record batch
        would collide about once in 20)."""
        secs = (int(_time.time()) - 946684800) & 0xFFFFFFFF
        return cls(f"{secs:08x}-{next(_gen_counter) & 0xFFFFFFFF:08x}")

    @property
    def id(self) -> str:
        """The identifier, without the leading ``@``."""
        return self._id

    @property
    def dis(self) -> str | None:
        """The display string, or None when the Ref carries none."""
        return self._dis

    def _set_dis(self, dis: str | None) -> None:
        """Folio only: update the live display string in place."""
        object.__setattr__(self, "_dis", dis)

    @property
    def is_null(self) -> bool:
        """True for the null ref ``@null``."""
        return self._id == "null"

    @property
    def segments(self) -> list[tuple[str, str]]:
        """The id split on ``:`` into ``(scheme, body)`` pairs; an odd last part has scheme ""."""
        if ":" not in self._id:
            return [("", self._id)]
        toks = self._id.split(":")
        segs = [(toks[i], toks[i + 1]) for i in range(0, len(toks) - 1, 2)]
        if len(toks) % 2:
            segs.append(("", toks[-1]))
        return segs

    @property
    def is_rel(self) -> bool:
        """True for a relative id: one segment without ``scheme:``, and not ``null``."""
        return ":" not in self._id and self._id != "null"

    def to_abs(self, prefix: str) -> Ref:
        """``prefix + id`` keeping the dis; ValueError unless prefix is an id ending in ``:``."""
        if not isinstance(prefix, str) or not _REF_ID.fullmatch(prefix):
            raise ValueError(f"Invalid Ref prefix: {prefix}")
        if prefix[-1] != ":":
            raise ValueError(f"Prefix must end with colon: {prefix}")
        return Ref(prefix + self._id, self._dis)

    def to_rel(self, prefix: str | None) -> Ref:
        """This ref with ``prefix`` stripped when the id starts with it (and is longer)."""
        if prefix is None or len(self._id) <= len(prefix) or not self._id.startswith(prefix):
            return self
        return Ref(self._id[len(prefix) :], self._dis)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Ref):
            return NotImplemented
        return self._id == other._id

    def __ne__(self, other: object) -> bool:
        if not isinstance(other, Ref):
            return NotImplemented
        return self._id != other._id

    def __hash__(self) -> int:
        return hash(self._id)

    def __repr__(self) -> str:
        if self._dis is None:
            return f"Ref({self._id!r})"
        return f"Ref({self._id!r}, {self._dis!r})"

    def __str__(self) -> str:
        return self._id

    def __reduce__(self) -> tuple[Any, ...]:
        return (Ref, (self._id, self._dis))


Ref.null_ref = Ref("null")
_gen_counter = itertools.count(secrets.randbits(32))


def _reseed_gen_counter() -> None:
    global _gen_counter
    _gen_counter = itertools.count(secrets.randbits(32))


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reseed_gen_counter)


# ------------------------------------------------------------------------------------------------
# Uri, Symbol, XStr
# ------------------------------------------------------------------------------------------------


class Uri:
    """A Haystack Uri: ``.val`` is the text.  Never equal to a plain str."""

    __slots__ = ("_val",)
    __setattr__ = _frozen

    def __init__(self, val: str) -> None:
        if not isinstance(val, str):
            raise TypeError(f"Uri value must be str, not {type(val).__name__}")
        object.__setattr__(self, "_val", val)

    @property
    def val(self) -> str:
        """The URI text."""
        return self._val

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Uri):
            return NotImplemented
        return self._val == other._val

    def __hash__(self) -> int:
        return hash((Uri, self._val))

    def __repr__(self) -> str:
        return f"Uri({self._val!r})"

    def __str__(self) -> str:
        return self._val

    def __reduce__(self) -> tuple[Any, ...]:
        return (Uri, (self._val,))


def _is_lower(c: str) -> bool:
    return "a" <= c <= "z"


def _is_tag_char(c: str) -> bool:
    return "a" <= c <= "z" or "A" <= c <= "Z" or "0" <= c <= "9" or c == "_"


class Symbol:
    """A Haystack Symbol (``^hot-water``): ``.val`` is the text without the caret.

    Validated like Haxall ``Symbol.parse``: a *tag* ``foo``, a *conjunct* ``hot-water`` or a
    *key* ``lib:ph``; anything else raises :class:`ParseError` with Haxall's message.
    ``.type`` is ``"tag"``, ``"conjunct"`` or ``"key"``; ``.name`` and ``.parts`` as Haxall.
    Never equal to a plain str.
    """

    __slots__ = ("_parts", "_type", "_val")
    __setattr__ = _frozen

    def __init__(self, val: str) -> None:
        if not isinstance(val, str):
            raise TypeError(f"Symbol value must be str, not {type(val).__name__}")
        if not val:
            raise ParseError("empty str")
        if not _is_lower(val[0]):
            raise ParseError(f"invalid start char: {val}")
        colon = dot = dash = -1
        for i, c in enumerate(val):
            if c == ":":
                if colon >= 0:
                    raise ParseError(f"too many colons: {val}")
                colon = i
            elif c == ".":
                if dot >= 0:
                    raise ParseError(f"too many dots: {val}")
                dot = i
            elif c == "-":
                dash = i
            elif not _is_tag_char(c):
                raise ParseError(f"invalid char {_char_code(c)}: {val}")
        if dot > 0:
            raise ParseError(f"compose symbols deprecated: {val}")
        if colon > 0:
            parts = (val[:colon], val[colon + 1 :])
            for part in parts:
                if not part or not _is_lower(part[0]) or not _is_tag_char(part[-1]):
                    raise ParseError(f"invalid name part: {val}")
            kind = "key"
        elif dash > 0:
            parts = tuple(val.split("-"))
            for part in parts:
                if not part:
                    raise ParseError(f"empty conjunct name: {val}")
                if not _is_lower(part[0]):
                    raise ParseError(f"invalid conjunct name: {val}")
            kind = "conjunct"
        else:
            parts = ()
            kind = "tag"
        object.__setattr__(self, "_val", val)
        object.__setattr__(self, "_type", kind)
        object.__setattr__(self, "_parts", parts)

    @property
    def val(self) -> str:
        """The symbol text, without the leading ``^``."""
        return self._val

    @property
    def type(self) -> str:
        """``"tag"``, ``"conjunct"`` or ``"key"``."""
        return self._type

    @property
    def name(self) -> str:
        """The simple name: the text, or the part after the colon for a key symbol."""
        return self._parts[1] if self._type == "key" else self._val

    @property
    def parts(self) -> list[str]:
        """Conjunct parts, or ``[feature, name]`` of a key; empty for a tag."""
        return list(self._parts)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Symbol):
            return NotImplemented
        return self._val == other._val

    def __hash__(self) -> int:
        return hash((Symbol, self._val))

    def __repr__(self) -> str:
        return f"Symbol({self._val!r})"

    def __str__(self) -> str:
        return self._val

    def __reduce__(self) -> tuple[Any, ...]:
        return (Symbol, (self._val,))


_XSTR_TYPE = re.compile(r"[A-Z][A-Za-z0-9_]*")


class XStr:
    """An extended string ``Type("value")``; Bin and Span text forms are XStr("Bin"/"Span", ...).

    ``type`` must start with an uppercase ASCII letter followed by ASCII alnum or ``_``
    (ParseError otherwise).
    """

    __slots__ = ("_type", "_val")
    __setattr__ = _frozen

    def __init__(self, type: str, val: str) -> None:
        if not isinstance(type, str) or not isinstance(val, str):
            raise TypeError("XStr type and val must be str")
        if not _XSTR_TYPE.fullmatch(type):
            raise ParseError(f"Invalid XStr type: {type!r}")
        object.__setattr__(self, "_type", type)
        object.__setattr__(self, "_val", val)

    @property
    def type(self) -> str:
        """The type name, e.g. ``"Bin"``."""
        return self._type

    @property
    def val(self) -> str:
        """The string value."""
        return self._val

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, XStr):
            return NotImplemented
        return self._type == other._type and self._val == other._val

    def __hash__(self) -> int:
        return hash((XStr, self._type, self._val))

    def __repr__(self) -> str:
        return f"XStr({self._type!r}, {self._val!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (XStr, (self._type, self._val))


# ------------------------------------------------------------------------------------------------
# Coord
# ------------------------------------------------------------------------------------------------


def _to_micro(deg: float) -> int:
    """Degrees to micro-degrees, truncated toward zero like Haxall, except that a product
    within float noise of an integer snaps to it (so ``0.015721`` is 15721, not 15720)."""
    v = deg * 1_000_000
    r = round(v)
    return r if abs(v - r) < 1e-6 else int(v)


def _micro_text(u: int) -> str:
    """Haxall Coord writer for one micro-degree value."""
    sign = "-" if u < 0 else ""
    u = abs(u)
    frac = f"{u % 1_000_000:06d}".rstrip("0") or "0"
    return f"{sign}{u // 1_000_000}.{frac}"


class Coord:
    """A geographic coordinate, stored as micro-degree ints (truncated toward zero; the Zinc
    text of every micro-degree value reads back exactly).

    ValueError when ``|lat| > 90`` or ``|lng| > 180`` or a value is not finite.  ``.lat`` and
    ``.lng`` are floats; ``.ulat``/``.ulng`` the micro-degree ints.  ``str()`` is the Zinc text.
    """

    __slots__ = ("_ulat", "_ulng")
    __setattr__ = _frozen

    def __init__(self, lat: float, lng: float) -> None:
        if not (math.isfinite(lat) and math.isfinite(lng)):
            raise ValueError(f"Invalid coord: {lat}, {lng}")
        self._init(_to_micro(lat), _to_micro(lng))

    def _init(self, ulat: int, ulng: int) -> None:
        if not -90_000_000 <= ulat <= 90_000_000:
            raise ValueError("Invalid lat > +/- 90")
        if not -180_000_000 <= ulng <= 180_000_000:
            raise ValueError("Invalid lng > +/- 180")
        object.__setattr__(self, "_ulat", ulat)
        object.__setattr__(self, "_ulng", ulng)

    @classmethod
    def from_micro(cls, ulat: int, ulng: int) -> Coord:
        """A Coord from micro-degree ints (ValueError when out of range)."""
        c = object.__new__(cls)
        c._init(int(ulat), int(ulng))
        return c

    @property
    def lat(self) -> float:
        """Latitude in decimal degrees."""
        return self._ulat / 1_000_000

    @property
    def lng(self) -> float:
        """Longitude in decimal degrees."""
        return self._ulng / 1_000_000

    @property
    def ulat(self) -> int:
        """Latitude in micro-degrees."""
        return self._ulat

    @property
    def ulng(self) -> int:
        """Longitude in micro-degrees."""
        return self._ulng

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Coord):
            return NotImplemented
        return self._ulat == other._ulat and self._ulng == other._ulng

    def __hash__(self) -> int:
        return hash((Coord, self._ulat, self._ulng))

    def __repr__(self) -> str:
        return f"Coord({self.lat!r}, {self.lng!r})"

    def __str__(self) -> str:
        return f"C({_micro_text(self._ulat)},{_micro_text(self._ulng)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Coord.from_micro, (self._ulat, self._ulng))


# ------------------------------------------------------------------------------------------------
# Span, HisItem
# ------------------------------------------------------------------------------------------------


class Span:
    """A time range: ``start`` inclusive, ``end`` exclusive, aware datetimes in one timezone.

    ValueError when a datetime is naive, the timezones differ or ``start > end``.
    Equality compares start and end.
    """

    __slots__ = ("_end", "_start")
    __setattr__ = _frozen

    def __init__(self, start: datetime, end: datetime) -> None:
        if not isinstance(start, datetime) or not isinstance(end, datetime):
            raise TypeError("Span start and end must be datetimes")
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("Span start and end must be aware datetimes")
        if start.tzinfo is not end.tzinfo and timezones.tz_name(start) != timezones.tz_name(end):
            raise ValueError(f"Span start and end in different timezones: {start} / {end}")
        if start > end:
            raise ValueError(f"Span start > end: {start} > {end}")
        object.__setattr__(self, "_start", start)
        object.__setattr__(self, "_end", end)

    @property
    def start(self) -> datetime:
        """Inclusive start."""
        return self._start

    @property
    def end(self) -> datetime:
        """Exclusive end."""
        return self._end

    def contains(self, ts: datetime) -> bool:
        """True when ``start <= ts < end``."""
        return self._start <= ts < self._end

    def __contains__(self, ts: datetime) -> bool:
        return self.contains(ts)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Span):
            return NotImplemented
        return self._start == other._start and self._end == other._end

    def __hash__(self) -> int:
        return hash((Span, self._start, self._end))

    def __repr__(self) -> str:
        return f"Span({self._start!r}, {self._end!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Span, (self._start, self._end))


class HisItem:
    """One history sample ``(ts, val)``.

    Equality compares ts and val; ordering uses ts only.  Immutable and unpackable:
    ``ts, val = item``.
    """

    __slots__ = ("_ts", "_val")
    __setattr__ = _frozen

    def __init__(self, ts: datetime, val: Any) -> None:
        object.__setattr__(self, "_ts", ts)
        object.__setattr__(self, "_val", val)

    @property
    def ts(self) -> datetime:
        """The timestamp."""
        return self._ts

    @property
    def val(self) -> Any:
        """The value."""
        return self._val

    def __iter__(self) -> Iterator[Any]:
        yield self._ts
        yield self._val

    def __len__(self) -> int:
        return 2

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HisItem):
            return NotImplemented
        return self._ts == other._ts and self._val == other._val

    def __hash__(self) -> int:
        return hash((self._ts, self._val))

    def __lt__(self, other: HisItem) -> bool:
        return self._ts < other._ts

    def __le__(self, other: HisItem) -> bool:
        return self._ts <= other._ts

    def __gt__(self, other: HisItem) -> bool:
        return self._ts > other._ts

    def __ge__(self, other: HisItem) -> bool:
        return self._ts >= other._ts

    def __repr__(self) -> str:
        return f"HisItem({self._ts!r}, {self._val!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (HisItem, (self._ts, self._val))


# ------------------------------------------------------------------------------------------------
# Grid
# ------------------------------------------------------------------------------------------------


class GridCol(NamedTuple):
    """A grid column: name and meta dict."""

    name: str
    meta: dict[str, Any]


class Grid:
    """A Haystack grid: meta dict, columns, rows.

    ``cols`` items may be :class:`GridCol`, ``(name, meta)`` tuples or plain names.  ``rows``
    items may be mappings (missing or None = null cell) or sequences of cells aligned with the
    columns.  Rows are stored as dicts holding only the non-null cells.  Equality compares meta,
    columns (names and meta) and rows.
    """

    __slots__ = ("_cols", "_meta", "_rows")
    __setattr__ = _frozen

    def __init__(
        self,
        meta: Mapping[str, Any] | None = None,
        cols: Iterable[GridCol | tuple[str, Mapping[str, Any]] | str] = (),
        rows: Iterable[Mapping[str, Any] | Sequence[Any]] = (),
    ) -> None:
        col_list = []
        for c in cols:
            if isinstance(c, str):
                col_list.append(GridCol(c, {}))
            else:
                name, cmeta = c
                col_list.append(GridCol(name, dict(cmeta or {})))
        names = [c.name for c in col_list]
        row_list = []
        for r in rows:
            if isinstance(r, Mapping):
                row = {k: v for k, v in r.items() if v is not None}
            else:
                cells = list(r)
                if len(cells) != len(names):
                    raise ValueError(f"row has {len(cells)} cells for {len(names)} columns")
                row = {n: v for n, v in zip(names, cells, strict=True) if v is not None}
            row_list.append(row)
        object.__setattr__(self, "_meta", dict(meta or {}))
        object.__setattr__(self, "_cols", col_list)
        object.__setattr__(self, "_rows", row_list)

    @property
    def meta(self) -> dict[str, Any]:
        """Grid meta tags."""
        return self._meta

    @property
    def cols(self) -> list[GridCol]:
        """The columns in order."""
        return self._cols

    @property
    def col_names(self) -> list[str]:
        """The column names in order."""
        return [c.name for c in self._cols]

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The rows, each a dict of its non-null cells."""
        return self._rows

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._rows)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self._rows[index]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Grid):
            return NotImplemented
        return self._meta == other._meta and self._cols == other._cols and self._rows == other._rows

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Grid({self._meta!r}, {self.col_names!r}, {self._rows!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Grid, (self._meta, self._cols, self._rows))


# ------------------------------------------------------------------------------------------------
# Kinds, tag names, display strings
# ------------------------------------------------------------------------------------------------

_KINDS: dict[type, str] = {
    Marker: "Marker",
    NAType: "NA",
    RemoveType: "Remove",
    bool: "Bool",
    Number: "Number",
    str: "Str",
    Uri: "Uri",
    Ref: "Ref",
    Symbol: "Symbol",
    date: "Date",
    Time: "Time",
    Coord: "Coord",
    XStr: "XStr",
    Span: "Span",
    list: "List",
    dict: "Dict",
    Grid: "Grid",
}


def kind_of(val: Any) -> str:
    """The Haystack kind name of a value (``"Number"``, ``"Ref"``, ``"DateTime"`` ...).

    Raises TypeError naming the Python type for anything that is not a Haystack value
    (int, float, None, bytes, a naive datetime ...).
    """
    kind = _KINDS.get(type(val))
    if kind is not None:
        return kind
    if isinstance(val, datetime):
        if val.tzinfo is None or val.utcoffset() is None:
            raise TypeError("naive datetime is not a Haystack value (DateTime needs a timezone)")
        return "DateTime"
    if isinstance(val, bool):
        return "Bool"
    for cls, name in _KINDS.items():
        if cls is not bool and isinstance(val, cls):
            return name
    if isinstance(val, Mapping):
        return "Dict"
    raise TypeError(f"not a Haystack value: {type(val).__name__}")


_TAG_NAME = re.compile(r"[a-z][A-Za-z0-9_]*|_[A-Za-z0-9][A-Za-z0-9_]*|__(?:[0-9A-Fa-f]{2})+")


def is_tag_name(name: str) -> bool:
    """Haxall ``Etc.isTagName``: ``[a-z][A-Za-z0-9_]*``, ``_`` + a non-``_`` alnum start, or
    the escaped form ``__`` + an even number of hex digits.  ASCII only; no length limit."""
    return isinstance(name, str) and _TAG_NAME.fullmatch(name) is not None


def _display_str(val: Any) -> str:
    """Fantom ``toStr`` of a tag value, as used by display strings and macros."""
    if isinstance(val, str):
        return val
    if isinstance(val, bool):
        return "true" if val else "false"
    if isinstance(val, Ref):
        return val.dis if val.dis is not None else val.id
    if isinstance(val, (date, Time)):
        from . import zinc  # zinc imports this module

        return zinc.dumps(val)
    return str(val)


def macro(pattern: str, rec: Mapping[str, Any]) -> str:
    """Haxall ``Etc.macro``: replace ``$tag`` and ``${tag}`` by the rec's tag values.

    A Ref value becomes its dis (the id when it has none), anything else its display text.
    ``$name`` ends at the first char outside ``[A-Za-z0-9_]``.  A missing tag leaves the
    expression in place (``$name`` / ``${name}``); ``$<pod::key>`` locale keys are kept literally.
    """
    get = rec.get
    out = []
    for text, name in macro_parts(pattern):
        val = None if name is None else get(name)
        out.append(text if val is None else _display_str(val))
    return "".join(out)


@lru_cache(maxsize=4096)
def macro_parts(pattern: str) -> tuple[tuple[str, str | None], ...]:
    """A macro pattern split into ``(text, tag name)`` parts: the name is None for literal
    text; otherwise ``text`` is the expression shown when the tag is missing."""
    parts: list[tuple[str, str | None]] = []
    i, n = 0, len(pattern)
    while i < n:
        dollar = pattern.find("$", i)
        if dollar < 0:
            parts.append((pattern[i:], None))
            break
        parts.append((pattern[i:dollar], None))
        nxt = pattern[dollar + 1 : dollar + 2]
        if nxt in ("{", "<"):
            close = "}" if nxt == "{" else ">"
            end = pattern.find(close, dollar + 2)
            if end < 0:
                parts.append((pattern[dollar:], None))
                break
            name = pattern[dollar + 2 : end] if nxt == "{" else None
            parts.append((pattern[dollar : end + 1], name))
            i = end + 1
        else:
            m = _MACRO_NAME.match(pattern, dollar + 1)
            name = m.group() if m else ""
            parts.append(("$" + name, name))
            i = dollar + 1 + len(name)
    return tuple(part for part in parts if part[0] or part[1] is not None)


_MACRO_NAME = re.compile(r"[A-Za-z0-9_]+")


def dis_of(rec: Mapping[str, Any]) -> str:
    """Haxall ``Etc.dictToDis``: the first of ``dis``, ``disMacro`` (via :func:`macro`),
    ``disKey``, ``name``, ``def``, ``tag``, then the id's dis (or id); ``""`` when none."""
    get = rec.get
    val = get("dis")
    if val is not None:
        return _display_str(val)
    val = get("disMacro")
    if val is not None:
        return macro(_display_str(val), rec)
    for name in ("disKey", "name", "def", "tag"):
        val = get(name)
        if val is not None:
            return _display_str(val)
    rid = get("id")
    if isinstance(rid, Ref):
        return rid.dis if rid.dis is not None else rid.id
    return ""
