"""Small utilities shared by the Folio tests (ports of Haxall's AbstractFolioTest helpers)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

import hxredis as hx
from hxredis.keys import KeySchema
from hxredis.server import RedisServer, start_server


def add_rec(db: hx.Folio, tags: Mapping[str, Any], id: hx.Ref | None = None) -> hx.Rec:
    """Haxall ``addRec``: commit an add of ``tags`` and return the new record."""
    return db.commit(hx.Diff.make_add(tags, id)).new_rec


def commit(db: hx.Folio, rec: Mapping[str, Any], changes: Any, flags: int = 0) -> hx.Rec | None:
    """Haxall ``commit``: commit ``Diff(rec, changes, flags)`` and return the new record."""
    return db.commit(hx.Diff(rec, changes, flags)).new_rec


def remove_rec(db: hx.Folio, rec: Mapping[str, Any]) -> None:
    """Haxall ``removeRec``: remove the current version of ``rec``."""
    db.commit(hx.Diff(db.read_by_id_trash(rec["id"]), None, hx.Diff.REMOVE))


def raises_exactly(exc_type: type[BaseException], fn: Callable[[], Any], match: str | None = None):
    """Call ``fn`` and require exactly ``exc_type`` (not a subclass), as Fantom's verifyErr."""
    with pytest.raises(BaseException) as info:
        fn()
    assert type(info.value) is exc_type, f"expected {exc_type.__name__}, got {info.value!r}"
    if match is not None:
        assert re.search(match, str(info.value)), str(info.value)
    return info.value


def wait_for(predicate: Callable[[], Any], timeout: float = 2.0, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy (no timing assertion: the
    deadline only bounds a failing test)."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def dis_of_ref(val: Any) -> str:
    """A Ref's display string (its id when it has none)."""
    return val.dis if val.dis is not None else val.id


def rec_state(rec: Mapping[str, Any] | None) -> Any:
    """A record as plain comparable data, including the display string of every Ref, because
    Haxall's verifyDictEq compares Ref dis too."""
    if rec is None:
        return None
    return {k: _val_state(v) for k, v in sorted(rec.items())}


def _val_state(val: Any) -> Any:
    if isinstance(val, hx.Ref):
        return ("Ref", val.id, dis_of_ref(val))
    if isinstance(val, list):
        return [_val_state(v) for v in val]
    if isinstance(val, Mapping):
        return rec_state(val)
    return val


def keys_of(db: hx.Folio, prefix: str = "hx") -> KeySchema:
    """The Redis key names of ``db``'s database."""
    return KeySchema(prefix, db.name)


def stored_trio(db: hx.Folio, rec_id: str, prefix: str = "hx") -> str | None:
    """The Trio text Redis holds for a record, or None."""
    raw = db.client.hget(keys_of(db, prefix).recs, rec_id)
    return None if raw is None else raw.decode()


def stored_version(db: hx.Folio, prefix: str = "hx") -> int:
    """The version counter Redis holds for the database."""
    return int(db.client.get(keys_of(db, prefix).ver) or 0)


def restart(server: RedisServer, data_dir: Path | None = None) -> RedisServer:
    """Stop ``server`` (a ``private_server``) and start the same kind again on the same port,
    on its data directory or on ``data_dir``."""
    server.stop()
    return start_server(
        timeseries=server.test_timeseries,  # type: ignore[attr-defined]
        persistence=True,
        data_dir=data_dir or server.data_dir,
        port=server.port,
    )
