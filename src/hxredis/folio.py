"""The Folio: Haystack records in Redis behind an in-memory cache: Haxall's Folio API.

Reads are answered from the cache: every record, indexed by tag, with live display names.
Persistent commits are checked and applied atomically inside Redis (see :mod:`.store`);
the cache changes only after Redis confirmed.  Each open Folio follows the database's change
stream in a background thread, so commits made by other processes show in its reads within
milliseconds; :meth:`Folio.sync` catches up at once.  Transient tags (``curVal`` and the
like) live in this process's memory only: other processes do not see them and they are
gone after a restart.
"""

from __future__ import annotations

import gc
import itertools
import logging
import os
import re
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from functools import cmp_to_key
from pathlib import Path
from typing import Any, Literal, overload

import redis

from . import codec, zinc
from .client import RedisClient, redis_from_url
from .diff import Diff, check_diffs
from .dis import DisplayNames
from .embedded import default_data_dir, open_embedded
from .errors import (
    CommitError,
    ConcurrentChangeError,
    DiffError,
    FolioError,
    LoadError,
    ParseError,
    ReadOnlyError,
    ShutdownError,
    UnknownRecError,
)
from .filter import Filter
from .his import History
from .hooks import CommitEvent
from .keys import KeySchema
from .query_plan import TagIndex, count, execute
from .record import Rec
from .redis_errors import redis_failures
from .server import RedisServer
from .store import ChangeEntry, RecordWrite, RedisStore
from .timezones import UTC
from .values import REMOVE, Ref

__all__ = ["Folio", "open"]

log = logging.getLogger("hxredis")

_NOT_INDEXED_IN_REDIS = frozenset({"id", "mod"})
_MS = timedelta(milliseconds=1)
#: How often an idle follower checks that Redis still holds what the cache was built from (s).
_PROBE_SECONDS = 1.0


def open(
    uri: str | None = None,
    *,
    name: str = "default",
    id_prefix: str | None = None,
    prefix: str = "hx",
    hooks: Any = None,
    data_dir: str | os.PathLike[str] | None = None,
    skip_bad_records: bool = False,
    follow: bool = True,
    read_only: bool = False,
    **options: Any,
) -> Folio:
    """Open (creating if needed) the database ``name`` in Redis.

    ``uri``: ``redis://[user:password@]host:port/db``, ``rediss://...`` (TLS options such as
    ``ssl_ca_certs`` go in ``options``) or ``unix:///path/redis.sock``; any other keyword
    ``options`` are passed to redis-py.  An explicit ``uri`` beats the environment variable
    ``HXREDIS_URI``; with neither, an embedded Redis server is started (Redis Stack when it
    can be had, else plain Redis) keeping its data in ``data_dir`` (default
    ``~/.local/share/hxredis``), or the one another process already runs there is used; it
    stops when the last Folio of every process using it has closed.

    ``id_prefix`` (e.g. ``"p:demo:r:"``) makes relative ids absolute; ``prefix`` starts every
    Redis key.  A record that cannot be decoded raises :class:`LoadError` naming its key
    unless ``skip_bad_records`` is set (then it is skipped, counted in
    ``db.skipped_records`` and logged).  ``follow=False`` turns the background change
    reader off (call :meth:`Folio.sync` yourself).

    ``read_only=True`` sends no write to Redis, ever (for a read-only replica or ACL user):
    persistent commits raise :class:`ReadOnlyError`; transient commits work, as they stay
    in this process's memory.  A database that does not exist yet opens empty (logged) and
    shows records once another process creates it.  Without ``read_only``, opening an
    existing database writes nothing either (a server at maxmemory can open it); only a new
    database's meta key is created.  An ACL user for read-only opens needs ``+@read
    +@connection``.

    After ``os.fork()``, the child must not use a Folio opened in the parent (its locks may
    be held by parent threads that do not exist in the child): there it acts as closed,
    raising :class:`ShutdownError` on reads and commits, and leaves the parent's connections
    and embedded server alone.  Open the database again in the child, by URI.

    ``id_prefix`` also decides how ids are stored: relative to it (see :mod:`hxredis.codec`),
    so a database reopened with another prefix shows its records under the new one.

    Redis's default timeouts here are 5 s to connect and 5 s per reply (``socket_timeout``,
    ``socket_connect_timeout`` in ``options``), and commands are never retried by redis-py.

    Raises ValueError for a malformed URI, name, prefix or id_prefix,
    :class:`SchemaVersionError` for a database written by an unknown schema version,
    :class:`LoadError` when one of its keys holds another Redis type or a record cannot be
    decoded, and for Redis failures :class:`hxredis.ConnectionError` (unreachable),
    :class:`hxredis.TimeoutError`, :class:`hxredis.AuthenticationError` (credentials or ACL
    permissions) or :class:`hxredis.ServerError` (e.g. still loading).
    """
    server = None
    if uri is None:
        uri = os.environ.get("HXREDIS_URI") or None
    if uri is None:
        directory = Path(data_dir) if data_dir is not None else default_data_dir()
        server = _acquire_embedded(directory)
        client = server.client()
    else:
        client = redis_from_url(uri, **options)
    try:
        return Folio(
            client,
            name=name,
            id_prefix=id_prefix,
            prefix=prefix,
            hooks=hooks,
            server=server,
            skip_bad_records=skip_bad_records,
            follow=follow,
            read_only=read_only,
        )
    except BaseException:
        client.close()
        if server is not None:
            _release_embedded(server)
        raise


