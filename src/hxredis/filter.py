"""Haystack filters: parse, normalise, print, match and compile (the Haystack filter language).

``Filter.parse(text)`` reads the whole filter grammar of Haxall's FilterParser: ``has``,
``not``, ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``and``, ``or``, parentheses, ``->``
paths, symbols (``^hot-water``) and spec names (``Rtu``, ``ph::Equip``).  The result is an
immutable tree of :class:`Filter` nodes whose and/or parts are normalised as Haxall's
``Filter.logic`` does: flattened, stably sorted and rebuilt left-deep.  ``str(f)`` is the
normalised text and defines equality and hash.

Matching follows Haxall exactly: no unit conversion, comparisons need the same kind (and the
same unit), ``!=`` is true for a present value of another kind, lists of Refs are searched
element by element and ``->`` paths are followed through a ``resolve`` callable.

Two deliberate departures from Haxall, both where Haxall fails:

* Haxall throws while normalising ``x == 5 and x == "a"`` (values of different kinds) and
  ``x == 5kW and x == 5m`` (units that are not both durations).  Here every pair of filters
  is ordered: values of different kinds by kind (Bool, Number, Str, Uri,
  Ref, Symbol, Date, Time, DateTime), Numbers by float value then unit symbol (no unit
  first; durations in different units are not converted), strings in UTF-16 order.
* Haxall prints the tag ``not`` followed by ``and``/``or`` as ``not and x``, which reads
  back as ``missing(and)``.  Here such an operand prints as ``(not)`` so that
  ``Filter.parse(str(f)) == f`` always holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, ClassVar, Literal, overload

from . import timezones, zinc
from .errors import ParseError
from .lru import BoundedCache
from .tokenizer import Token, Tokenizer
from .values import Number, Ref, Symbol, Uri

__all__ = [
    "And",
    "Cmp",
    "Eq",
    "Filter",
    "Ge",
    "Gt",
    "Has",
    "IsSpec",
    "IsSymbol",
    "Le",
    "Lt",
    "Missing",
    "Ne",
    "Or",
    "Predicate",
    "Resolver",
]

Resolver = Callable[[Ref], "Mapping[str, Any] | None"]
"""Dereferences a Ref for ``->`` paths: the record with that id, or None when unknown."""

Predicate = Callable[..., bool]
"""A compiled filter: ``pred(rec, resolve=None) -> bool`` (see :meth:`Filter.compile`)."""

_NAME = re.compile(r"(?:[A-Za-z]|_[A-Za-z0-9_])[A-Za-z0-9_]*")
_QNAME = re.compile(
    r"(?:(?:[A-Za-z]|_[A-Za-z0-9_])[A-Za-z0-9_]*(?:\.(?:[A-Za-z]|_[A-Za-z0-9_])[A-Za-z0-9_]*)*::)?"
    r"[A-Z][A-Za-z0-9_]*"
)
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _frozen(self: object, name: str, value: object) -> None:
    raise AttributeError(f"{type(self).__name__} is immutable")


# ------------------------------------------------------------------------------------------------
# Values: kinds, ordering, text
# ------------------------------------------------------------------------------------------------


def _u16(s: str) -> bytes:
    """Sort key giving Fantom's string order (UTF-16 code units)."""
    return s.encode("utf-16-be", "surrogatepass")


def _str_cmp(a: str, b: str) -> int:
    """Compare two strings in UTF-16 code unit order: -1, 0 or 1."""
    if _ASTRAL.search(a) or _ASTRAL.search(b):
        a, b = _u16(a), _u16(b)  # type: ignore[assignment]
    return (a > b) - (a < b)


def _instant(v: datetime) -> timedelta:
    """The instant of an aware datetime (exact, also for ambiguous wall times)."""
    return v - _EPOCH


def _literal_kind(val: Any) -> int:
    """Kind ordinal of a filter literal (Bool, Number, Str, Uri, Ref, Symbol, Date, Time,
    DateTime); TypeError for a value a filter cannot hold."""
    if val is True or val is False:
        return 0
    if isinstance(val, Number):
        return 1
    if isinstance(val, str):
        return 2
    if isinstance(val, Uri):
        return 3
    if isinstance(val, Ref):
        return 4
    if isinstance(val, Symbol):
        return 5
    if isinstance(val, datetime):
        if val.utcoffset() is None:
            raise TypeError("a filter DateTime must be an aware datetime")
        return 8
    if isinstance(val, date):
        return 6
    if isinstance(val, time):
        if val.tzinfo is not None:
            raise TypeError("a filter Time must be a naive time")
        return 7
    raise TypeError(f"not a filter value: {type(val).__name__}")


