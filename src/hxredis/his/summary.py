"""The history summaries of a database (``hisSize``, ``hisStart`` ... on point records),
kept coherent across processes.

Every history write publishes the point's :class:`~.backend.Summary` in the same script: to
the summary hash (read once at open) and to the history change stream, which a background
thread follows.  Summaries carry the database's history version, so an older one never
replaces a newer one, whichever way it arrives; a gap in the stream's versions (entries
trimmed away while this process was not reading) reloads the hash.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import redis

from ..client import as_text
from ..errors import FolioError
from ..keys import KeySchema
from ..redis_errors import describe, redis_failures
from .backend import Summary

__all__ = ["Summaries"]

log = logging.getLogger("hxredis")


class Summaries:
    """Point id -> :class:`Summary`; ``changed(ids)`` is called (under no lock of ours) with
    the ids whose summary changed through :meth:`load`, :meth:`sync` or the follower."""

    def __init__(
        self, client: redis.Redis, keys: KeySchema, changed: Callable[[list[str]], None]
    ) -> None:
        self._client = client
        self._keys = keys
        self._changed = changed
        self._server = describe(client)
        self._sums: dict[str, Summary] = {}
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()  # one stream reader at a time
        self._stream_ver = 0
        self._last_entry = "0-0"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def get(self, rec_id: str) -> Summary | None:
        """The summary of a point with history, else None."""
        found = self._sums.get(rec_id)
        return found if found is not None and found.size > 0 else None

    def ids(self) -> list[str]:
        """The ids of the points with a summary."""
        with self._lock:
            return list(self._sums)

    def apply(self, rec_id: str, summary: Summary) -> bool:
        """Keep ``summary`` unless a newer one is known; True when it was kept."""
        with self._lock:
            current = self._sums.get(rec_id)
            if current is not None and current.version >= summary.version:
                return False
            self._sums[rec_id] = summary
            return True

    def forget(self, rec_id: str) -> None:
        """Drop a removed record's summary."""
        with self._lock:
            self._sums.pop(rec_id, None)

    def load(self) -> None:
        """Read every summary and the stream position (one round trip, without MULTI: a
        read-only ACL user may not use it; summaries carry versions, so one that arrives
        twice is harmless)."""
        with redis_failures(self._server):
            pipe = self._client.pipeline(transaction=False)
            pipe.get(self._keys.his_ver)  # the position first: a write landing meanwhile
            pipe.xrevrange(self._keys.his_changes, count=1)  # is read again from the stream
            pipe.hgetall(self._keys.his_sums)
            ver, last, stored = pipe.execute()
        fresh = {as_text(k): Summary.parse(v) for k, v in stored.items()}
        with self._lock:
            ids = list(self._sums.keys() | fresh.keys())
            self._sums = fresh
            self._stream_ver = int(ver or 0)
            self._last_entry = as_text(last[0][0]) if last else "0-0"
        self._changed(ids)

    def sync(self, block_ms: int | None = None) -> None:
        """Apply every stream entry after the last one seen (waiting up to ``block_ms``).

        Callers must not hold a lock that ``changed`` takes."""
        with self._sync_lock:
            reply = self._read(block_ms)
            while reply:
                self._apply_entries(reply[0][1])
                reply = self._read(None)

    def _read(self, block_ms: int | None) -> list:
        with redis_failures(self._server):
            return self._client.xread(
                {self._keys.his_changes: self._last_entry}, count=1000, block=block_ms
            )

    def _apply_entries(self, entries: list) -> None:
        changed = []
        for entry_id, fields in entries:
            summary = Summary.parse(fields[b"s"])
            if summary.version > self._stream_ver + 1:  # entries were trimmed away unread
                log.info("hxredis: history summaries of %s missed; reloading", self._keys.db)
                self.load()
                return
            self._stream_ver = max(self._stream_ver, summary.version)
            self._last_entry = as_text(entry_id)
            rec_id = as_text(fields[b"id"])
            if self.apply(rec_id, summary):
                changed.append(rec_id)
        if changed:
            self._changed(changed)

    def start(self) -> None:
        """Follow the stream in a daemon thread until :meth:`close`."""
        self._thread = threading.Thread(
            target=self._follow, name=f"hxredis-his-{self._keys.db}", daemon=True
        )
        self._thread.start()

    def _follow(self) -> None:
        while not self._stop.is_set():
            try:
                self.sync(block_ms=100)
            except FolioError as exc:
                if self._stop.is_set():
                    return
                log.warning("hxredis: history summaries of %s unavailable: %s", self._keys.db, exc)
                self._stop.wait(1.0)

    def close(self) -> None:
        """Stop following."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
