"""The record side of a database in Redis: schema check, bulk load, atomic commits, the
change stream and history clean-up (key names in :mod:`hxredis.keys`).

Records travel as Trio text.  A commit is one Lua script run (atomic, all diffs or none)
that checks each record's stored ``mod``, writes the records, adjusts the tag index sets,
increments the version and appends to the change stream.

A commit is sent exactly once, on a connection of its own, never through redis-py's retries.
When the connection fails or times out after the script was sent, its outcome is settled by a
second script (``resolve.lua``): either the commit's entry (found by its token) is in the
change stream, so it was applied, or the token is marked cancelled, so that the commit script,
should it still arrive, refuses to run.  Only when Redis stays unreachable (or the stream was
trimmed past the commit) does the caller get :class:`CommitOutcomeUnknownError`.

Every Redis failure is raised as an :class:`~hxredis.errors.FolioError` subclass
(:mod:`hxredis.redis_errors`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources

import redis
import redis.exceptions as rx
from redis.commands.core import Script

from .client import as_text
from .errors import CommitOutcomeUnknownError, LoadError, SchemaVersionError
from .keys import SCHEMA_VERSION, KeySchema
from .redis_errors import describe, redis_failures, translate

__all__ = ["ChangeEntry", "CommitOutcome", "Position", "RecordWrite", "RedisStore"]

_LUA = resources.files("hxredis").joinpath("lua")
_COMMIT_LUA = _LUA.joinpath("commit.lua").read_text()
_RESOLVE_LUA = _LUA.joinpath("resolve.lua").read_text()
# The commit script flagged allow-oom (its first line is the shebang), run for commits that
# only remove records: at maxmemory with noeviction the database can still be shrunk.
_REMOVES_LUA = "#!lua flags=allow-oom\n" + _COMMIT_LUA.partition("\n")[2]

#: How long a cancelled commit token is remembered (ms): far longer than any reply can take.
_CANCEL_TTL_MS = 24 * 3600 * 1000
#: How long an unknown commit outcome is chased before giving up (s).
_RESOLVE_SECONDS = 15.0


class _NotSent(Exception):
    """A script could not be sent at all (no connection): it certainly did not run."""


@dataclass(frozen=True)
class RecordWrite:
    """One record change sent to Redis.

    ``op`` is ``"a"`` (add), ``"u"`` (update) or ``"r"`` (remove); ``base_mod`` the stored
    mod text the new record was computed from (empty for an add); ``trio`` the new record's
    text (empty for a remove); ``added_tags`` / ``removed_tags`` the index changes.
    """

    op: str
    id: str
    base_mod: str
    new_mod: str
    trio: str
    added_tags: Sequence[str] = ()
    removed_tags: Sequence[str] = ()


@dataclass(frozen=True)
class CommitOutcome:
    """What the commit script answered: ``status`` is ``ok`` (then ``version`` and
    ``entry`` are set) or the first failure, ``exists``, ``notfound``, ``stale`` (with the
    stored mod), ``gc`` (history of a removed record with that id is still pending) or
    ``badkey`` (``id`` a key of another Redis type, ``stored_mod`` its type)."""

    status: str
    id: str = ""
    stored_mod: str = ""
    version: int = 0
    entry: str = ""


@dataclass(frozen=True)
class ChangeEntry:
    """One entry of the change stream: the version it made (None when the entry is
    malformed: no readable ``v`` field), who made it, the ids touched."""

    entry: str
    version: int | None
    source: str
    ids: tuple[str, ...]


@dataclass(frozen=True)
class Position:
    """Where a database stands in Redis: its version, the id of the newest change stream
    entry ("0-0" if none), the creation stamp of its meta key ("" if it has none) and the
    number of stored records (None when it could not be read consistently)."""

    version: int
    entry: str
    created: str
    records: int | None


class RedisStore:
    """Reads and writes one database's records in Redis through a redis-py client.

    ``source`` identifies this writer in the change stream so it can skip its own entries;
    ``stream_length`` bounds the stream (approximately; readers that fall further behind
    reload everything).
    """

    def __init__(
        self, client: redis.Redis, keys: KeySchema, source: str, stream_length: int = 100_000
    ) -> None:
        self.client = client
        self.keys = keys
        self.source = source
        self.stream_length = stream_length
        self.server = describe(client)
        self._commit = client.register_script(_COMMIT_LUA)
        self._commit_removes = client.register_script(_REMOVES_LUA)
        self._resolve = client.register_script(_RESOLVE_LUA)

    def ensure_schema(self, read_only: bool = False) -> bool:
        """Check the meta key of the database and create it when it is missing, unless
        ``read_only``; whether the database exists now.  Nothing is written when it exists,
        so a read-only replica or ACL user, or a server at maxmemory, can open it.  Refuses
        a database of an unknown schema version (SchemaVersionError) or one whose keys hold
        other Redis types (LoadError)."""
        with redis_failures(self.server):
            return self._ensure_schema(read_only)

    def _ensure_schema(self, read_only: bool) -> bool:
        self._check_key_types()
        meta = self.keys.meta
        stored = self.client.hget(meta, "schema")
        if stored is None and not read_only:
            pipe = self.client.pipeline(transaction=True)
            pipe.hsetnx(meta, "schema", SCHEMA_VERSION)
            pipe.hsetnx(meta, "created", str(time.time_ns() // 1000))
            pipe.hget(meta, "schema")
            stored = pipe.execute()[2]
        if stored is None:
            return False
        if as_text(stored) == "1":
            self._upgrade_schema_1(read_only)
        elif as_text(stored) != str(SCHEMA_VERSION):
            raise SchemaVersionError(
                f"database {self.keys.db!r} (key {meta}) was written with schema version "
                f"{as_text(stored)!r}; this hxredis understands version {SCHEMA_VERSION} only"
            )
        return True

    def _upgrade_schema_1(self, read_only: bool) -> None:
        """Schema 1 stored absolute ids; schema 2 stores them relative to the id prefix.  A
        schema 1 database written without an id prefix is the same as schema 2 (its meta is
        updated, unless read-only); one written with an id prefix (ids with a colon) is
        refused."""
        for rec_id in self.client.hscan_iter(self.keys.recs, match="*:*", count=1000):
            raise SchemaVersionError(
                f"database {self.keys.db!r} was written by an older hxredis (schema 1) with an "
                f"id prefix: its ids are stored absolute (e.g. {as_text(rec_id[0])!r}), this "
                f"hxredis stores them relative to the prefix (schema {SCHEMA_VERSION}); export "
                "it with the hxredis that wrote it and import it into a new database"
            )
        if not read_only:
            self.client.hset(self.keys.meta, "schema", SCHEMA_VERSION)

    def _check_key_types(self) -> None:
        keys = self.keys
        expected = {
            keys.meta: "hash",
            keys.recs: "hash",
            keys.mods: "hash",
            keys.ver: "string",
            keys.changes: "stream",
            keys.his_gc: "set",
            keys.his_sums: "hash",
            keys.his_changes: "stream",
            keys.his_ver: "string",
        }
        pipe = self.client.pipeline(transaction=False)
        for key in expected:
            pipe.type(key)
        for (key, kind), found in zip(expected.items(), pipe.execute(), strict=True):
            if as_text(found) not in ("none", kind):
                raise LoadError(
                    f"Redis key {key!r} of database {keys.db!r} holds a {as_text(found)}, "
                    f"not the {kind} hxredis stores there"
                )

    def position(self) -> Position:
        """Where the database stands now, read without MULTI (which Redis refuses at
        maxmemory and read-only ACL users lack).  The version is the newest stream entry's
        (each commit writes both at once); the record count is None when a commit landed
        while it was read."""
        with redis_failures(self.server):
            for _attempt in range(3):
                pipe = self.client.pipeline(transaction=False)
                pipe.xrevrange(self.keys.changes, count=1)
                pipe.get(self.keys.ver)
                pipe.hget(self.keys.meta, "created")
                pipe.hlen(self.keys.recs)
                pipe.xrevrange(self.keys.changes, count=1)
                last, ver, created, records, after = pipe.execute()
                if last == after:
                    break
            else:
                records = None
        entry, version = "0-0", ver
        if last:
            entry, fields = as_text(last[0][0]), last[0][1]
            version = fields.get(b"v", ver)
        try:
            number = int(version or 0)
        except ValueError:
            try:
                number = int(ver or 0)
            except ValueError:
                raise LoadError(
                    f"Redis key {self.keys.ver!r} holds {ver!r}, not a version"
                ) from None
        return Position(number, entry, as_text(created or b""), records)

    def scan_records(self, chunk: int = 5000) -> Iterator[dict[bytes, bytes]]:
        """Every stored record as chunks of ``{id: trio}``, a few thousand per round trip.

        Each next HSCAN is sent before the current chunk is handed out, so Redis prepares it
        while the caller decodes.  The connection is dropped (not reused) when the caller
        stops early or anything fails, as a reply may still be on its way.
        """
        pool = self.client.connection_pool
        with redis_failures(self.server):
            conn = pool.get_connection()
        try:
            conn.send_command("HSCAN", self.keys.recs, 0, "COUNT", chunk)
            while True:
                cursor, flat = conn.read_response()
                if int(cursor) != 0:
                    conn.send_command("HSCAN", self.keys.recs, cursor, "COUNT", chunk)
                if flat:
                    yield dict(zip(flat[::2], flat[1::2], strict=True))
                if int(cursor) == 0:
                    return
        except rx.RedisError as exc:
            conn.disconnect()
            raise translate(exc, self.server) from exc
        except BaseException:
            conn.disconnect()
            raise
        finally:
            pool.release(conn)

    def fetch(self, ids: Sequence[str]) -> list[bytes | None]:
        """The stored Trio text of each id (None where there is no record), one round trip."""
        if not ids:
            return []
        with redis_failures(self.server):
            return self.client.hmget(self.keys.recs, list(ids))

    def commit(self, writes: Sequence[RecordWrite], since: str) -> CommitOutcome:
        """Check and apply ``writes`` atomically in Redis; see :class:`CommitOutcome`.

        ``since`` is a change stream entry id older than this commit's entry (the newest one
        the caller has seen).  The script is sent once; a lost or late reply is settled as the
        module docstring says, or raises :class:`CommitOutcomeUnknownError`.  A commit that
        certainly did not apply raises the Redis failure (:class:`hxredis.ConnectionError`,
        :class:`hxredis.TimeoutError`, :class:`hxredis.ServerError`, ...).  A batch of
        removes only runs even when Redis is at maxmemory (allow-oom); any other is refused
        there with :class:`hxredis.ServerError` (code ``"OOM"``).
        """
        token = uuid.uuid4().hex
        cancel = self.keys.cancelled(token)
        keys = [
            self.keys.recs,
            self.keys.mods,
            self.keys.ver,
            self.keys.changes,
            self.keys.his_gc,
            cancel,
        ]
        position: dict[str, int] = {}
        args: list[str | int] = [self.source, self.stream_length, token, len(writes)]
        for write in writes:
            args += [write.op, write.id, write.base_mod, write.new_mod, write.trio]
            args += [len(write.added_tags), len(write.removed_tags)]
            for tag in (*write.added_tags, *write.removed_tags):
                key = self.keys.tag(tag)
                if key not in position:
                    keys.append(key)
                    position[key] = len(keys)  # Lua's KEYS is 1-based
                args.append(position[key])
        only_removes = all(write.op == "r" for write in writes)
        script = self._commit_removes if only_removes else self._commit
        try:
            reply = self._run_once(script, keys, args)
        except _NotSent as exc:
            raise self._not_applied(exc.__cause__) from exc.__cause__
        except (rx.ConnectionError, rx.TimeoutError) as exc:
            reply = self._settle(token, since, exc)
        except rx.RedisError as exc:
            raise translate(exc, self.server) from exc
        reply = [as_text(part) if isinstance(part, bytes) else part for part in reply]
        status = reply[0]
        if status == "ok":
            return CommitOutcome("ok", version=int(reply[1]), entry=reply[2])
        return CommitOutcome(
            status,
            id=reply[1] if len(reply) > 1 else "",
            stored_mod=reply[2] if len(reply) > 2 else "",
        )

    def _run_once(self, script: Script, keys: list, args: list) -> list:
        """Run a registered script on a connection of its own, sent exactly once (redis-py's
        retries would re-send it).  A connection that failed is dropped, not reused.

        Raises :class:`_NotSent` (with the redis-py error as cause) when the failure came
        before any byte of the script left, and the redis-py error otherwise."""
        pool = self.client.connection_pool
        try:
            conn = pool.get_connection()
        except rx.RedisError as exc:
            raise _NotSent from exc
        try:
            for command, body in (("EVALSHA", script.sha), ("EVAL", script.script)):
                conn.send_command(command, body, len(keys), *keys, *args)
                try:
                    return conn.read_response()
                except rx.NoScriptError:  # not run at all: safe to send the script itself
                    continue
            raise AssertionError("EVAL answered NOSCRIPT")  # pragma: no cover
        except BaseException:
            conn.disconnect()
            raise
        finally:
            pool.release(conn)

    def _settle(self, token: str, since: str, failure: rx.RedisError) -> list:
        """The commit reply, found after a lost one: the applied commit's ``ok`` reply, or
        the Redis failure re-raised when the commit was cancelled before it ran."""
        deadline = time.monotonic() + _RESOLVE_SECONDS
        last: rx.RedisError = failure
        keys = [self.keys.changes, self.keys.cancelled(token)]
        while time.monotonic() < deadline:
            try:
                verdict = self._run_once(self._resolve, keys, [token, since, _CANCEL_TTL_MS])
            except _NotSent as exc:
                last = exc.__cause__
                time.sleep(0.2)
                continue
            except (rx.ConnectionError, rx.TimeoutError) as exc:
                last = exc
                time.sleep(0.2)
                continue
            except rx.RedisError as exc:
                last = exc
                break
            status = as_text(verdict[0])
            if status == "applied":
                return ["ok", verdict[1], verdict[2]]
            if status == "cancelled":
                raise self._not_applied(failure) from failure
            break  # "unknown": the stream no longer reaches back to this commit
        raise CommitOutcomeUnknownError(
            f"the connection to Redis at {self.server} failed after a commit was sent "
            f"({translate(last, self.server)}), and whether Redis applied it cannot be known; "
            "nothing was re-sent: read the records (db.sync()) to see where they stand"
        ) from failure

    def _not_applied(self, failure: BaseException | None) -> Exception:
        """The hx error for a Redis failure that certainly kept a commit from applying."""
        error = translate(failure, self.server) if failure is not None else None
        return type(error)(f"{error}; the commit was not applied")

    def read_changes(
        self, after: str, block_ms: int | None = None, count: int = 1000
    ) -> list[ChangeEntry]:
        """Change stream entries after entry id ``after``; waits up to ``block_ms`` if given."""
        with redis_failures(self.server):
            reply = self.client.xread({self.keys.changes: after}, count=count, block=block_ms)
        if not reply:
            return []
        entries = []
        for entry_id, fields in reply[0][1]:
            ids = as_text(fields.get(b"ids", b""))
            version = fields.get(b"v", b"")
            entries.append(
                ChangeEntry(
                    as_text(entry_id),
                    int(version) if version.isdigit() else None,
                    as_text(fields.get(b"src", b"")),
                    tuple(ids.split()) if ids else (),
                )
            )
        return entries

    def collect_history_garbage(self) -> int:
        """Delete the history keys and summaries of removed records, and their pointWrite
        arrays (with any pending timed release); the number of records cleaned.  History
        writes check the record in the same script that writes, so none lands after this for
        a removed record (no orphan keys)."""
        with redis_failures(self.server):
            ids = [as_text(i) for i in self.client.smembers(self.keys.his_gc)]
            if ids:  # one round trip; history keys live in other slots, so not one command
                pipe = self.client.pipeline(transaction=False)
                for rec_id in ids:
                    pipe.delete(self.keys.his(rec_id), self.keys.his_side(rec_id))
                    pipe.delete(self.keys.point_write(rec_id))
                pipe.hdel(self.keys.his_sums, *ids)
                pipe.zrem(self.keys.point_write_due, *ids)
                pipe.srem(self.keys.his_gc, *ids)
                pipe.execute()
        return len(ids)