def _val_key(val: Any) -> tuple[Any, ...]:
    """Total sort key of a filter literal: kind, then the kind's natural order."""
    kind = _literal_kind(val)
    if kind == 1:
        f = val.val
        return (1, f == f, f if f == f else 0.0, val.unit or "")
    if kind == 2:
        return (2, _u16(val))
    if kind in (3, 5):
        return (kind, _u16(val.val))
    if kind == 4:
        return (4, _u16(val.id))
    if kind == 8:
        return (8, _instant(val))
    return (kind, val)


def _val_str(val: Any) -> str:
    """Haxall ``Kind.valToStr``: Zinc text except Bool ``true``/``false`` and Ref without dis."""
    if val is True:
        return "true"
    if val is False:
        return "false"
    if isinstance(val, Ref):
        return "@" + val.id
    return zinc.dumps(val)


def _same_class(v: Any, lit: Any) -> bool:
    """Haxall ``v.typeof === lit.typeof``: same kind, and for Symbols the same symbol type."""
    if lit is True or lit is False:
        return v is True or v is False
    if isinstance(lit, datetime):
        return isinstance(v, datetime) and v.utcoffset() is not None
    if isinstance(lit, date):
        return isinstance(v, date) and not isinstance(v, datetime)
    if isinstance(lit, time):
        return isinstance(v, time) and v.tzinfo is None
    if isinstance(lit, Symbol):
        return isinstance(v, Symbol) and v.type == lit.type
    return isinstance(v, type(lit))


def _equal(v: Any, lit: Any) -> bool:
    """Kind equality of two values of the same class (DateTime by instant)."""
    if isinstance(lit, datetime):
        return _instant(v) == _instant(lit)
    return bool(v == lit)


def _order(v: Any, lit: Any) -> int:
    """Natural order of two values of the same non-Number class: -1, 0 or 1."""
    if isinstance(lit, str):
        return _str_cmp(v, lit)
    if isinstance(lit, (Uri, Symbol)):
        return _str_cmp(v.val, lit.val)
    if isinstance(lit, Ref):
        return _str_cmp(v.id, lit.id)
    if isinstance(lit, datetime):
        v, lit = _instant(v), _instant(lit)
    return (v > lit) - (v < lit)


def _num_cmp(a: float, b: float) -> int:
    """Fantom float compare: NaN sorts below everything and equals NaN."""
    if a != a or b != b:
        return (b != b) - (a != a)
    return (a > b) - (a < b)


# ------------------------------------------------------------------------------------------------
# Paths
# ------------------------------------------------------------------------------------------------


def _path(path: str | Sequence[str], allow_spec_start: bool = False) -> tuple[str, ...]:
    """Validate a path given as ``"a->b"`` or a sequence of names; ParseError when malformed."""
    names = tuple(path.split("->")) if isinstance(path, str) else tuple(path)
    if not names or not all(isinstance(n, str) and _NAME.fullmatch(n) for n in names):
        raise ParseError(f"Invalid filter path: {path!r}")
    if not allow_spec_start and "A" <= names[0][0] <= "Z":
        raise ParseError(f"Invalid filter path (a capitalised name is a spec): {path!r}")
    return names


def _walk(
    names: tuple[str, ...],
    val: Any,
    level: int,
    resolve: Resolver | None,
    leaf: Callable[[Any], bool],
) -> bool:
    """Haxall ``SimpleFilter.matchesAt``: follow ``names`` from ``val`` at ``level`` and apply
    ``leaf`` to the value reached (None when the path breaks)."""
    if isinstance(val, list):
        for item in val:
            if isinstance(item, Ref) and _walk(names, item, level, resolve, leaf):
                return True
    if level + 1 < len(names):
        if isinstance(val, Ref):
            val = resolve(val) if resolve is not None else None
        if isinstance(val, Mapping):
            return _walk(names, val.get(names[level + 1]), level + 1, resolve, leaf)
        if isinstance(val, datetime) and val.tzinfo is not None:
            step = names[level + 1]
            if step == "date":
                return _walk(names, val.date(), level + 1, resolve, leaf)
            if step == "time":
                return _walk(names, val.time(), level + 1, resolve, leaf)
            if step == "tz":
                try:
                    name: str | None = timezones.tz_name(val)
                except ValueError:
                    name = None
                return _walk(names, name, level + 1, resolve, leaf)
        if isinstance(val, list):
            return False
        val = None
    return leaf(val)


# ------------------------------------------------------------------------------------------------
# Filter base
# ------------------------------------------------------------------------------------------------


