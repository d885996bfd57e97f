"""Read-only records as the Folio hands them out.

A :class:`Rec` is a ``dict`` that refuses changes, so callers can keep and pass records
around without being able to corrupt the Folio's cache.  Nested Lists and Dicts are frozen
too (:class:`FrozenList`, :class:`Rec`); they still compare equal to plain lists and dicts.
"""

from __future__ import annotations

from typing import Any, NoReturn

from .values import dis_of

__all__ = ["FrozenList", "Rec"]


def _read_only(self: object, *args: object, **kwargs: object) -> NoReturn:
    raise TypeError(f"{type(self).__name__} is read-only: commit a hx.Diff to change a record")


class Rec(dict):  # type: ignore[type-arg]
    """A read-only record: a dict of tag name to Haystack value.

    ``rec.dis`` is its display string (computed live, see :mod:`hxredis.dis`).  Change records with
    ``db.commit(hx.Diff(rec, changes))``, never in place.
    """

    __slots__ = ()

    __setitem__ = __delitem__ = _read_only
    clear = pop = popitem = setdefault = update = _read_only
    __ior__ = _read_only

    @property
    def dis(self) -> str:
        """The display string: ``dis``, else ``disMacro`` evaluated, ..., else the id."""
        return dis_of(self)

    def __copy__(self) -> Rec:
        return self

    def __deepcopy__(self, memo: object) -> Rec:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (Rec, (dict(self),))

    def __repr__(self) -> str:
        return f"Rec({dict.__repr__(self)})"


class FrozenList(list):  # type: ignore[type-arg]
    """A read-only list (a Haystack List inside a record)."""

    __slots__ = ()

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _read_only
    append = extend = insert = pop = remove = clear = sort = reverse = _read_only

    def __copy__(self) -> FrozenList:
        return self

    def __deepcopy__(self, memo: object) -> FrozenList:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenList, (list(self),))
