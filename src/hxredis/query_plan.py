"""Answer filters from tag indexes: set algebra first, the filter only on the candidates.

A :class:`TagIndex` maps each tag name to the ids of the records having it (in the order the
records were first indexed) and each Ref-valued tag to a value index (tag -> ref id -> ids).
:func:`plan` turns a :class:`~hxredis.filter.Filter` into a :class:`Plan`: a candidate
expression over the index (has / missing / ``tag == @ref`` / and / or) plus the *residual*
part of the filter that the index cannot decide.  :func:`execute` evaluates the candidates
and runs the compiled residual predicate on them only, so ``site`` or
``equip and siteRef == @x`` never touch every record.

How filter terms map onto the index (``p0`` is the first name of a path):

* ``tag`` -> ids having ``tag`` (exact); ``a->b`` -> ids having ``a`` (then the residual);
* ``not tag`` -> all ids minus those having ``tag`` (exact); ``not a->b`` -> all ids;
* ``tag == @x`` -> the value index (exact; a list of Refs counts each element);
  ``id == @x`` -> the single id ``x`` (then the residual); any other comparison -> ids
  having ``p0`` (every comparison needs the tag to be present);
* ``^tag`` / ``^a-b`` -> ids having every part (exact); key symbols and spec names -> none;
* ``and`` -> intersection (``not tag`` parts subtract), ``or`` -> union.

Results come in a stable order: the order in which the records were first added to the
index (:meth:`TagIndex.update` keeps a record's place; ``remove`` + ``add`` moves it last).
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Iterator, KeysView, Mapping
from typing import Any

from . import _fastcore
from .filter import (
    PARSE_CACHE_CHARS,
    PARSE_CACHE_ENTRIES,
    PARSE_CACHE_MAX_TEXT,
    And,
    Cmp,
    Eq,
    Filter,
    Has,
    IsSpec,
    IsSymbol,
    Missing,
    Or,
    Predicate,
    Resolver,
    all_of,
)
from .lru import BoundedCache
from .values import Ref

__all__ = ["Plan", "TagIndex", "count", "execute", "plan", "py_add_many"]

_EMPTY: dict[str, None] = {}


def _ref_ids(val: Any) -> list[str]:
    """The ids a tag value indexes under in the value index: a Ref, or each Ref of a list."""
    if isinstance(val, Ref):
        return [val.id]
    if isinstance(val, list):
        return [v.id for v in val if isinstance(v, Ref)]
    return []


class TagIndex:
    """Tag and Ref-value indexes over a set of records identified by id strings.

    * ``ids_with(tag)``: the ids of the records having ``tag`` (a value other than None);
    * ``ids_with_ref(tag, ref_id)``: the ids whose ``tag`` is ``@ref_id`` or a list holding
      it.  Every tag except ``id`` gets a value index for its Ref values;
    * ``all_ids``: every indexed id.

    All three iterate in indexing order (the order ids were first added).  The index does not
    keep the records: :meth:`remove` and :meth:`update` take the record as it was indexed.
    Not thread-safe: callers serialise writers against readers.
    """

    __slots__ = ("_next", "_refs", "_seq", "_tags", "_unsorted")

    def __init__(self) -> None:
        self._seq: dict[str, int] = {}
        self._next = 0
        # tag -> ids: a dict, or a list of ids in order not yet made a dict (see _bucket)
        self._tags: dict[str, dict[str, None] | list[str]] = {}
        self._refs: dict[str, dict[str, dict[str, None] | list[str]]] = {}
        self._unsorted: set[tuple[str, ...]] = set()

    def __len__(self) -> int:
        return len(self._seq)

    def __contains__(self, rec_id: object) -> bool:
        return rec_id in self._seq

    @property
    def all_ids(self) -> KeysView[str]:
        """Every indexed id in indexing order (a live view)."""
        return self._seq.keys()

    def clear(self) -> None:
        """Forget every record."""
        self._seq.clear()
        self._tags.clear()
        self._refs.clear()
        self._unsorted.clear()

    def add(self, rec_id: str, rec: Mapping[str, Any]) -> None:
        """Index a new record under ``rec_id`` (placed last); ValueError if already indexed."""
        if rec_id in self._seq:
            raise ValueError(f"record already indexed: {rec_id}")
        self._seq[rec_id] = self._next
        self._next += 1
        for tag, val in rec.items():
            if val is not None:
                self._add_tag(rec_id, tag, val, appended=True)

    def add_many(self, recs: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        """Index many new records at once, in order: the same result as :meth:`add` for each
        (natively when compiled: a cold load's bulk step).  ValueError if an id is already
        indexed or comes twice; nothing is indexed then."""
        if _native is None:
            py_add_many(self, recs)
        else:
            self._next = _native.add_many(self._seq, self._next, self._tags, self._refs, recs)

    def remove(self, rec_id: str, rec: Mapping[str, Any]) -> None:
        """Drop ``rec_id``, indexed with the tags of ``rec``; KeyError if not indexed."""
        del self._seq[rec_id]
        for tag, val in rec.items():
            if val is not None:
                self._drop_tag(rec_id, tag, val)

    def update(self, rec_id: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        """Re-index ``rec_id`` from ``old`` to ``new``, keeping its place in the order;
        KeyError if not indexed."""
        if rec_id not in self._seq:
            raise KeyError(rec_id)
        for tag, val in old.items():
            if val is None:
                continue
            new_val = new.get(tag)
            if new_val is None:
                self._drop_tag(rec_id, tag, val)
            elif new_val is not val and tag != "id":  # an unchanged value keeps its object
                old_refs, new_refs = _ref_ids(val), _ref_ids(new_val)
                if old_refs != new_refs:
                    self._drop_refs(rec_id, tag, old_refs)
                    self._add_refs(rec_id, tag, new_refs, appended=False)
        for tag, val in new.items():
            if val is not None and old.get(tag) is None:
                self._add_tag(rec_id, tag, val, appended=False)

    def ids_with(self, tag: str) -> Collection[str]:
        """Ids of the records having ``tag``, in indexing order (a live view)."""
        ids = _dict_bucket(self._tags, tag)
        if ids is None:
            return _EMPTY.keys()
        if self._unsorted and ("t", tag) in self._unsorted:
            ids = self._sort(("t", tag), self._tags, tag)
        return ids.keys()

    def ids_with_ref(self, tag: str, ref_id: str) -> Collection[str]:
        """Ids of the records whose ``tag`` is ``@ref_id`` (or a list holding it), in
        indexing order (a live view); always empty for ``tag == "id"``."""
        by_ref = self._refs.get(tag)
        ids = _dict_bucket(by_ref, ref_id) if by_ref is not None else None
        if ids is None:
            return _EMPTY.keys()
        if self._unsorted and ("r", tag, ref_id) in self._unsorted:
            ids = self._sort(("r", tag, ref_id), by_ref, ref_id)  # type: ignore[arg-type]
        return ids.keys()

    def _sort(self, key: tuple[str, ...], table: dict[str, dict[str, None]], name: str) -> dict:
        """Restore indexing order in one bucket after :meth:`update` appended to it."""
        ids = dict.fromkeys(sorted(table[name], key=self._seq.__getitem__))
        table[name] = ids
        self._unsorted.discard(key)
        return ids

    def _put(
        self, table: dict[str, dict[str, None] | list[str]], key: str, rec_id: str, appended: bool
    ) -> bool:
        """Add ``rec_id`` to the bucket ``table[key]`` (created when absent; a still-list
        bucket takes an appended id as it is); True when that broke the indexing order."""
        bucket = table.get(key)
        if bucket is None:
            table[key] = {rec_id: None}
            return False
        if appended and type(bucket) is list:
            bucket.append(rec_id)
            return False
        bucket = _dict_bucket(table, key)
        late = (
            not appended and bool(bucket) and self._seq[next(reversed(bucket))] > self._seq[rec_id]
        )
        bucket[rec_id] = None
        return late

    def _add_tag(self, rec_id: str, tag: str, val: Any, appended: bool) -> None:
        if self._put(self._tags, tag, rec_id, appended):
            self._unsorted.add(("t", tag))
        if tag != "id":
            self._add_refs(rec_id, tag, _ref_ids(val), appended)

    def _add_refs(self, rec_id: str, tag: str, ref_ids: list[str], appended: bool) -> None:
        if not ref_ids:
            return
        by_ref = self._refs.setdefault(tag, {})
        for ref_id in ref_ids:
            if self._put(by_ref, ref_id, rec_id, appended):
                self._unsorted.add(("r", tag, ref_id))

    def _drop_tag(self, rec_id: str, tag: str, val: Any) -> None:
        bucket = _dict_bucket(self._tags, tag)
        if bucket is not None:
            bucket.pop(rec_id, None)
            if not bucket:
                del self._tags[tag]
                self._unsorted.discard(("t", tag))
        if tag != "id":
            self._drop_refs(rec_id, tag, _ref_ids(val))

    def _drop_refs(self, rec_id: str, tag: str, ref_ids: list[str]) -> None:
        by_ref = self._refs.get(tag)
        if by_ref is None:
            return
        for ref_id in ref_ids:
            bucket = _dict_bucket(by_ref, ref_id)
            if bucket is not None:
                bucket.pop(rec_id, None)
                if not bucket:
                    del by_ref[ref_id]
                    self._unsorted.discard(("r", tag, ref_id))
        if not by_ref:
            del self._refs[tag]


def _dict_bucket(table: dict[str, dict[str, None] | list[str]], key: str) -> dict[str, None] | None:
    """``table[key]`` as a dict of ids (None if absent).  A bulk load leaves each bucket a
    list (cheap to build; most are never queried) that becomes a dict here, on first use."""
    ids = table.get(key)
    if type(ids) is list:
        ids = table[key] = dict.fromkeys(ids)
    return ids


def py_add_many(index: TagIndex, recs: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
    """The reference of the native ``add_many``: :meth:`TagIndex.add` for each record, after
    checking that no id is indexed already or comes twice."""
    recs = list(recs)
    seen: set[str] = set()
    for rec_id, _ in recs:
        if rec_id in index or rec_id in seen:
            raise ValueError(f"record already indexed: {rec_id}")
        seen.add(rec_id)
    for rec_id, rec in recs:
        index.add(rec_id, rec)


_native = _fastcore.load("index")


# ------------------------------------------------------------------------------------------------
# Candidate expressions
# ------------------------------------------------------------------------------------------------


class _Source:
    """A candidate expression: evaluates to ids in indexing order."""

    __slots__ = ()

    def ids(self, index: TagIndex) -> Collection[str]:
        raise NotImplementedError


class _All(_Source):
    __slots__ = ()

    def ids(self, index: TagIndex) -> Collection[str]:
        return index.all_ids

    def __repr__(self) -> str:
        return "all"


class _Nothing(_Source):
    __slots__ = ()

    def ids(self, index: TagIndex) -> Collection[str]:
        return ()

    def __repr__(self) -> str:
        return "none"


_ALL = _All()
_NOTHING = _Nothing()


class _Tag(_Source):
    __slots__ = ("tag",)

    def __init__(self, tag: str) -> None:
        self.tag = tag

    def ids(self, index: TagIndex) -> Collection[str]:
        return index.ids_with(self.tag)

    def __repr__(self) -> str:
        return f"has({self.tag})"


class _RefEq(_Source):
    __slots__ = ("ref_id", "tag")

    def __init__(self, tag: str, ref_id: str) -> None:
        self.tag = tag
        self.ref_id = ref_id

    def ids(self, index: TagIndex) -> Collection[str]:
        return index.ids_with_ref(self.tag, self.ref_id)

    def __repr__(self) -> str:
        return f"{self.tag}==@{self.ref_id}"


class _Id(_Source):
    __slots__ = ("ref_id",)

    def __init__(self, ref_id: str) -> None:
        self.ref_id = ref_id

    def ids(self, index: TagIndex) -> Collection[str]:
        return (self.ref_id,) if self.ref_id in index else ()

    def __repr__(self) -> str:
        return f"id(@{self.ref_id})"


class _Inter(_Source):
    """Ids in every ``pos`` source and having none of the ``neg`` tags."""

    __slots__ = ("neg", "pos")

    def __init__(self, pos: tuple[_Source, ...], neg: tuple[str, ...]) -> None:
        self.pos = pos
        self.neg = neg

    def ids(self, index: TagIndex) -> Collection[str]:
        cols = [s.ids(index) for s in self.pos]
        base = min(cols, key=len) if cols else index.all_ids
        if not base:
            return ()
        it: Iterator[str] = iter(base)
        for c in cols:
            if c is not base:
                it = filter(_as_set(c).__contains__, it)
        for tag in self.neg:
            it = itertools.filterfalse(_as_set(index.ids_with(tag)).__contains__, it)
        return list(it)

    def __repr__(self) -> str:
        return "and(" + ", ".join([*map(repr, self.pos), *(f"not {t}" for t in self.neg)]) + ")"


class _Union(_Source):
    __slots__ = ("parts",)

    def __init__(self, parts: tuple[_Source, ...]) -> None:
        self.parts = parts

    def ids(self, index: TagIndex) -> Collection[str]:
        found: set[str] = set()
        for s in self.parts:
            found.update(s.ids(index))
        if len(found) * 8 > len(index):  # large: one pass over all ids beats sorting
            return list(filter(found.__contains__, index.all_ids))
        return sorted(found, key=index._seq.__getitem__)

    def __repr__(self) -> str:
        return "or(" + ", ".join(map(repr, self.parts)) + ")"


def _as_set(ids: Collection[str]) -> Collection[str]:
    """A collection with O(1) membership (dict views and sets already have it)."""
    return ids if isinstance(ids, (KeysView, set, frozenset)) else set(ids)


# ------------------------------------------------------------------------------------------------
# Planning
# ------------------------------------------------------------------------------------------------


class Plan:
    """How to answer one filter from a :class:`TagIndex`.

    ``source`` yields candidate ids; ``residual`` (a tuple of filters, all of which must
    match) is what the index cannot decide, checked on each candidate.  A plan with no
    residual is *exact*: the candidates are the answer.
    """

    __slots__ = ("filter", "predicate", "residual", "source")

    def __init__(self, filter: Filter, source: _Source, residual: tuple[Filter, ...]) -> None:
        self.filter = filter
        self.source = source
        self.residual = residual
        self.predicate: Predicate | None = _all_of([f.compile() for f in residual])

    @property
    def exact(self) -> bool:
        """True when the index alone answers the filter."""
        return not self.residual

    def __repr__(self) -> str:
        residual = " and ".join(f"({f})" for f in self.residual) or "-"
        return f"Plan({str(self.filter)!r}: {self.source!r} | residual {residual})"


def _all_of(preds: list[Predicate]) -> Predicate | None:
    return all_of(preds) if preds else None


def plan(filter: Filter | str) -> Plan:
    """The :class:`Plan` of a filter (or filter text); cached per filter within the bounds
    of the filter parse cache (see :meth:`Filter.parse`)."""
    f = Filter.parse(filter)
    return _plans.get(f, len(str(f)), lambda: Plan(f, *_plan(f)))


_plans: BoundedCache[Filter, Plan] = BoundedCache(
    PARSE_CACHE_ENTRIES, PARSE_CACHE_CHARS, PARSE_CACHE_MAX_TEXT
)


def _plan(f: Filter) -> tuple[_Source, tuple[Filter, ...]]:
    """(candidates, residual filters) for one node."""
    if isinstance(f, And):
        return _plan_and(f.parts)
    if isinstance(f, Or):
        return _plan_or(f)
    if isinstance(f, IsSymbol):
        terms = f.terms
        if not terms:
            return _NOTHING, ()
        return _plan_and([Has((t,)) for t in terms])
    if isinstance(f, IsSpec):
        return _NOTHING, ()
    path = f.path  # type: ignore[attr-defined]
    single = len(path) == 1
    if isinstance(f, Has):
        return _Tag(path[0]), () if single else (f,)
    if isinstance(f, Missing):
        return (_Inter((), (path[0],)), ()) if single else (_ALL, (f,))
    assert isinstance(f, Cmp)
    if isinstance(f, Eq) and single and isinstance(f.val, Ref):
        if path[0] == "id":
            return _Id(f.val.id), (f,)
        return _RefEq(path[0], f.val.id), ()
    return _Tag(path[0]), (f,)


def _plan_and(parts: list[Filter]) -> tuple[_Source, tuple[Filter, ...]]:
    pos: list[_Source] = []
    neg: list[str] = []
    residual: list[Filter] = []
    for part in parts:
        source, rest = _plan(part)
        if source is _NOTHING:
            return _NOTHING, ()
        if isinstance(source, _Inter):
            pos.extend(source.pos)
            neg.extend(source.neg)
        elif source is not _ALL:
            pos.append(source)
        residual.extend(rest)
    if not neg and len(pos) == 1:
        return pos[0], tuple(residual)
    if not pos and not neg:
        return _ALL, tuple(residual)
    return _Inter(tuple(pos), tuple(neg)), tuple(residual)


def _plan_or(f: Or) -> tuple[_Source, tuple[Filter, ...]]:
    sources: list[_Source] = []
    exact = True
    for part in f.parts:
        source, rest = _plan(part)
        exact = exact and not rest
        if source is _ALL:
            return _ALL, (f,)
        if source is not _NOTHING:
            sources.append(source)
    residual = () if exact else (f,)
    if not sources:
        return _NOTHING, ()
    if len(sources) == 1:
        return sources[0], residual
    return _Union(tuple(sources)), residual


# ------------------------------------------------------------------------------------------------
# Execution
# ------------------------------------------------------------------------------------------------


def _resolve_plan(plan_or_filter: Plan | Filter | str) -> Plan:
    return plan_or_filter if isinstance(plan_or_filter, Plan) else plan(plan_or_filter)


def execute(
    plan_or_filter: Plan | Filter | str,
    index: TagIndex,
    recs: Mapping[str, Mapping[str, Any]],
    resolve: Resolver | None = None,
) -> Iterator[str]:
    """Iterate the ids of the records matching a filter, in indexing order.

    ``index`` must describe ``recs`` (id string -> record); ``resolve`` dereferences Refs for
    ``->`` paths (see :meth:`Filter.matches`).  Candidates are computed when called; the
    residual filter runs lazily as the iterator is consumed.
    """
    p = _resolve_plan(plan_or_filter)
    ids = p.source.ids(index)
    pred = p.predicate
    if pred is None:
        return iter(list(ids))
    get = recs.get
    return (i for i in list(ids) if (r := get(i)) is not None and pred(r, resolve))


def count(
    plan_or_filter: Plan | Filter | str,
    index: TagIndex,
    recs: Mapping[str, Mapping[str, Any]],
    resolve: Resolver | None = None,
) -> int:
    """The number of ids :func:`execute` would yield (no list built for exact plans)."""
    p = _resolve_plan(plan_or_filter)
    if p.predicate is None:
        return len(p.source.ids(index))
    return sum(1 for _ in execute(p, index, recs, resolve))
