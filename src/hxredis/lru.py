"""A least-recently-used cache bounded in entries and in the total size of what it holds
(the filter parse cache and the query plan cache), so that a few huge filters cannot keep
gigabytes alive."""

from __future__ import annotations

import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["BoundedCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """At most ``max_entries`` values whose sizes add up to at most ``max_size``, least
    recently used dropped first; a value of size over ``max_item`` is never kept.  Sizes are
    whatever unit the caller measures in (characters of filter text here).  Thread-safe:
    values are made outside the lock, and the lock is renewed in a child after ``fork()``."""

    def __init__(self, max_entries: int, max_size: int, max_item: int) -> None:
        self.max_entries, self.max_size, self.max_item = max_entries, max_size, max_item
        self.size = 0
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._lock = threading.Lock()
        _caches.add(self)

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K, size: int, make: Callable[[], V]) -> V:
        """The value cached for ``key``, else ``make()`` (kept when ``size`` allows; when two
        threads make the same key at once, both get the value kept first)."""
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found[0]
        value = make()
        if size > self.max_item:
            return value
        with self._lock:
            kept, _ = self._entries.setdefault(key, (value, size))
            if kept is value:
                self.size += size
                while len(self._entries) > self.max_entries or self.size > self.max_size:
                    self.size -= self._entries.popitem(last=False)[1][1]
            return kept

    def clear(self) -> None:
        """Drop every cached value."""
        with self._lock:
            self._entries.clear()
            self.size = 0


_caches: weakref.WeakSet[BoundedCache] = weakref.WeakSet()  # type: ignore[type-arg]


def _renew_locks() -> None:
    """In a forked child: another thread of the parent may have held a cache's lock."""
    for cache in list(_caches):
        cache._lock = threading.Lock()


os.register_at_fork(after_in_child=_renew_locks)