class Filter:
    """A parsed, normalised Haystack filter (immutable, hashable, thread-safe).

    Build one with :meth:`Filter.parse` or the factories :meth:`has`, :meth:`missing`,
    :meth:`eq`, :meth:`ne`, :meth:`lt`, :meth:`le`, :meth:`gt`, :meth:`ge`, :meth:`is_symbol`,
    :meth:`is_spec` and the operators ``f & g`` (and), ``f | g`` (or), which normalise like
    the parser.  ``str(f)`` is the normalised text; ``==`` and ``hash`` compare it; ``<``
    and friends order filters as Haxall's ``Filter.compare`` (type, then first argument,
    then second).

    Node classes: :class:`Has`, :class:`Missing`, :class:`Eq`, :class:`Ne`, :class:`Lt`,
    :class:`Le`, :class:`Gt`, :class:`Ge` (all :class:`Cmp`), :class:`And`, :class:`Or`,
    :class:`IsSymbol`, :class:`IsSpec`.
    """

    __slots__ = ("_abs", "_hash", "_key", "_pred", "_str")
    __setattr__ = _frozen

    type: ClassVar[str]
    """The node type name: ``has``, ``missing``, ``eq``, ``ne``, ``gt``,
    ``ge``, ``lt``, ``le``, ``and``, ``or``, ``isSymbol`` or ``isSpec``."""
    _ordinal: ClassVar[int]

    _key: tuple[Any, ...]
    _str: str | None
    _hash: int | None
    _pred: Predicate | None
    _abs: tuple[str, Filter | None] | None  # (id prefix, with_abs_refs answer; None: self)

    def _init(self, key: tuple[Any, ...], text: str | None) -> None:
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_str", text)
        object.__setattr__(self, "_hash", None)
        object.__setattr__(self, "_pred", None)
        object.__setattr__(self, "_abs", None)

    # -- parsing and factories ------------------------------------------------------------------

    @overload
    @staticmethod
    def parse(text: str | Filter, checked: Literal[True] = True) -> Filter: ...

    @overload
    @staticmethod
    def parse(text: str | Filter, checked: bool) -> Filter | None: ...

    @staticmethod
    def parse(text: str | Filter, checked: bool = True) -> Filter | None:
        """Parse filter text.

        Parsed filters are cached by text (the same text returns the same object) within a
        bound: at most :data:`PARSE_CACHE_ENTRIES` filters of at most
        :data:`PARSE_CACHE_CHARS` characters of text in all, least recently used dropped
        first; a text longer than :data:`PARSE_CACHE_MAX_TEXT` characters is parsed anew
        every time.  A :class:`Filter` is returned unchanged.  Malformed text raises
        :class:`~hxredis.errors.ParseError` locating the problem (``line``/``col``), or
        returns None when ``checked`` is false.
        """
        if isinstance(text, Filter):
            return text
        if not isinstance(text, str):
            raise TypeError(f"filter text must be str, not {type(text).__name__}")
        try:
            return _parse_cache.get(text, len(text), lambda: _parse(text))
        except ParseError:
            if checked:
                raise
            return None

    @staticmethod
    def has(path: str | Sequence[str]) -> Filter:
        """Records where ``path`` (``"a"``, ``"a->b"`` or ``["a", "b"]``) has a value."""
        return Has(_path(path))

    @staticmethod
    def missing(path: str | Sequence[str]) -> Filter:
        """Records where ``path`` has no value (``not path``)."""
        return Missing(_path(path, allow_spec_start=True))

    @staticmethod
    def eq(path: str | Sequence[str], val: Any) -> Filter:
        """``path == val``; val is a Bool, Number, str, Uri, Ref, Symbol, date, time or an
        aware datetime (TypeError otherwise)."""
        return Eq(_path(path), val)

    @staticmethod
    def ne(path: str | Sequence[str], val: Any) -> Filter:
        """``path != val`` (see :meth:`eq` for the values allowed)."""
        return Ne(_path(path), val)

    @staticmethod
    def lt(path: str | Sequence[str], val: Any) -> Filter:
        """``path < val`` (see :meth:`eq` for the values allowed)."""
        return Lt(_path(path), val)

    @staticmethod
    def le(path: str | Sequence[str], val: Any) -> Filter:
        """``path <= val`` (see :meth:`eq` for the values allowed)."""
        return Le(_path(path), val)

    @staticmethod
    def gt(path: str | Sequence[str], val: Any) -> Filter:
        """``path > val`` (see :meth:`eq` for the values allowed)."""
        return Gt(_path(path), val)

    @staticmethod
    def ge(path: str | Sequence[str], val: Any) -> Filter:
        """``path >= val`` (see :meth:`eq` for the values allowed)."""
        return Ge(_path(path), val)

    @staticmethod
    def is_symbol(symbol: Symbol | str) -> Filter:
        """``^symbol``: records having the symbol's tag (all parts of a conjunct)."""
        return IsSymbol(symbol if isinstance(symbol, Symbol) else Symbol(symbol))

    @staticmethod
    def is_spec(qname: str) -> Filter:
        """A spec name (``Rtu``, ``ph::Equip``); never matches without a xeto namespace."""
        if not isinstance(qname, str) or not _QNAME.fullmatch(qname):
            raise ParseError(f"Invalid spec name: {qname!r}")
        return IsSpec(qname)

    def __and__(self, other: Filter) -> Filter:
        if not isinstance(other, Filter):
            return NotImplemented
        return _logic(And, [self, other])

    def __or__(self, other: Filter) -> Filter:
        if not isinstance(other, Filter):
            return NotImplemented
        return _logic(Or, [self, other])

    def with_abs_refs(self, id_prefix: str) -> Filter:
        """This filter with every relative Ref literal made absolute with ``id_prefix``
        (e.g. ``"p:demo:r:"``, see :meth:`Ref.to_abs`); ``self`` when it has none.

        Linear in the number of terms (plus sorting the and/or parts once); the answer for
        the last prefix asked is kept on the filter.  A bad prefix raises TypeError or
        ValueError as :meth:`Ref.to_abs` does."""
        if not isinstance(id_prefix, str):
            raise TypeError(f"id_prefix must be str, not {type(id_prefix).__name__}")
        cached = self._abs
        if cached is None or cached[0] != id_prefix:
            found = _abs_refs(self, id_prefix)
            cached = (id_prefix, None if found is self else found)
            object.__setattr__(self, "_abs", cached)
        return self if cached[1] is None else cached[1]

    # -- text -----------------------------------------------------------------------------------

    def __str__(self) -> str:
        text = self._str
        if text is None:
            text = self._text()
            object.__setattr__(self, "_str", text)
        return text

    def _text(self) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"Filter.parse({str(self)!r})"

    @property
    def pattern(self) -> str:
        """The normalised text with values replaced by ``?`` and every and/or operand in
        parentheses: ``((a) and (b)) and (c == ?)`` (a query-plan cache key)."""
        raise NotImplementedError

    @property
    def tags(self) -> list[str]:
        """First path name of every simple term, left to right (Haxall ``eachTag``)."""
        return [p.path[0] for p in _terms(self) if isinstance(p, _Simple)]

    # -- identity -------------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Filter):
            return NotImplemented
        return str(self) == str(other)

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        h = self._hash
        if h is None:
            h = hash(str(self))
            object.__setattr__(self, "_hash", h)
        return h

    def __lt__(self, other: Filter) -> bool:
        if not isinstance(other, Filter):
            return NotImplemented
        return self._key < other._key

    def __le__(self, other: Filter) -> bool:
        if not isinstance(other, Filter):
            return NotImplemented
        return self._key <= other._key

    def __gt__(self, other: Filter) -> bool:
        if not isinstance(other, Filter):
            return NotImplemented
        return self._key > other._key

    def __ge__(self, other: Filter) -> bool:
        if not isinstance(other, Filter):
            return NotImplemented
        return self._key >= other._key

    def __reduce__(self) -> tuple[Any, ...]:
        return (Filter.parse, (str(self),))

    # -- matching -------------------------------------------------------------------------------

    def matches(self, rec: Mapping[str, Any], resolve: Resolver | None = None) -> bool:
        """Whether ``rec`` matches (rules in the module docstring).  ``resolve(ref)`` returns
        the record a Ref points to (None when unknown) for ``->`` paths; without it Refs lead
        nowhere.

        This is the reference implementation; :meth:`compile` gives the same answers faster.
        """
        raise NotImplementedError

    def compile(self) -> Predicate:
        """A fast predicate ``pred(rec, resolve=None) -> bool`` equivalent to :meth:`matches`
        (built once per filter, then cached)."""
        pred = self._pred
        if pred is None:
            pred = self._compile()
            object.__setattr__(self, "_pred", pred)
        return pred

    def _compile(self) -> Predicate:
        raise NotImplementedError


