"""The watch ops ``watchSub``, ``watchUnsub`` and ``watchPoll`` (http.md §3.6).

A watch is a Redis hash ``{base}:watch:<watchId>`` that expires with its lease (1 min by
default, at most 1 h, renewed by every sub, unsub and poll), so any worker process can serve
any watch.  Its fields: ``_dis``, ``_lease`` (ms) and, per watched id, the digest of the record
as last polled (empty before the first poll).  A poll answers the records whose digest
changed since the last poll, as the Folio's cache holds them; the cache follows the database's
change stream in the background, so commits made by any process show within about 100 ms.
Transient changes such as ``curVal`` count.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from .. import zinc
from ..folio import Folio
from ..redis_errors import describe, redis_failures
from ..values import MARKER, Grid, Number, Ref
from .grids import EMPTY, OpError, rec_grid

__all__ = ["watch_poll", "watch_sub", "watch_unsub"]

DEFAULT_LEASE_MS = 60_000
MAX_LEASE_MS = 3_600_000
_UNIT_MS = {"ms": 1, "s": 1000, "sec": 1000, "min": 60_000, "h": 3_600_000, "hr": 3_600_000}


def _digest(rec: Any) -> str:
    return hashlib.blake2b(zinc.dumps(dict(rec)).encode(), digest_size=12).hexdigest()


def _lease_ms(lease: Any) -> int:
    if lease is None:
        return DEFAULT_LEASE_MS
    if not isinstance(lease, Number) or lease.unit not in _UNIT_MS or lease.val <= 0:
        raise OpError(f"watchSub: lease must be a positive time Number, not {zinc.dumps(lease)}")
    return min(MAX_LEASE_MS, max(1, int(lease.val * _UNIT_MS[lease.unit])))


def _lease_num(ms: int) -> Number:
    return Number(ms / 60_000, "min") if ms % 60_000 == 0 else Number(ms / 1000, "s")


def _ids(req: Grid) -> list[Ref]:
    refs = []
    for row in req.rows:
        ref = row.get("id")
        if not isinstance(ref, Ref):
            raise OpError(f"watch: every row needs an id Ref, not {ref!r}")
        refs.append(ref)
    return refs


def _key(base: str, watch_id: Any) -> str:
    if not isinstance(watch_id, str) or not watch_id.startswith("w-") or len(watch_id) > 100:
        raise OpError(f"Unknown watch: {watch_id!r}")
    return f"{base}:watch:{watch_id}"


def watch_sub(db: Folio, req: Grid, base: str) -> Grid:
    """Open a watch (meta ``watchDis``) or add to one (meta ``watchId``); answer the current
    records in request order (an all-null row for an unknown id) with meta ``watchId`` and
    ``lease``."""
    refs = _ids(req)
    watch_id = req.meta.get("watchId")
    with redis_failures(describe(db.client)):
        if watch_id is None:
            dis = req.meta.get("watchDis")
            if not isinstance(dis, str):
                raise OpError("watchSub: meta 'watchDis' (a Str) is required for a new watch")
            lease = _lease_ms(req.meta.get("lease"))
            watch_id = f"w-{secrets.token_hex(8)}"
            key = _key(base, watch_id)
            db.client.hset(key, mapping={"_dis": dis, "_lease": str(lease)})
        else:
            key = _key(base, watch_id)
            stored = db.client.hget(key, "_lease")
            if stored is None:
                raise OpError(f"Unknown watch: {watch_id}")
            lease = _lease_ms(req.meta["lease"]) if "lease" in req.meta else int(stored)
            db.client.hset(key, "_lease", str(lease))
        recs = db.read_by_ids(refs, checked=False)
        fields = {rec["id"].id: "" for rec in recs if rec is not None}
        pipe = db.client.pipeline(transaction=True)
        for field in fields:  # ids already watched keep their digest
            pipe.hsetnx(key, field, "")
        pipe.pexpire(key, lease)
        pipe.execute()
    return rec_grid(recs, {"watchId": watch_id, "lease": _lease_num(lease)})


def watch_unsub(db: Folio, req: Grid, base: str) -> Grid:
    """Remove ids from a watch, or close it (meta ``close``); an unknown watch is no error."""
    watch_id = req.meta.get("watchId")
    key = _key(base, watch_id)
    with redis_failures(describe(db.client)):
        if req.meta.get("close") is MARKER:
            db.client.delete(key)
            return EMPTY
        stored = db.client.hget(key, "_lease")
        if stored is None:
            return EMPTY
        ids = [ref.id for ref in _ids(req)]
        pipe = db.client.pipeline(transaction=True)
        if ids:
            pipe.hdel(key, *ids)
        pipe.pexpire(key, int(stored))
        pipe.execute()
    return EMPTY


def watch_poll(db: Folio, req: Grid, base: str) -> Grid:
    """The watched records changed since the last poll (all of them with ``refresh`` or at
    the first poll); ``curValSub`` keeps only ``id``, ``curVal`` and ``curStatus``."""
    watch_id = req.meta.get("watchId")
    key = _key(base, watch_id)
    with redis_failures(describe(db.client)):
        raw = db.client.hgetall(key)
        if not raw:
            raise OpError(f"Unknown watch: {watch_id}")
        state = {k.decode(): v.decode() for k, v in raw.items()}
        refresh = req.meta.get("refresh") is MARKER
        ids = [k for k in state if not k.startswith("_")]
        recs = db.read_by_ids(ids, checked=False)
        changed = []
        updates = {}
        for rec_id, rec in zip(ids, recs, strict=True):
            if rec is None:
                continue
            digest = _digest(rec)
            if refresh or state[rec_id] != digest:
                changed.append(rec)
                updates[rec_id] = digest
        pipe = db.client.pipeline(transaction=True)
        if updates:
            pipe.hset(key, mapping=updates)
        pipe.pexpire(key, int(state["_lease"]))
        pipe.execute()
    if req.meta.get("curValSub") is MARKER:
        changed = [
            {k: rec[k] for k in ("id", "curVal", "curStatus") if k in rec} for rec in changed
        ]
    return rec_grid(changed, {"watchId": watch_id})
