"""Live display names of records (folio.md section 6).

Every record's id Ref carries the record's display string: its ``disMacro`` evaluated with
each ``$xRef`` replaced by the (recursively computed) display of the target, else
``dis``, ``disKey``, ``name`` ... else the id.  While a record's display is being computed
its Ref shows the raw id, so a cycle or self-reference renders as the id; a Ref to a
missing record shows its id.

:class:`DisplayNames` updates incrementally: after a change it recomputes the changed
records and, transitively, the records whose ``disMacro`` names one of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .values import Ref, dis_of, macro_parts

__all__ = ["DisplayNames"]


def _macro_targets(rec: Mapping[str, Any]) -> set[str]:
    """Ids of the records a record's disMacro shows (through Ref-valued variables)."""
    pattern = rec.get("disMacro")
    if type(pattern) is not str:
        return set()
    get = rec.get
    return {
        val.id
        for name in (name for _, name in macro_parts(pattern) if name)
        if type(val := get(name)) is Ref
    }


class DisplayNames:
    """Keeps the ``dis`` of each record's interned id Ref current.

    ``lookup(id)`` returns the current record (or None); ``ref_of(id)`` the interned Ref
    of an id.  Call :meth:`changed` with the ids of added, updated and removed records.
    """

    def __init__(
        self,
        lookup: Callable[[str], Mapping[str, Any] | None],
        ref_of: Callable[[str], Ref],
    ) -> None:
        self._lookup = lookup
        self._ref_of = ref_of
        self._depends_on: dict[str, set[str]] = {}  # macro record -> ids its macro shows
        self._dependents: dict[str, set[str]] = {}  # id -> macro records showing it

    def changed(self, ids: Iterable[str]) -> None:
        """Recompute the display of ``ids`` and of every record whose macro depends on them."""
        todo: set[str] = set()
        stack = list(ids)
        while stack:
            rec_id = stack.pop()
            if rec_id not in todo:
                todo.add(rec_id)
                stack.extend(self._dependents.get(rec_id, ()))
        for rec_id in todo:
            self._track(rec_id)
        self._compute_all(todo)

    def rebuild(self, ids: Iterable[str]) -> None:
        """Compute the display of every record from scratch (``ids``: all of them)."""
        self._depends_on.clear()
        self._dependents.clear()
        todo = set(ids)
        lookup, dependents = self._lookup, self._dependents
        for rec_id in todo:
            rec = lookup(rec_id)
            targets = _macro_targets(rec) if rec is not None else None
            if targets:
                self._depends_on[rec_id] = targets
                for target in targets:
                    users = dependents.get(target)
                    if users is None:
                        dependents[target] = {rec_id}
                    else:
                        users.add(rec_id)
        self._compute_all(todo)

    def _track(self, rec_id: str) -> None:
        rec = self._lookup(rec_id)
        new = _macro_targets(rec) if rec is not None else set()
        old = self._depends_on.pop(rec_id, set())
        for target in old - new:
            users = self._dependents[target]
            users.discard(rec_id)
            if not users:
                del self._dependents[target]
        for target in new - old:
            self._dependents.setdefault(target, set()).add(rec_id)
        if new:
            self._depends_on[rec_id] = new

    def _compute_all(self, todo: set[str]) -> None:
        done: set[str] = set()
        in_progress: set[str] = set()
        lookup, ref_of, depends_on = self._lookup, self._ref_of, self._depends_on
        for rec_id in todo:  # first the records that show no other record: no recursion
            if rec_id not in depends_on:
                rec, ref = lookup(rec_id), ref_of(rec_id)
                ref._set_dis(None if rec is None else _own_dis(rec, ref))
                done.add(rec_id)
        for rec_id in todo:
            if rec_id not in done:
                self._compute(rec_id, todo, done, in_progress)

    def _compute(self, rec_id: str, todo: set[str], done: set[str], in_progress: set[str]) -> None:
        if rec_id in done or rec_id in in_progress:
            return
        ref = self._ref_of(rec_id)
        rec = self._lookup(rec_id)
        targets = self._depends_on.get(rec_id)
        if rec is not None and targets:
            in_progress.add(rec_id)
            ref._set_dis(rec_id)  # the cycle guard: shown while computing
            for target in targets:
                if target in todo and target not in done:
                    self._compute(target, todo, done, in_progress)
            in_progress.discard(rec_id)
        # without a record the id shows; else dis_of falls back to the id Ref's dis
        ref._set_dis(None if rec is None else dis_of(rec) if targets else _own_dis(rec, ref))
        done.add(rec_id)


def _own_dis(rec: Mapping[str, Any], ref: Ref) -> str:
    """The display of a record that shows no other record (the id when nothing else)."""
    ref._set_dis(ref.id)
    return dis_of(rec)
