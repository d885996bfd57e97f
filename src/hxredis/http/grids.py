"""Grids every op shares: error grids, record grids, the empty grid (http.md §1.4, §3.0)."""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Mapping
from typing import Any

from ..values import MARKER, Grid

__all__ = ["EMPTY", "OpError", "error_grid", "rec_grid"]

EMPTY = Grid({}, [], [])


class OpError(Exception):
    """An op failure answered with an error grid whose ``dis`` is the message."""


def error_grid(exc: BaseException, *, debug: bool = False) -> Grid:
    """The error grid of an exception: meta ``err``, ``dis`` (``Type: message``; an OpError's
    message alone), ``errType`` (the class name) and, in debug mode only, ``errTrace``."""
    name = type(exc).__name__
    dis = str(exc) if isinstance(exc, OpError) else f"{name}: {exc}"
    meta: dict[str, Any] = {"err": MARKER, "dis": dis, "errType": name}
    if debug:
        meta["errTrace"] = "".join(traceback.format_exception(exc))
    return Grid(meta, ["empty"], [])


def rec_grid(
    recs: Iterable[Mapping[str, Any] | None], meta: Mapping[str, Any] | None = None
) -> Grid:
    """A grid of records (None: an all-null row), columns the union of their tags in
    first-seen order."""
    rows = [rec or {} for rec in recs]
    names: dict[str, None] = {}
    for row in rows:
        for name in row:
            if name not in names:
                names[name] = None
    if not names:
        return Grid(meta or {}, ["empty"], rows)
    return Grid(meta or {}, list(names), rows)