_embedded: dict[Path, tuple[RedisServer, int]] = {}  # data directory -> (server, Folios)
_embedded_lock = threading.Lock()
_open_folios: weakref.WeakSet[Folio] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    """Folios and embedded servers inherited from the parent process are the parent's."""
    global _embedded_lock
    _embedded_lock = threading.Lock()
    _embedded.clear()
    for folio in list(_open_folios):
        folio._forked()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _acquire_embedded(directory: Path) -> RedisServer:
    """The embedded server of a data directory, started for its first Folio in this process
    and shared by the others (one server per directory)."""
    key = directory.resolve()
    with _embedded_lock:
        server, users = _embedded.get(key, (None, 0))
        if server is None or not server.running:
            server, users = open_embedded(key), 0
        _embedded[key] = (server, users + 1)
        return server


def _release_embedded(server: RedisServer) -> None:
    """One Folio less on an embedded server; the last one stops it."""
    key = server.data_dir.resolve()
    with _embedded_lock:
        current, users = _embedded.get(key, (None, 0))
        if current is server and users > 1:
            _embedded[key] = (server, users - 1)
            return
        if current is server:
            del _embedded[key]
    server.stop()


class Folio:
    """A Haystack database in Redis; create it with :func:`hxredis.open`.

    Thread-safe: reads and commits may come from several threads.  Reads are answered from
    the cache and never wait on Redis, not even while another thread's commit waits for a
    paused server.  Use it as a context manager or call :meth:`close`.
    """

    #: The most Diffs one :meth:`commit_all` takes.  A batch is one atomic Lua script run,
    #: during which Redis serves nobody else; larger batches are refused with DiffError.
    MAX_BATCH = 10_000
    #: The most Trio text (in characters) one :meth:`commit_all` writes, for the same reason.
    MAX_BATCH_TEXT = 64 * 1024 * 1024

    def __init__(
        self,
        client: redis.Redis,
        *,
        name: str = "default",
        id_prefix: str | None = None,
        prefix: str = "hx",
        hooks: Any = None,
        server: RedisServer | None = None,
        skip_bad_records: bool = False,
        follow: bool = True,
        read_only: bool = False,
    ) -> None:
        if not isinstance(read_only, bool):
            raise TypeError(f"read_only must be a bool, not {type(read_only).__name__}")
        if id_prefix is not None:
            try:
                Ref("test").to_abs(id_prefix)
            except (ValueError, TypeError) as exc:
                raise ValueError(f"invalid id_prefix {id_prefix!r}: {exc}") from None
        self._keys = KeySchema(prefix, name)
        self._name = name
        self._id_prefix = id_prefix
        self._client = client
        self._server = server
        self._source = uuid.uuid4().hex
        self._store = RedisStore(client, self._keys, self._source)
        # Whatever talks to Redis and then changes the cache (commits, catching up, reloads)
        # holds _io_lock; the cache itself is changed and read under _lock, which is never
        # held across a round trip.  Order: _io_lock before _lock.
        self._io_lock = threading.RLock()
        self._lock = threading.RLock()
        self._closed = False
        self._read_only = read_only
        self._pid = os.getpid()  # the process that opened it (see _forked)
        self._hooks: Any = None
        self._skip_bad = skip_bad_records
        self._redis_layer = RedisClient(client)
        # the cache: persistent tags per id, transient tags per id, the merged read views;
        # a reload builds new ones and swaps them in whole
        self._persistent: dict[str, Rec] = {}
        self._transient: dict[str, dict[str, Any]] = {}
        self._views: dict[str, Rec] = {}
        self._refs: dict[str, Ref] = {}
        self._index = TagIndex()
        self._dis = DisplayNames(self._views, self._refs)
        self._skipped: set[str] = set()  # stored records that could not be decoded
        self._cur_ver = 0
        self._applied: set[int] = set()  # versions of own commits not yet seen in the stream
        self._stream_ver = 0
        self._last_entry = "0-0"
        self._created = ""  # the meta key's creation stamp the cache was built from
        self._last_mod = datetime.now(UTC).replace(microsecond=0)
        self._last_check = 0.0
        self._follow_error: BaseException | None = None
        self._his = History(self)  # before the load: views show history summaries
        if not self._store.ensure_schema(read_only=read_only):
            log.warning("hxredis: database %r does not exist yet; opened empty, read-only", name)
        with self._io_lock:
            self._load()
        if hooks is not None:
            self.hooks = hooks
        self._stop = threading.Event()
        self._follower: threading.Thread | None = None
        if follow:
            self._follower = threading.Thread(
                target=self._follow, name=f"hxredis-follow-{name}", daemon=True
            )
            self._follower.start()
            self._his.start()
        _open_folios.add(self)

    # ------------------------------------------------------------------------------------------
    # identity and lifecycle
    # ------------------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The database name."""
        return self._name

    @property
    def id_prefix(self) -> str | None:
        """The prefix that makes relative ids absolute, e.g. ``"p:demo:r:"``, or None."""
        return self._id_prefix

    @property
    def cur_ver(self) -> int:
        """The database version: it increases with every persistent commit (from any process)."""
        return self._cur_ver

    @property
    def client(self) -> redis.Redis:
        """The redis-py client this Folio uses."""
        return self._client

    @property
    def has_timeseries(self) -> bool:
        """True when the server has the RedisTimeSeries module (MODULE LIST, asked once)."""
        with redis_failures(self._store.server):
            return self._redis_layer.has_module("timeseries")

    @property
    def skipped_records(self) -> int:
        """How many stored records could not be decoded and were skipped (open with
        ``skip_bad_records=True``)."""
        return len(self._skipped)

    def health(self) -> dict[str, Any]:
        """How this Folio keeps up with Redis, for monitoring.

        ``open``: not closed; ``following``: the background change reader runs;
        ``error``: the last failure of the change reader (None once it caught up again):
        while it is set, reads answer from a cache that may lag behind Redis, and
        :meth:`sync` raises the failure; ``cur_ver``: the version the cache shows;
        ``skipped_records``: see :attr:`skipped_records`.
        """
        error = self._follow_error
        return {
            "open": not self._closed,
            "following": self._follower is not None and self._follower.is_alive(),
            "error": None if error is None else f"{type(error).__name__}: {error}",
            "cur_ver": self._cur_ver,
            "skipped_records": self.skipped_records,
        }

    @property
    def read_only(self) -> bool:
        """True when opened with ``read_only=True``: nothing is ever written to Redis."""
        return self._read_only

    @property
    def his(self) -> History:
        """The history of this database's points (see :class:`hxredis.his.History`)."""
        return self._his

    @property
    def is_closed(self) -> bool:
        """True after :meth:`close`."""
        return self._closed

    @property
    def hooks(self) -> Any:
        """The installed hooks object (see :mod:`hxredis.hooks`), or None."""
        return self._hooks

    @hooks.setter
    def hooks(self, hooks: Any) -> None:
        if self._hooks is not None:
            raise FolioError("Cannot modify hooks more than once")
        self._hooks = hooks

    def close(self) -> None:
        """Stop following changes, release connections and the embedded server; idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._stop.set()
        if self._follower is not None and self._follower is not threading.current_thread():
            self._follower.join(timeout=5)
        self._his.close()
        self._client.close()
        if self._server is not None:
            _release_embedded(self._server)

    def __enter__(self) -> Folio:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._persistent)} recs, ver {self._cur_ver}"
        return f"<hx.Folio {self._name!r} {state}>"

    def _check_read(self) -> None:
        if self._closed:
            raise ShutdownError(self._closed_message("read"))

    def _check_write(self) -> None:
        if self._closed:
            raise ShutdownError(self._closed_message("write"))

    def _closed_message(self, action: str) -> str:
        if os.getpid() != self._pid:
            return (
                f"Cannot {action}, folio {self._name!r} was opened in process {self._pid} "
                "before fork(); open it again in this process"
            )
        return f"Cannot {action}, folio is closed"

    def _forked(self) -> None:
        """In a child process after fork(): act as closed.  The locks are replaced (parent
        threads that held them do not exist here); the parent's connections, follower and
        embedded server are left alone."""
        self._io_lock = threading.RLock()
        self._lock = threading.RLock()
        self._closed = True
        self._stop = threading.Event()
        self._stop.set()
        self._follower = None
        self._server = None

    # ------------------------------------------------------------------------------------------
    # reads
    # ------------------------------------------------------------------------------------------

    @overload
    def read_by_id(self, id: Ref | str, checked: Literal[True] = True) -> Rec: ...
    @overload
    def read_by_id(self, id: Ref | str, checked: bool) -> Rec | None: ...
    def read_by_id(self, id: Ref | str, checked: bool = True) -> Rec | None:
        """The live record with this id.  A missing or trashed record raises
        :class:`UnknownRecError` when ``checked``, else gives None."""
        self._check_read()
        ref = self._abs_ref(id)
        rec = self._views.get(ref.id)
        if rec is None or "trash" in rec:
            if checked:
                raise UnknownRecError(f"@{ref.id}")
            return None
        return rec

    def read_by_ids(self, ids: Iterable[Ref | str], checked: bool = True) -> list[Rec | None]:
        """The live records with these ids, in order.  The first missing or trashed one
        raises :class:`UnknownRecError` when ``checked``; else its slot is None."""
        self._check_read()
        refs = [self._abs_ref(i) for i in ids]
        with self._lock:
            recs = [self._views.get(ref.id) for ref in refs]
        out: list[Rec | None] = []
        for ref, rec in zip(refs, recs, strict=True):
            if rec is None or "trash" in rec:
                if checked:
                    raise UnknownRecError(f"@{ref.id}")
                rec = None
            out.append(rec)
        return out

    def read_by_id_trash(self, id: Ref | str, checked: bool = True) -> Rec | None:
        """The record with this id, live or in the trash."""
        self._check_read()
        ref = self._abs_ref(id)
        rec = self._views.get(ref.id)
        if rec is None and checked:
            raise UnknownRecError(f"@{ref.id}")
        return rec

    def read(self, filter: Filter | str, checked: bool = True) -> Rec | None:
        """The first live record matching ``filter``; :class:`UnknownRecError` (or None when
        not ``checked``) if there is none."""
        found = self.read_all(filter, limit=1)
        if found:
            return found[0]
        if checked:
            raise UnknownRecError(str(self._filter(filter)))
        return None

    def read_all(
        self,
        filter: Filter | str,
        *,
        limit: int | None = None,
        sort: bool = False,
        search: str | None = None,
    ) -> list[Rec]:
        """Every live record matching ``filter``, in a stable order.

        ``limit`` caps the number of records (None: no cap; <= 0: none); ``search`` also
        requires a match of ``"re:<regex>"``, ``"f:<filter>"`` or a case-insensitive glob
        against the display string, the id (patterns of 8+ chars) or any Str tag; ``sort``
        sorts the result (after the limit) by display string, numbers in it compared as
        numbers.
        """
        self._check_read()
        f = self._filter(filter)
        if limit is not None and limit <= 0:
            return []
        keep = self._search(search)
        with self._lock:
            out = list(self._select(f, trash=False, keep=keep, limit=limit))
        if sort:
            out.sort(key=_dis_sort_key)
        return out

    def read_count(self, filter: Filter | str, *, limit: int | None = None) -> int:
        """The number of live records matching ``filter`` (at most ``limit``)."""
        self._check_read()
        f = self._filter(filter)
        if limit is not None and limit <= 0:
            return 0
        with self._lock:
            if limit is None and not self._index.ids_with("trash"):
                return count(f, self._index, self._views, self._resolve)
            return sum(1 for _ in self._select(f, trash=False, keep=None, limit=limit))

    def read_trash(self, filter: Filter | str) -> list[Rec]:
        """The records in the trash matching ``filter``."""
        self._check_read()
        f = self._filter(filter)
        with self._lock:
            return list(self._select(f, trash=True, keep=None, limit=None))

    def read_all_each(
        self, filter: Filter | str, fn: Callable[[Rec], Any], *, limit: int | None = None
    ) -> None:
        """Call ``fn`` with each live record matching ``filter`` (at most ``limit``)."""
        for rec in self.read_all(filter, limit=limit):
            fn(rec)

    def read_all_each_while(
        self, filter: Filter | str, fn: Callable[[Rec], Any], *, limit: int | None = None
    ) -> Any:
        """Call ``fn`` with each live record matching ``filter`` until it returns something
        other than None, and return that; None when no call did (or ``limit`` was hit)."""
        for rec in self.read_all(filter, limit=limit):
            result = fn(rec)
            if result is not None:
                return result
        return None

    def read_by_id_persistent_tags(self, id: Ref | str, checked: bool = True) -> Rec | None:
        """The persistent tags of a live record (as stored in Redis)."""
        rec = self.read_by_id(id, checked)
        return None if rec is None else self._persistent.get(rec["id"].id)

    def read_by_id_transient_tags(self, id: Ref | str, checked: bool = True) -> Rec | None:
        """The transient tags of a live record (held by this process only), with its id."""
        rec = self.read_by_id(id, checked)
        if rec is None:
            return None
        return Rec({"id": rec["id"], **self._transient.get(rec["id"].id, {})})

    def intern_ref(self, ref: Ref) -> Ref:
        """The record's own id Ref (carrying its live display string), or ``ref`` itself when
        no record has that id."""
        abs_ref = self._abs_ref(ref)
        return self._refs[abs_ref.id] if abs_ref.id in self._persistent else ref

    def _select(
        self,
        f: Filter,
        *,
        trash: bool,
        keep: Callable[[Rec], bool] | None,
        limit: int | None,
    ) -> Iterator[Rec]:
        views = self._views
        matches = execute(f, self._index, views, self._resolve)
        if not trash and keep is None and not self._index.ids_with("trash"):
            yield from (views[rec_id] for rec_id in itertools.islice(matches, limit))
            return
        found = 0
        for rec_id in matches:
            rec = views[rec_id]
            if ("trash" in rec) != trash or (keep is not None and not keep(rec)):
                continue
            yield rec
            found += 1
            if limit is not None and found >= limit:
                return

    def _resolve(self, ref: Ref) -> Rec | None:
        return self._views.get(ref.id)

    def _filter(self, filter: Filter | str) -> Filter:
        if isinstance(filter, str):
            filter = Filter.parse(filter)
        elif not isinstance(filter, Filter):
            raise TypeError(f"filter must be a hx.Filter or str, not {type(filter).__name__}")
        if self._id_prefix is not None:
            filter = filter.with_abs_refs(self._id_prefix)
        return filter

    def _search(self, search: str | None) -> Callable[[Rec], bool] | None:
        text = (search or "").strip()
        if not text:
            return None
        if text.startswith("f:"):
            inner = Filter.parse(text[2:])
            return lambda rec: inner.matches(rec, self._resolve)
        if text.startswith("re:"):
            try:
                regex = re.compile(text[3:])
            except re.error as exc:
                raise ParseError(f"Invalid search regex {text[3:]!r}: {exc}") from None
            return _search_matcher(lambda s: regex.search(s) is not None, long_enough=True)
        pattern = f"*{text.lower()}*"
        return _search_matcher(
            lambda s: fnmatchcase(s.lower(), pattern), long_enough=len(text) >= 8
        )

    def _abs_ref(self, id: Ref | str) -> Ref:
        ref = id if isinstance(id, Ref) else Ref(id) if isinstance(id, str) else None
        if ref is None:
            raise TypeError(f"id must be a hx.Ref or str, not {type(id).__name__}")
        if self._id_prefix is not None and ref.is_rel:
            return ref.to_abs(self._id_prefix)
        return ref

    # ------------------------------------------------------------------------------------------
    # commits
    # ------------------------------------------------------------------------------------------

    def commit(self, diff: Diff) -> Diff:
        """Apply one Diff; returns the result Diff (``.new_rec`` is the record now)."""
        return self.commit_all([diff])[0]

    def commit_all(self, diffs: Sequence[Diff]) -> list[Diff]:
        """Apply a batch of Diffs atomically: all of them or none.

        Raises :class:`DiffError` for an invalid batch, :class:`CommitError` for an add of
        an existing id or a change of a missing record (or a transient/persistent tag
        clash), :class:`ConcurrentChangeError` when a record changed since its Diff's old
        record was read (unless the Diff has ``FORCE``), and whatever a ``pre_commit`` hook
        raises.  On any error nothing is applied, in Redis or in the cache.

        A batch is one atomic Lua script run: more than :attr:`MAX_BATCH` Diffs (or
        :attr:`MAX_BATCH_TEXT` characters of records) raise :class:`DiffError`.  The script
        is sent once, never re-sent: when the connection fails after sending, the outcome is
        settled through the change stream; :class:`CommitOutcomeUnknownError` when it cannot
        be.  Redis failures raise :class:`hxredis.ConnectionError`,
        :class:`hxredis.TimeoutError`, :class:`hxredis.AuthenticationError` or
        :class:`hxredis.ServerError` (the commit was not applied).
        """
        self._check_write()
        diffs = list(diffs)
        for diff in diffs:
            if not isinstance(diff, Diff):
                raise TypeError(f"commit takes hx.Diff objects, not {type(diff).__name__}")
        check_diffs(diffs)
        if len(diffs) > self.MAX_BATCH:
            raise DiffError(
                f"a commit_all of {len(diffs)} diffs exceeds the limit of {self.MAX_BATCH} "
                "(Folio.MAX_BATCH): one batch is one atomic script that blocks Redis while it "
                "runs; commit it in several batches"
            )
        if self._read_only and not diffs[0].is_transient:
            raise ReadOnlyError(
                f"Cannot write, folio {self._name!r} was opened with read_only=True; only "
                "transient commits (kept in this process's memory) are allowed"
            )
        ids = [self._abs_ref(diff.id).id for diff in diffs]
        with self._io_lock:
            self._check_write()
            if not self._verified(diffs, ids):
                self._catch_up()  # another process may have made it right
                self._verify(diffs, ids)
            self._run_hooks("pre_commit", diffs, [self._views.get(i) for i in ids])
            if diffs[0].is_transient:
                results = self._commit_transient(diffs, ids)
            else:
                results = self._commit_persistent(diffs, ids)
        for result in results:
            self._run_hook("post_commit", CommitEvent(result, result.old_rec))
        return results

    def commit_remove_trash(self) -> int:
        """Remove every record in the trash (one atomic batch, forced); how many."""
        trash = self.read_trash("trash")
        if trash:
            self.commit_all([Diff(rec, None, Diff.REMOVE | Diff.FORCE) for rec in trash])
        return len(trash)

    def _verified(self, diffs: Sequence[Diff], ids: Sequence[str]) -> bool:
        """True when :meth:`_verify` passes against the cache as it is."""
        try:
            self._verify(diffs, ids)
        except CommitError:
            return False
        return True

    def _verify(self, diffs: Sequence[Diff], ids: Sequence[str]) -> None:
        """Haxall's per-diff checks against the cache: existence, mod, tag overlap."""
        for diff, rec_id in zip(diffs, ids, strict=True):
            current = self._persistent.get(rec_id)
            if diff.is_add:
                if current is not None:
                    raise CommitError(f"Rec already exists: {rec_id}")
                continue
            if current is None:
                raise CommitError(f"Rec not found: {rec_id}")
            if not diff.is_force and current.get("mod") != diff.old_mod:
                stored, expected = _mod_text(current.get("mod")), _mod_text(diff.old_mod)
                raise ConcurrentChangeError(
                    f"{rec_id}: {stored} != {expected} (@{rec_id} changed since it was read: "
                    f"stored mod {stored}, the Diff expected {expected})"
                )
            if diff.is_remove:
                continue
            transient = self._transient.get(rec_id, {})
            for tag in diff.changes:
                if diff.is_transient and tag in current:
                    raise CommitError(f"Cannot update persistent tag transiently: {tag}")
                if not diff.is_transient and tag in transient:
                    raise CommitError(f"Cannot update transient tag persistently: {tag}")

    def _run_hooks(self, method: str, diffs: Sequence[Diff], old: Sequence[Rec | None]) -> None:
        for diff, old_rec in zip(diffs, old, strict=True):
            self._run_hook(method, CommitEvent(diff, old_rec))

    def _run_hook(self, method: str, event: Any) -> None:
        hook = getattr(self._hooks, method, None)
        if hook is not None:
            hook(event)

    def _commit_transient(self, diffs: Sequence[Diff], ids: Sequence[str]) -> list[Diff]:
        with self._lock:
            return self._apply_transient(diffs, ids)

    def _apply_transient(self, diffs: Sequence[Diff], ids: Sequence[str]) -> list[Diff]:
        results = []
        for diff, rec_id in zip(diffs, ids, strict=True):
            old_view = self._views[rec_id]
            tags = dict(self._transient.get(rec_id, {}))
            for tag, val in diff.changes.items():
                if val is REMOVE:
                    tags.pop(tag, None)
                else:
                    tags[tag] = self._normalize(val)
            if tags:
                self._transient[rec_id] = tags
            else:
                self._transient.pop(rec_id, None)
            new_view = self._rebuild_view(rec_id, old_view)
            self._dis.changed([rec_id])
            mod = old_view.get("mod")
            results.append(Diff._result(diff, self._refs[rec_id], old_view, new_view, mod))
        return results

    def _commit_persistent(self, diffs: Sequence[Diff], ids: Sequence[str]) -> list[Diff]:
        for _attempt in range(5):
            new_mod = self._next_mod(ids)
            writes, new_recs = self._prepare(diffs, ids, new_mod)
            text = sum(len(write.trio) for write in writes)
            if text > self.MAX_BATCH_TEXT:
                raise DiffError(
                    f"a commit of {text} characters of records exceeds the limit of "
                    f"{self.MAX_BATCH_TEXT} (Folio.MAX_BATCH_TEXT); commit it in several batches"
                )
            outcome = self._store.commit(writes, self._last_entry)
            if outcome.status == "ok":
                with self._lock:
                    results = self._apply_commit(diffs, ids, new_recs, new_mod, outcome.version)
                if len(self._applied) > 10_000:  # nobody reads the stream (follow=False)
                    self._read_stream()
                if any(d.is_remove for d in diffs):
                    self._collect_garbage()
                return results
            if outcome.status == "badkey":
                raise CommitError(
                    f"Redis key {outcome.id!r} of database {self._name!r} holds a "
                    f"{outcome.stored_mod}, not what hxredis stores there; nothing was written"
                )
            self._catch_up()
            if outcome.status == "gc":
                self._store.collect_history_garbage()
            elif outcome.status == "exists":
                raise CommitError(f"Rec already exists: {outcome.id}")
            elif outcome.status == "notfound":
                raise CommitError(f"Rec not found: {outcome.id}")
            self._verify(diffs, ids)  # "stale": after the sync, a non-force diff fails here
        raise ConcurrentChangeError("records kept changing while committing; try again")

    def _next_mod(self, ids: Sequence[str]) -> datetime:
        """A UTC mod after every earlier one of this process and of the records touched."""
        now = datetime.now(UTC)
        mod = now.replace(microsecond=now.microsecond // 1000 * 1000)
        floor = self._last_mod
        for rec_id in ids:
            current = self._persistent.get(rec_id)
            if current is not None and isinstance(current.get("mod"), datetime):
                floor = max(floor, current["mod"])
        if mod <= floor:
            mod = floor + _MS
        self._last_mod = mod
        return mod

    def _prepare(
        self, diffs: Sequence[Diff], ids: Sequence[str], new_mod: datetime
    ) -> tuple[list[RecordWrite], list[Rec | None]]:
        """The Redis writes and the new persistent records of a batch."""
        mod_text = zinc.dumps(new_mod)
        writes = []
        new_recs: list[Rec | None] = []
        for diff, rec_id in zip(diffs, ids, strict=True):
            old = self._persistent.get(rec_id)
            base = _mod_text(old["mod"]) if old is not None else ""
            old_tags = _indexed_tags(old)
            if diff.is_remove:
                key = self._stored_id(rec_id)
                writes.append(RecordWrite("r", key, base, "", "", (), tuple(old_tags)))
                new_recs.append(None)
                continue
            tags: dict[str, Any] = dict(old) if old is not None else {"id": None}
            for tag, val in diff.changes.items():
                if val is REMOVE:
                    tags.pop(tag, None)
                else:
                    tags[tag] = self._normalize(val)
            tags["id"] = self._intern(rec_id)
            tags["mod"] = new_mod
            rec = Rec(tags)
            new_tags = _indexed_tags(rec)
            op = "a" if diff.is_add else "u"
            text = codec.encode_record(rec, self._id_prefix)
            added, removed = tuple(new_tags - old_tags), tuple(old_tags - new_tags)
            key = self._stored_id(rec_id)
            writes.append(RecordWrite(op, key, base, mod_text, text, added, removed))
            new_recs.append(rec)
        return writes, new_recs

    def _apply_commit(
        self,
        diffs: Sequence[Diff],
        ids: Sequence[str],
        new_recs: Sequence[Rec | None],
        new_mod: datetime,
        ver: int,
    ) -> list[Diff]:
        old_views = [self._views.get(i) for i in ids]
        for rec_id, rec in zip(ids, new_recs, strict=True):
            self._put(rec_id, rec)
        self._dis.changed(ids)
        self._cur_ver = max(self._cur_ver, ver)
        self._applied.add(ver)
        return [
            Diff._result(
                diff,
                self._intern(rec_id),
                old,
                self._views.get(rec_id),
                None if diff.is_remove else new_mod,
            )
            for diff, rec_id, old in zip(diffs, ids, old_views, strict=True)
        ]

    def _collect_garbage(self) -> None:
        if self._read_only:
            return
        try:
            self._store.collect_history_garbage()
        except FolioError as exc:  # retried by the next remove, add or open
            log.warning("hxredis: history clean-up deferred: %s", exc)

    # ------------------------------------------------------------------------------------------
    # the cache
    # ------------------------------------------------------------------------------------------

    def _intern(self, rec_id: str) -> Ref:
        """The one Ref instance for an id; it carries the record's live display string."""
        return codec.intern(self._refs, rec_id)

    def _intern_abs(self, ref: Ref) -> Ref:
        return codec.intern(self._refs, self._abs_ref(ref).id)

    def _normalize(self, val: Any) -> Any:
        """A committed tag value as the cache keeps it: Refs made absolute with the id
        prefix and interned, Lists and Dicts frozen."""
        return codec.cached_value(val, self._intern_abs)

    def _put(self, rec_id: str, rec: Rec | None) -> None:
        """Replace the persistent part of a record (None removes it) and its view."""
        old_view = self._views.get(rec_id)
        if rec is None:
            self._persistent.pop(rec_id, None)
            self._transient.pop(rec_id, None)
            self._his.forget(rec_id)
            if old_view is not None:
                self._index.remove(rec_id, old_view)
                del self._views[rec_id]
            return
        self._persistent[rec_id] = rec
        self._rebuild_view(rec_id, old_view)

    def _rebuild_view(self, rec_id: str, old_view: Rec | None) -> Rec:
        rec = self._persistent[rec_id]
        transient = self._transient.get(rec_id)
        his = self._his.tags(rec_id, rec)
        view = Rec({**rec, **(transient or {}), **his}) if transient or his else rec
        self._views[rec_id] = view
        if old_view is None:
            self._index.add(rec_id, view)
        else:
            self._index.update(rec_id, old_view, view)
        return view

    def _stored_id(self, rec_id: str) -> str:
        """The id Redis keeps a record under (relative to the id prefix; see codec)."""
        return codec.stored_id(rec_id, self._id_prefix)

    def _absolute_id(self, stored: str) -> str:
        return codec.absolute_id(stored, self._id_prefix)

    def _absolute_ref_in(self, refs: dict[str, Ref]) -> Callable[[str], Ref]:
        """Stored id -> the interned absolute Ref in ``refs``."""
        prefix = self._id_prefix

        def ref_of(stored: str) -> Ref:
            return codec.intern(refs, codec.absolute_id(stored, prefix))

        return ref_of

    def _bad_record(self, key: str, exc: ParseError) -> None:
        """LoadError for an undecodable stored record, or log it when skipping."""
        if not self._skip_bad:
            raise LoadError(f"cannot decode record {key!r} in {self._keys.recs}: {exc}") from exc
        log.warning("hxredis: skipped undecodable record %r: %s", key, exc)

    def _load(self) -> None:
        """Cold load (``_io_lock`` held): every record from Redis into a new cache, swapped in
        whole once complete, then catch up with the change stream.  Until the swap, readers
        see the cache as it was; a failure leaves it, and its transient tags, as it was."""
        with _gc_paused():
            position = self._store.position()
            refs: dict[str, Ref] = {}
            persistent: dict[str, Rec] = {}
            skipped: set[str] = set()  # stored ids
            relative = self._id_prefix is not None  # decoded first, then made absolute
            decoded, decoded_refs = ({}, {}) if relative else (persistent, refs)
            for chunk in self._store.scan_records():
                for rec_id, exc in codec.decode_records(chunk, decoded_refs, decoded):
                    self._bad_record(rec_id, exc)
                    skipped.add(rec_id)
            if relative:
                ref_of = self._absolute_ref_in(refs)
                for key, rec in decoded.items():
                    persistent[self._absolute_id(key)] = codec.absolute_record(rec, ref_of)
            views = dict(persistent)
            index = TagIndex()
            index.add_many(persistent.items())
            dis = DisplayNames(views, refs)
            dis.rebuild()
        with self._lock:
            transient = self._transient
            self._persistent, self._views, self._refs = persistent, views, refs
            self._index, self._dis, self._transient = index, dis, {}
            self._skipped = skipped
            self._applied.clear()
            self._cur_ver = self._stream_ver = position.version
            self._last_entry, self._created = position.entry, position.created
            for rec_id, tags in transient.items():  # Refs re-interned in the new cache
                if rec_id in persistent:
                    self._transient[rec_id] = {k: self._normalize(v) for k, v in tags.items()}
                    self._rebuild_view(rec_id, views[rec_id])
            for rec_id in self._his.point_ids():  # history summaries as they were
                if rec_id in persistent:
                    self._rebuild_view(rec_id, self._views[rec_id])
            if self._transient:
                self._dis.changed(list(self._transient))
        self._last_check = time.monotonic()
        self._read_stream()
        self._collect_garbage()
        self._his.load_summaries()

    def _reload(self, why: str) -> None:
        """Start over from Redis (``_io_lock`` held); keeps transient tags."""
        log.warning("hxredis: reloading database %s: %s", self._name, why)
        self._store.ensure_schema(self._read_only)  # its meta key may be gone with the data
        self._load()

    # ------------------------------------------------------------------------------------------
    # coherence: the change stream
    # ------------------------------------------------------------------------------------------

    def sync(self) -> Folio:
        """Catch up with every commit made so far, by any process; returns self.

        Also checks that Redis still holds what the cache was built from and reloads
        everything when it does not (data lost or rolled back, the database recreated).
        Raises :class:`LoadError` for a changed record that cannot be decoded and
        :class:`hxredis.ConnectionError` and friends when Redis fails; the cache then stays
        as it was.
        """
        self._check_read()
        with self._io_lock:
            self._catch_up()
        self._his.sync()  # it takes the cache lock to update point records
        return self

    def _his_changed(self, ids: Sequence[str]) -> None:
        """History summaries changed (hxredis.his): rebuild these records' views."""
        with self._lock:
            for rec_id in ids:
                view = self._views.get(rec_id)
                if view is not None:
                    self._rebuild_view(rec_id, view)

    def _catch_up(self) -> None:
        """Apply every change stream entry so far, then check the cache against Redis."""
        self._read_stream()
        self._check_divergence()

    def _read_stream(self) -> None:
        while True:
            entries = self._store.read_changes(self._last_entry)
            if not entries or not self._apply_entries(entries):
                return

    def _check_divergence(self) -> None:
        """Reload when Redis no longer holds what the cache was built from: its version went
        back, its change stream was reset, its meta key was recreated, or its records hash
        changed behind the change stream's back."""
        position = self._store.position()
        self._last_check = time.monotonic()
        same_version = position.version == self._stream_ver
        if position.created != self._created:
            self._reload("its meta key in Redis was lost or recreated")
        elif position.version < self._stream_ver:
            self._reload(f"its version went back from {self._stream_ver} to {position.version}")
        elif same_version and _entry_key(position.entry) < _entry_key(self._last_entry):
            self._reload("its change stream in Redis was reset")
        elif same_version and position.records not in (None, self._record_count()):
            self._reload("its records in Redis changed outside hxredis")

    def _record_count(self) -> int:
        """How many records Redis holds for what the cache shows."""
        return len(self._persistent) + len(self._skipped)

    def _apply_entries(self, entries: Sequence[ChangeEntry]) -> bool:
        """Apply change stream entries (in order) made by other processes; False when a gap
        or a malformed entry made it reload instead.

        The stream position advances only once every changed record was fetched and
        decoded, so a failure (an undecodable record) is raised again by the next sync.
        """
        changed: dict[str, None] = {}  # stored ids
        stream_ver, last_entry, own = self._stream_ver, self._last_entry, []
        for entry in entries:
            if _entry_key(entry.entry) <= _entry_key(last_entry):
                continue  # seen already (the follower and sync() both read)
            if entry.version is None:
                self._reload(f"change stream entry {entry.entry} has no valid version")
                return False
            if entry.version != stream_ver + 1:
                self._reload(f"missed change stream entries ({stream_ver} -> {entry.version})")
                return False
            stream_ver, last_entry = entry.version, entry.entry
            if entry.source == self._source and entry.version in self._applied:
                own.append(entry.version)  # our own commit, already in the cache
            else:  # another process's, or ours whose reply was lost
                changed.update(dict.fromkeys(entry.ids))
        stored = list(changed)
        recs: list[Rec | None] = []
        for key, text in zip(stored, self._store.fetch(stored), strict=True):
            recs.append(None if text is None else self._decode(key, text))
        ids = [self._absolute_id(key) for key in stored]
        with self._lock:
            for rec_id, rec in zip(ids, recs, strict=True):
                self._put(rec_id, rec)
            if ids:
                self._dis.changed(ids)
            self._applied.difference_update(own)
            self._stream_ver, self._last_entry = stream_ver, last_entry
            self._cur_ver = max(self._cur_ver, stream_ver)
        return True

    def _decode(self, key: str, text: bytes | str) -> Rec | None:
        """A changed record (stored under ``key``), interned and frozen; None (and counted)
        for an undecodable one when skipping bad records, else LoadError."""
        try:
            if self._id_prefix is None:
                rec = codec.decode_record(key, text, self._refs)
            else:
                rec = codec.absolute_record(
                    codec.decode_record(key, text, {}), self._absolute_ref_in(self._refs)
                )
        except ParseError as exc:
            self._bad_record(key, exc)
            self._skipped.add(key)
            return None
        self._skipped.discard(key)
        return rec

    def _follow(self) -> None:
        """Background thread: wait for change stream entries and apply them; check the cache
        against Redis every second and after Redis came back.  It never dies of an error: it
        logs it, shows it in :meth:`health` and tries again a second later."""
        while not self._stop.is_set():
            try:
                entries = self._store.read_changes(self._last_entry, block_ms=100)
                with self._io_lock:
                    if self._closed:
                        return
                    if entries:
                        self._apply_entries(entries)
                    if self._follow_error is not None or self._check_due():
                        self._catch_up()
                self._follow_error = None
            except Exception as exc:  # whatever it is, keep following
                if self._stop.is_set():
                    return
                self._follower_failed(exc)
                self._stop.wait(1.0)

    def _check_due(self) -> bool:
        return time.monotonic() - self._last_check >= _PROBE_SECONDS

    def _follower_failed(self, exc: Exception) -> None:
        """Log a follower failure (once until it changes) and keep it for :meth:`health`."""
        previous, self._follow_error = self._follow_error, exc
        if previous is not None and type(previous) is type(exc) and str(previous) == str(exc):
            return
        if isinstance(exc, FolioError):
            log.error("hxredis: cannot follow changes of %s: %s", self._name, exc)
        else:
            log.error("hxredis: cannot follow changes of %s", self._name, exc_info=exc)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a load creates millions of objects that live on
    (each collection would walk all of them again); restored afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _entry_key(entry: str) -> tuple[int, int]:
    ms, _, seq = entry.partition("-")
    return int(ms), int(seq or 0)


def _mod_text(mod: Any) -> str:
    return zinc.dumps(mod) if mod is not None else "null"


def _indexed_tags(rec: Mapping[str, Any] | None) -> set[str]:
    """Tag names kept in Redis's index sets for a record."""
    return set() if rec is None else set(rec) - _NOT_INDEXED_IN_REDIS


def _search_matcher(test: Callable[[str], bool], *, long_enough: bool) -> Callable[[Rec], bool]:
    def keep(rec: Rec) -> bool:
        if test(rec.dis):
            return True
        rec_id = rec.get("id")
        if long_enough and isinstance(rec_id, Ref) and test(rec_id.id):
            return True
        return any(isinstance(v, str) and test(v) for v in rec.values())

    return keep


def compare_dis(a: str, b: str) -> int:
    """Haxall ``Etc.compareDis``: -1, 0 or 1; case-insensitive, and a trailing number is
    compared as a number, so ``"Foo-2"`` sorts before ``"Foo-10"``."""
    if not a or not b:
        return (len(a) > 0) - (len(b) > 0)
    a0, b0 = a[0].lower(), b[0].lower()
    if a0 != b0:
        return -1 if a0 < b0 else 1
    a_digits, b_digits = _TRAILING_DIGITS.search(a), _TRAILING_DIGITS.search(b)
    if a_digits is None or b_digits is None or a_digits.start() != b_digits.start():
        return _locale_compare(a, b)
    a_base, b_base = a[: a_digits.start()].lower(), b[: b_digits.start()].lower()
    if a_base != b_base:
        return -1 if a_base < b_base else 1
    a_num, b_num = int(a_digits.group()), int(b_digits.group())
    return (a_num > b_num) - (a_num < b_num)


def _locale_compare(a: str, b: str) -> int:
    """Case-insensitive first, case as the tie-breaker (a collator's tertiary strength)."""
    key_a, key_b = (a.lower(), a), (b.lower(), b)
    return (key_a > key_b) - (key_a < key_b)


_TRAILING_DIGITS = re.compile(r"[0-9]+$")
_dis_sort_key = cmp_to_key(lambda x, y: compare_dis(x.dis, y.dis))
