"""Fixtures of the history tests: point records on a fresh database of each server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import hxredis as hx


@pytest.fixture
def make_point(db: hx.Folio) -> Callable[..., hx.Rec]:
    """Add a history point: ``make_point(kind="Number", tz="New_York", **more_tags)``."""

    def make(kind: str = "Number", tz: str = "New_York", **tags: Any) -> hx.Rec:
        changes = {"point": hx.MARKER, "his": hx.MARKER, "kind": kind, "tz": tz, **tags}
        return db.commit(hx.Diff.make_add(changes)).new_rec

    return make


@pytest.fixture
def point(make_point) -> hx.Rec:
    """A Number point in New York without unit."""
    return make_point()