# ------------------------------------------------------------------------------------------------
# Simple terms
# ------------------------------------------------------------------------------------------------


class _Simple(Filter):
    """A term on a path: has, missing and the comparisons."""

    __slots__ = ("path",)
    path: tuple[str, ...]
    """The path names: ``("siteRef", "area")`` for ``siteRef->area``."""

    @property
    def path_str(self) -> str:
        """The path as written: ``a->b``."""
        return "->".join(self.path)

    @property
    def pattern(self) -> str:
        return str(self)

    def _match_val(self, v: Any) -> bool:
        raise NotImplementedError

    def matches(self, rec: Mapping[str, Any], resolve: Resolver | None = None) -> bool:
        return _walk(self.path, rec.get(self.path[0]), 0, resolve, self._match_val)


class Has(_Simple):
    """``path``: the path leads to a value."""

    __slots__ = ()
    type = "has"
    _ordinal = 0

    def __init__(self, path: tuple[str, ...]) -> None:
        object.__setattr__(self, "path", path)
        text = "->".join(path)
        self._init((0, _u16(text)), text)

    def _match_val(self, v: Any) -> bool:
        return v is not None

    def _compile(self) -> Predicate:
        path = self.path
        if len(path) > 1:
            return _compile_walk(path, self._match_val)
        name = path[0]

        def has(rec: Mapping[str, Any], resolve: Resolver | None = None) -> bool:
            return rec.get(name) is not None

        return has


