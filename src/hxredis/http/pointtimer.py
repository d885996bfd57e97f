"""Each worker's background task for pointWrite (:mod:`hxredis.http.points`).

Every ``period`` seconds it

1. releases the timed level 8 overrides that ran out: a script takes the due entries off the
   sorted set atomically, so exactly one worker handles each expiry; it drops the expired
   level from the array and announces the change;
2. follows the stream of array changes and brings the ``writeVal``/``writeLevel`` (and
   ``curVal``) tags of this worker's Folio up to date for each point named;
3. gives every writable point that has no ``writeLevel`` yet (at start: all of them; later:
   new points) its tags, rebuilding a missing array from the record's write tags.

A failure (Redis down, say) is logged and the next round tries again; expiries claimed in a
failed round are put back.  A worker process that dies between claiming an expiry and
releasing it leaves the expired level in the array until the array is next read (which
drops it).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

from ..client import as_text
from ..errors import ConcurrentChangeError, UnknownRecError
from ..folio import Folio
from ..redis_errors import describe, redis_failures
from ..values import MARKER
from .points import announce, read_array, reconcile

__all__ = ["PointTimer"]

log = logging.getLogger("hxredis.http")

# Due members of KEYS[1] (score <= ARGV[1]), taken off the set: each goes to one caller.
_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 100)
if #due > 0 then redis.call('ZREM', KEYS[1], unpack(due)) end
return due
"""


class PointTimer:
    """The pointWrite task of one worker on ``db``, a round every ``period`` seconds."""

    def __init__(self, db: Folio, period: float = 0.5) -> None:
        if period <= 0:
            raise ValueError(f"period must be positive, not {period!r}")
        self._db = db
        self._period = period
        self._server = describe(db.client)
        self._claim = db.client.register_script(_CLAIM)
        self._last_entry: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_error = ""

    def start(self) -> None:
        """Run rounds in a daemon thread until :meth:`close`."""
        self._thread = threading.Thread(target=self._run, name="hxredis-pointWrite", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the thread (waits for the round under way)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.round()
                self._last_error = ""
            except Exception as exc:  # whatever it is, try again next round
                text = f"{type(exc).__name__}: {exc}"
                if text != self._last_error:
                    log.warning("pointWrite task failed (retrying): %s", text)
                self._last_error = text
            self._stop.wait(self._period)

    def round(self) -> None:
        """One round: release due overrides, follow array changes, set up new points."""
        db, keys = self._db, self._db._keys
        if self._last_entry is None:
            with redis_failures(self._server):
                last = db.client.xrevrange(keys.point_write_changes, count=1)
            self._last_entry = as_text(last[0][0]) if last else "0-0"
        with redis_failures(self._server):
            due = self._claim([keys.point_write_due], [int(time.time() * 1000)])
        claimed = [as_text(stored) for stored in due]
        try:
            released = [stored for stored in claimed if self._release(stored)]
            if released:
                announce(db, released)
        except Exception:  # due again next round (in any worker)
            with contextlib.suppress(Exception):
                db.client.zadd(keys.point_write_due, dict.fromkeys(claimed, 0))
            raise
        with redis_failures(self._server):
            reply = db.client.xread({keys.point_write_changes: self._last_entry}, count=1000)
        entries = reply[0][1] if reply else []
        for stored in dict.fromkeys(as_text(fields[b"id"]) for _, fields in entries):
            self._refresh(self._point(stored))
        if entries:  # not before: a round that failed reads them again
            self._last_entry = as_text(entries[-1][0])
        for rec in db.read_all("point and writable and not writeLevel"):
            self._refresh(rec)

    def _release(self, stored: str) -> bool:
        """Drop the expired override of point ``stored`` from its array; False when the
        point is gone."""
        rec = self._point(stored)
        if rec is not None:
            read_array(self._db, rec)  # drops expired levels
        return rec is not None

    def _refresh(self, rec: Any) -> None:
        """Reconcile point ``rec`` (None: nothing), unless it was removed or changed
        meanwhile (a change is announced again)."""
        if rec is None:
            return
        try:
            reconcile(self._db, rec, read_array(self._db, rec))
        except (UnknownRecError, ConcurrentChangeError) as exc:
            log.debug("pointWrite task skipped @%s: %s", rec["id"].id, exc)

    def _point(self, stored: str) -> Any:
        """The writable point with stored id ``stored``, or None."""
        rec = self._db.read_by_id(self._db._absolute_id(stored), checked=False)
        if rec is None or rec.get("writable") is not MARKER or rec.get("point") is not MARKER:
            return None
        return rec
