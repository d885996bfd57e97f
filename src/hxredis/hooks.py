"""Folio hooks: callbacks around commits and history writes.

Install an object once with ``db.hooks = obj`` (or ``hx.open(..., hooks=obj)``); it may
define any of the methods of :class:`FolioHooks`.  ``pre_commit`` runs for every diff of a
commit after the diff was verified and before anything is applied: raising there aborts the
whole batch and the exception reaches the caller unchanged.  ``post_commit`` runs after the
commit was applied, with the result Diff that ``commit`` returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .diff import Diff

__all__ = ["CommitEvent", "FolioHooks", "HisWriteEvent"]


@dataclass(frozen=True)
class CommitEvent:
    """A commit of one diff: ``diff`` (the input Diff in ``pre_commit``, the result Diff in
    ``post_commit``) and ``old_rec``, the record before the commit (None for an add)."""

    diff: Diff
    old_rec: Mapping[str, Any] | None


@dataclass(frozen=True)
class HisWriteEvent:
    """A history write: the point record and the result dict ``{"count", "span"}``."""

    rec: Mapping[str, Any]
    result: Mapping[str, Any]


class FolioHooks:
    """The hook methods a Folio calls; subclass it or define the same methods anywhere."""

    def pre_commit(self, event: CommitEvent) -> None:
        """Called for each diff before a commit is applied; raise to abort the commit."""

    def post_commit(self, event: CommitEvent) -> None:
        """Called for each diff after a commit was applied."""

    def post_his_write(self, event: HisWriteEvent) -> None:
        """Called after a history write: once per ``his.write``, and once per point that
        ``write_arrays``/``write_many`` wrote (after the whole call's transfer)."""