class Missing(_Simple):
    """``not path``: the path leads to no value."""

    __slots__ = ()
    type = "missing"
    _ordinal = 1

    def __init__(self, path: tuple[str, ...]) -> None:
        object.__setattr__(self, "path", path)
        text = "->".join(path)
        self._init((1, _u16(text)), "not " + text)

    def _match_val(self, v: Any) -> bool:
        return v is None

    def _compile(self) -> Predicate:
        path = self.path
        if len(path) > 1:
            return _compile_walk(path, self._match_val)
        name = path[0]

        def missing(rec: Mapping[str, Any], resolve: Resolver | None = None) -> bool:
            return rec.get(name) is None

        return missing


class Cmp(_Simple):
    """``path op val``: base of :class:`Eq`, :class:`Ne`, :class:`Lt`, :class:`Le`,
    :class:`Gt` and :class:`Ge`.  ``val`` is the literal (Bool, Number, str, Uri, Ref,
    Symbol, date, time or aware datetime)."""

    __slots__ = ("val",)
    op: ClassVar[str]
    """The operator as written: ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``."""
    _test: ClassVar[Callable[[int], bool]]
    val: Any

    def __init__(self, path: tuple[str, ...], val: Any) -> None:
        key = _val_key(val)
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "val", val)
        self._init((self._ordinal, _u16("->".join(path)), key), None)

    def _text(self) -> str:
        return f"{'->'.join(self.path)} {self.op} {_val_str(self.val)}"

    @property
    def pattern(self) -> str:
        return f"{'->'.join(self.path)} {self.op} ?"

    def _match_val(self, v: Any) -> bool:
        """Reference leaf predicate: Haxall's doMatchesVal for this operator."""
        if v is None:
            return False
        lit = self.val
        if not _same_class(v, lit):
            return self.type == "ne"
        if self.type == "eq":
            return _equal(v, lit)
        if self.type == "ne":
            return not _equal(v, lit)
        if isinstance(lit, Number):
            if v.unit != lit.unit:
                return False
            return self._test(_num_cmp(v.val, lit.val))
        return self._test(_order(v, lit))

    def _fast_leaf(self) -> Callable[[Any], bool]:
        """A leaf predicate specialised for the literal; defaults to the reference one."""
        return self._match_val

    def _compile(self) -> Predicate:
        leaf = self._fast_leaf()
        path = self.path
        if len(path) > 1:
            return _compile_walk(path, leaf)
        name = path[0]

        def cmp(rec: Mapping[str, Any], resolve: Resolver | None = None) -> bool:
            v = rec.get(name)
            if isinstance(v, list):
                for item in v:
                    if isinstance(item, Ref) and leaf(item):
                        return True
            return leaf(v)

        return cmp


class Eq(Cmp):
    """``path == val``: same kind and equal (Numbers: same unit; DateTimes: same instant)."""

    __slots__ = ()
    type = "eq"
    op = "=="
    _ordinal = 2

    def _fast_leaf(self) -> Callable[[Any], bool]:
        lit = self.val
        if lit is True or lit is False:
            return lambda v: v is lit
        if isinstance(lit, datetime):
            return self._match_val
        return lambda v: v == lit  # values' __eq__ never equates different kinds


class Ne(Cmp):
    """``path != val``: a value is present and not equal (another kind counts as not equal)."""

    __slots__ = ()
    type = "ne"
    op = "!="
    _ordinal = 3

    def _fast_leaf(self) -> Callable[[Any], bool]:
        lit = self.val
        if lit is True or lit is False or isinstance(lit, datetime):
            return self._match_val
        return lambda v: v is not None and v != lit


def _number_leaf(lit: Number, ordering: str) -> Callable[[Any], bool] | None:
    """Fast leaf for ``< <= > >=`` against a non-NaN Number literal (NaN values sort first)."""
    x, unit = lit.val, lit.unit
    if x != x:
        return None
    if ordering == "lt":
        return lambda v: isinstance(v, Number) and v.unit == unit and not v.val >= x
    if ordering == "le":
        return lambda v: isinstance(v, Number) and v.unit == unit and not v.val > x
    if ordering == "gt":
        return lambda v: isinstance(v, Number) and v.unit == unit and v.val > x
    return lambda v: isinstance(v, Number) and v.unit == unit and v.val >= x


class _Ordering(Cmp):
    """``< <= > >=``: same class (and same unit for Numbers), then natural order."""

    __slots__ = ()

    def _fast_leaf(self) -> Callable[[Any], bool]:
        if isinstance(self.val, Number):
            leaf = _number_leaf(self.val, self.type)
            if leaf is not None:
                return leaf
        return self._match_val


class Lt(_Ordering):
    """``path < val``."""

    __slots__ = ()
    type = "lt"
    op = "<"
    _ordinal = 6
    _test = staticmethod(lambda c: c < 0)


class Le(_Ordering):
    """``path <= val``."""

    __slots__ = ()
    type = "le"
    op = "<="
    _ordinal = 7
    _test = staticmethod(lambda c: c <= 0)


