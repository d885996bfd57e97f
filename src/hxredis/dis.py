"""Live display names of records (``dis``, ``disMacro``, ``navName`` and Ref display strings).

Every record's id Ref carries the record's display string: its ``disMacro`` evaluated with
each ``$xRef`` replaced by the (recursively computed) display of the target, else
``dis``, ``disKey``, ``name`` ... else the id.  While a record's display is being computed
its Ref shows the raw id, so a cycle or self-reference renders as the id; a Ref to a
missing record shows its id.

:class:`DisplayNames` updates incrementally: after a change it recomputes the changed
records and, transitively, the records whose ``disMacro`` names one of them.  The bulk
steps, :func:`rebuild` (at open) and :func:`compute_all`, are compiled
(``hxredis._fastcore.dis``) when available (:data:`NATIVE`); ``py_rebuild`` and
``py_compute_all`` are their references.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from . import _fastcore
from .codec import intern
from .values import Ref, dis_of, macro_parts

__all__ = [
    "NATIVE",
    "DisplayNames",
    "compute_all",
    "macro_targets",
    "py_compute_all",
    "py_rebuild",
    "rebuild",
]

Views = Mapping[str, Mapping[str, Any]]


def macro_targets(rec: Mapping[str, Any]) -> tuple[str, ...]:
    """Ids of the records a record's disMacro shows (through Ref-valued variables), each
    once, in the order the macro names them."""
    pattern = rec.get("disMacro")
    if type(pattern) is not str:
        return ()
    get = rec.get
    ids = (val.id for _, name in macro_parts(pattern) if name and type(val := get(name)) is Ref)
    return tuple(dict.fromkeys(ids))


def py_rebuild(
    views: Views,
    refs: dict[str, Ref],
    depends_on: dict[str, tuple[str, ...]],
    dependents: dict[str, set[str]],
) -> None:
    """From scratch: the macro dependencies of every record of ``views`` into the emptied
    ``depends_on`` (macro record -> ids it shows) and ``dependents`` (id -> macro records
    showing it), then the display of every record (:func:`py_compute_all`, in the order of
    ``views``)."""
    depends_on.clear()
    dependents.clear()
    for rec_id, rec in views.items():
        targets = macro_targets(rec)
        if targets:
            depends_on[rec_id] = targets
            for target in targets:
                users = dependents.get(target)
                if users is None:
                    dependents[target] = {rec_id}
                else:
                    users.add(rec_id)
    py_compute_all(views.keys(), views, refs, depends_on)


def py_compute_all(
    todo: Collection[str],
    views: Views,
    refs: dict[str, Ref],
    depends_on: Mapping[str, tuple[str, ...]],
) -> None:
    """Set the display string of the id Ref of every record in ``todo`` (None for an id
    without a record), computing macro targets in ``todo`` first, depth first (in the
    order of ``todo``), without recursion.  Records outside ``todo`` keep their display."""
    done: set[str] = set()
    for rec_id in todo:  # first the records that show no other record
        if rec_id not in depends_on:
            rec, ref = views.get(rec_id), intern(refs, rec_id)
            ref._set_dis(None if rec is None else _own_dis(rec, ref))
            done.add(rec_id)
    in_progress: set[str] = set()
    for root in todo:
        if root in done:
            continue
        stack = [_enter(root, views, refs, depends_on, in_progress)]
        while stack:
            rec_id, targets = stack[-1]
            for target in targets:
                if target in todo and target not in done and target not in in_progress:
                    stack.append(_enter(target, views, refs, depends_on, in_progress))
                    break
            else:
                stack.pop()
                in_progress.discard(rec_id)
                _finish(rec_id, views, refs, depends_on)
                done.add(rec_id)


def _enter(
    rec_id: str,
    views: Views,
    refs: dict[str, Ref],
    depends_on: Mapping[str, tuple[str, ...]],
    in_progress: set[str],
) -> tuple[str, Iterable[str]]:
    """Start computing a record: its Ref shows the raw id meanwhile (the cycle guard)."""
    targets = depends_on.get(rec_id)
    if views.get(rec_id) is None or not targets:
        return rec_id, iter(())
    in_progress.add(rec_id)
    intern(refs, rec_id)._set_dis(rec_id)
    return rec_id, iter(targets)


def _finish(
    rec_id: str, views: Views, refs: dict[str, Ref], depends_on: Mapping[str, tuple[str, ...]]
) -> None:
    rec, ref = views.get(rec_id), intern(refs, rec_id)
    # without a record the id shows; else dis_of falls back to the id Ref's dis
    ref._set_dis(
        None if rec is None else dis_of(rec) if depends_on.get(rec_id) else _own_dis(rec, ref)
    )


def _own_dis(rec: Mapping[str, Any], ref: Ref) -> str:
    """The display of a record that shows no other record (the id when nothing else)."""
    ref._set_dis(ref.id)
    return dis_of(rec)


class DisplayNames:
    """Keeps the ``dis`` of each record's interned id Ref current.

    ``views`` maps each id to its current record (a live mapping, read on each change);
    ``refs`` is the table of interned Refs (:func:`hxredis.codec.intern`).  Call
    :meth:`changed` with the ids of added, updated and removed records.
    """

    def __init__(self, views: Views, refs: dict[str, Ref]) -> None:
        self._views = views
        self._refs = refs
        self._depends_on: dict[str, tuple[str, ...]] = {}  # macro record -> ids it shows
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
        compute_all(todo, self._views, self._refs, self._depends_on)

    def rebuild(self) -> None:
        """Compute the display of every record from scratch."""
        rebuild(self._views, self._refs, self._depends_on, self._dependents)

    def _track(self, rec_id: str) -> None:
        rec = self._views.get(rec_id)
        new = macro_targets(rec) if rec is not None else ()
        old = self._depends_on.pop(rec_id, ())
        for target in set(old).difference(new):
            users = self._dependents[target]
            users.discard(rec_id)
            if not users:
                del self._dependents[target]
        for target in set(new).difference(old):
            self._dependents.setdefault(target, set()).add(rec_id)
        if new:
            self._depends_on[rec_id] = new


_native = _fastcore.load("dis")
#: True when :func:`rebuild` and :func:`compute_all` are the compiled ones.
NATIVE = _native is not None
rebuild = _native.rebuild if _native else py_rebuild
compute_all = _native.compute_all if _native else py_compute_all