class Gt(_Ordering):
    """``path > val``."""

    __slots__ = ()
    type = "gt"
    op = ">"
    _ordinal = 4
    _test = staticmethod(lambda c: c > 0)


class Ge(_Ordering):
    """``path >= val``."""

    __slots__ = ()
    type = "ge"
    op = ">="
    _ordinal = 5
    _test = staticmethod(lambda c: c >= 0)


def _compile_walk(path: tuple[str, ...], leaf: Callable[[Any], bool]) -> Predicate:
    """Predicate for a multi-name path: :func:`_walk` with a given leaf."""
    first = path[0]

    def walk(rec: Mapping[str, Any], resolve: Resolver | None = None) -> bool:
        return _walk(path, rec.get(first), 0, resolve, leaf)

    return walk


# ------------------------------------------------------------------------------------------------
# Symbols and specs
# ------------------------------------------------------------------------------------------------


class IsSymbol(Filter):
    """``^symbol``: a tag symbol matches records having that tag, a conjunct (``^a-b``)
    records having every part, a key symbol (``^lib:ph``) nothing (no defs namespace)."""

    __slots__ = ("symbol",)
    type = "isSymbol"
    _ordinal = 10
    symbol: Symbol

    def __init__(self, symbol: Symbol) -> None:
        object.__setattr__(self, "symbol", symbol)
        self._init((10, _u16(symbol.val)), "^" + symbol.val)

    @property
    def pattern(self) -> str:
        return str(self)

    @property
    def terms(self) -> tuple[str, ...]:
        """The tag names a record must have (empty for a key symbol, which never matches)."""
        sym = self.symbol
        if sym.type == "tag":
            return (sym.val,)
        if sym.type == "conjunct":
            return tuple(sym.parts)
        return ()

    def matches(self, rec: Mapping[str, Any], resolve: Resolver | None = None) -> bool:
        terms = self.terms
        return bool(terms) and all(rec.get(t) is not None for t in terms)

    def _compile(self) -> Predicate:
        terms = self.terms
        if not terms:
            return _never

        def is_symbol(rec: Mapping[str, Any], resolve: Resolver | None = None) -> bool:
            get = rec.get
            for t in terms:  # noqa: SIM110 (a loop is faster than all() over a generator)
                if get(t) is None:
                    return False
            return True

        return is_symbol


class IsSpec(Filter):
    """A spec name (``Rtu``, ``ph::Equip``); matches nothing without a xeto namespace."""

    __slots__ = ("qname",)
    type = "isSpec"
    _ordinal = 11
    qname: str

    def __init__(self, qname: str) -> None:
        object.__setattr__(self, "qname", qname)
        self._init((11, _u16(qname)), qname)

    @property
    def pattern(self) -> str:
        return self.qname

    def matches(self, rec: Mapping[str, Any], resolve: Resolver | None = None) -> bool:
        return False

    def _compile(self) -> Predicate:
        return _never


def _never(rec: Mapping[str, Any], resolve: Resolver | None = None) -> bool:
    return False


# ------------------------------------------------------------------------------------------------
# And / Or
# ------------------------------------------------------------------------------------------------


class _Logic(Filter):
    """``left op right``; build with ``&`` / ``|`` (or the parser), which normalise."""

    __slots__ = ("left", "right")
    left: Filter
    right: Filter

    def __init__(self, left: Filter, right: Filter) -> None:
        """Build the node as given (no normalisation: use ``left & right``)."""
        object.__setattr__(self, "left", left)
        object.__setattr__(self, "right", right)
        self._init((self._ordinal, left._key, right._key), None)

    @property
    def parts(self) -> list[Filter]:
        """The operands of this chain of ``and`` (or ``or``) nodes, left to right."""
        return _parts(self, type(self))

    def _text(self) -> str:
        parts = self.parts
        last = len(parts) - 1
        out = []
        for i, p in enumerate(parts):
            text = str(p)
            if isinstance(p, _Logic) or (i < last and isinstance(p, Has) and p.path == ("not",)):
                text = f"({text})"
            out.append(text)
        return f" {self.type} ".join(out)

    @property
    def pattern(self) -> str:
        parts = self.parts
        text = parts[0].pattern
        for p in parts[1:]:
            text = f"({text}) {self.type} ({p.pattern})"
        return text


def all_of(preds: Sequence[Predicate]) -> Predicate:
    """One predicate that holds when every one of ``preds`` (at least one) holds."""
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        a, b = preds
        return lambda rec, resolve=None: a(rec, resolve) and b(rec, resolve)
    parts = tuple(preds)

    def all_of(rec: Mapping[str, Any], resolve: Resolver | None = None) -> bool:
        for p in parts:  # noqa: SIM110 (faster than all() over a generator)
            if not p(rec, resolve):
                return False
        return True

    return all_of


class And(_Logic):
    """``left and right``."""

    __slots__ = ()
    type = "and"
    _ordinal = 8

    def matches(self, rec: Mapping[str, Any], resolve: Resolver | None = None) -> bool:
        return all(p.matches(rec, resolve) for p in self.parts)

    def _compile(self) -> Predicate:
        parts = self.parts
        if all(isinstance(p, Has) and len(p.path) == 1 for p in parts):
            names = tuple(p.path[0] for p in parts)  # type: ignore[attr-defined]

            def has_all(rec: Mapping[str, Any], resolve: Resolver | None = None) -> bool:
                get = rec.get
                for n in names:  # noqa: SIM110 (faster than all() over a generator)
                    if get(n) is None:
                        return False
                return True

            return has_all
        return all_of([p.compile() for p in parts])


class Or(_Logic):
    """``left or right``."""

    __slots__ = ()
    type = "or"
    _ordinal = 9

    def matches(self, rec: Mapping[str, Any], resolve: Resolver | None = None) -> bool:
        return any(p.matches(rec, resolve) for p in self.parts)

    def _compile(self) -> Predicate:
        preds = tuple(p.compile() for p in self.parts)
        if len(preds) == 2:
            a, b = preds
            return lambda rec, resolve=None: a(rec, resolve) or b(rec, resolve)

        def any_of(rec: Mapping[str, Any], resolve: Resolver | None = None) -> bool:
            for p in preds:  # noqa: SIM110 (faster than any() over a generator)
                if p(rec, resolve):
                    return True
            return False

        return any_of


def _parts(f: Filter, op: type[_Logic]) -> list[Filter]:
    """The maximal non-``op`` subtrees of ``f``, left to right (iterative: chains can be long)."""
    out: list[Filter] = []
    stack = [f]
    while stack:
        x = stack.pop()
        if type(x) is op:
            stack.append(x.right)  # type: ignore[attr-defined]
            stack.append(x.left)  # type: ignore[attr-defined]
        else:
            out.append(x)
    return out


def _terms(f: Filter) -> Iterator[Filter]:
    """Every non-and/or node of ``f``, left to right."""
    stack = [f]
    while stack:
        x = stack.pop()
        if isinstance(x, _Logic):
            stack.append(x.right)
            stack.append(x.left)
        else:
            yield x


def _logic(op: type[_Logic], operands: list[Filter]) -> Filter:
    """Haxall ``Filter.logic`` folded right over ``operands`` (``a op (b op (c ...))``).

    Two operands that are not ``op`` nodes are ordered; otherwise every operand is flattened
    into its non-``op`` parts, which are stably sorted and rebuilt left-deep.  Folding right
    pairwise gives the same result as one stable sort of all parts, which is what this does.
    """
    if len(operands) == 1:
        return operands[0]
    if len(operands) == 2 and type(operands[0]) is not op and type(operands[1]) is not op:
        a, b = operands
        return op(b, a) if a._key > b._key else op(a, b)
    parts = [p for x in operands for p in _parts(x, op)]
    parts.sort(key=_sort_key)
    result = parts[0]
    for p in parts[1:]:
        result = op(result, p)
    return result


def _sort_key(f: Filter) -> tuple[Any, ...]:
    return f._key


def _abs_refs(f: Filter, id_prefix: str) -> Filter:
    """``f`` with relative Ref literals made absolute; ``f`` itself when there are none.
    Each and/or chain is rebuilt once from all its parts (not pairwise, which is quadratic)."""
    if isinstance(f, _Logic):
        parts = f.parts
        new = [_abs_refs(p, id_prefix) for p in parts]
        if all(a is b for a, b in zip(new, parts, strict=True)):
            return f
        return _logic(type(f), new)
    if isinstance(f, Cmp) and isinstance(f.val, Ref) and f.val.is_rel:
        return type(f)(f.path, f.val.to_abs(id_prefix))
    return f


# ------------------------------------------------------------------------------------------------
# Parser
# ------------------------------------------------------------------------------------------------

_CMP_TOKENS: dict[str, type[Cmp]] = {
    "eq": Eq,
    "notEq": Ne,
    "lt": Lt,
    "ltEq": Le,
    "gt": Gt,
    "gtEq": Ge,
}
_LITERAL_TOKENS = frozenset({"num", "str", "ref", "symbol", "uri", "date", "time", "dateTime"})
_TOKEN_TEXT = {
    "eof": "end of filter",
    "nl": "newline",
    **{
        t: f"'{text}'"
        for t, text in (
            ("lparen", "("),
            ("rparen", ")"),
            ("lbracket", "["),
            ("rbracket", "]"),
            ("lbrace", "{"),
            ("rbrace", "}"),
            ("comma", ","),
            ("semicolon", ";"),
            ("colon", ":"),
            ("colon2", "::"),
            ("dot", "."),
            ("arrow", "->"),
            ("fnArrow", "=>"),
            ("minus", "-"),
            ("assign", "="),
            ("bang", "!"),
            ("question", "?"),
            ("slash", "/"),
            ("amp", "&"),
            ("pipe", "|"),
            ("eq", "=="),
            ("notEq", "!="),
            ("lt", "<"),
            ("lt2", "<<"),
            ("ltEq", "<="),
            ("gt", ">"),
            ("gt2", ">>"),
            ("gtEq", ">="),
        )
    },
}


def _token_text(tok: Token) -> str:
    """A token as an error message names it."""
    if tok.type == "id":
        return f"identifier '{tok.val}'"
    if tok.type in _LITERAL_TOKENS:
        return f"{tok.type} literal {_val_str(tok.val)}"
    return _TOKEN_TEXT.get(tok.type, tok.type)


class _Parser:
    """Recursive descent over the Zinc tokenizer with one token of lookahead (``peek``)."""

    __slots__ = ("cur", "peek", "tokens")

    def __init__(self, text: str) -> None:
        self.tokens = Tokenizer(text)
        self.cur = self.tokens.next()
        self.peek = self.cur if self.cur.type == "eof" else self.tokens.next()

    def consume(self) -> Token:
        tok = self.cur
        self.cur = self.peek
        if self.peek.type != "eof":
            self.peek = self.tokens.next()
        return tok

    def error(self, msg: str) -> ParseError:
        return ParseError(f"{msg}, not {_token_text(self.cur)}", self.cur.line, self.cur.col)

    def is_keyword(self, name: str) -> bool:
        return self.cur.type == "id" and self.cur.val == name

    def parse(self) -> Filter:
        f = self.cond_or()
        if self.cur.type != "eof":
            raise self.error("Expected 'and', 'or' or end of filter")
        return f

    def cond_or(self) -> Filter:
        operands = [self.cond_and()]
        while self.is_keyword("or"):
            self.consume()
            operands.append(self.cond_and())
        return _logic(Or, operands)

    def cond_and(self) -> Filter:
        operands = [self.term()]
        while self.is_keyword("and"):
            self.consume()
            operands.append(self.term())
        return _logic(And, operands)

    def term(self) -> Filter:
        cur = self.cur
        if cur.type == "lparen":
            self.consume()
            f = self.cond_or()
            if self.cur.type != "rparen":
                raise self.error("Expected ')'")
            self.consume()
            return f
        if cur.type == "id":
            if cur.val == "not" and self.peek.type == "id":
                self.consume()
                return Missing(self.path())
            if "A" <= cur.val[0] <= "Z":
                self.consume()
                return IsSpec(cur.val)
            if self.peek.type in ("colon2", "dot"):
                return IsSpec(self.spec_qname())
        elif cur.type == "symbol":
            self.consume()
            return IsSymbol(cur.val)
        path = self.path()
        node = _CMP_TOKENS.get(self.cur.type)
        if node is None:
            return Has(path)
        self.consume()
        return node(path, self.val())

    def path(self) -> tuple[str, ...]:
        names = [self.path_name()]
        while self.cur.type == "arrow":
            self.consume()
            names.append(self.path_name())
        return tuple(names)

    def path_name(self) -> str:
        if self.cur.type != "id":
            raise self.error("Expected tag name")
        return self.consume().val  # type: ignore[no-any-return]

    def val(self) -> Any:
        cur = self.cur
        if cur.type in _LITERAL_TOKENS:
            self.consume()
            return cur.val
        if cur.type == "id" and cur.val in ("true", "false"):
            self.consume()
            return cur.val == "true"
        raise self.error("Expected value literal")

    def spec_qname(self) -> str:
        names = [self.consume().val]
        while self.cur.type == "dot":
            self.consume()
            if self.cur.type != "id":
                raise self.error("Expected identifier")
            names.append(self.consume().val)
        if self.cur.type != "colon2":
            raise self.error("Expecting spec qname ::")
        self.consume()
        if self.cur.type != "id" or not "A" <= self.cur.val[0] <= "Z":
            raise self.error("Expecting spec capitalized name")
        return ".".join(names) + "::" + self.consume().val


PARSE_CACHE_ENTRIES = 4096
"""At most this many parsed filters are cached (so too their query plans)."""
PARSE_CACHE_CHARS = 1_000_000
"""The cached filters' texts have at most this many characters in all (a parsed filter
takes some 40 bytes per character of its text, its plan and compiled form a few more)."""
PARSE_CACHE_MAX_TEXT = 50_000
"""A filter whose text is longer than this is not cached."""

_parse_cache: BoundedCache[str, Filter] = BoundedCache(
    PARSE_CACHE_ENTRIES, PARSE_CACHE_CHARS, PARSE_CACHE_MAX_TEXT
)


def _parse(text: str) -> Filter:
    try:
        return _Parser(text).parse()
    except RecursionError:
        raise ParseError("Filter nested too deeply") from None
