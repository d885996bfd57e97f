"""The record side of a database in Redis: schema check, bulk load, atomic commits, the
change stream and history clean-up (key names in :mod:`hxredis.keys`).

Records travel as Trio text.  A commit is one Lua script run (atomic, all diffs or none)
that checks each record's stored ``mod``, writes the records, adjusts the tag index sets,
increments the version and appends to the change stream.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources

import redis

from .client import as_text
from .errors import LoadError, SchemaVersionError
from .keys import SCHEMA_VERSION, KeySchema

__all__ = ["ChangeEntry", "CommitOutcome", "RecordWrite", "RedisStore"]

_COMMIT_LUA = resources.files("hxredis").joinpath("lua/commit.lua").read_text()


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
    stored mod) or ``gc`` (history of a removed record with that id is still pending)."""

    status: str
    id: str = ""
    stored_mod: str = ""
    version: int = 0
    entry: str = ""


@dataclass(frozen=True)
class ChangeEntry:
    """One entry of the change stream: the version it made, who made it, the ids touched."""

    entry: str
    version: int
    source: str
    ids: tuple[str, ...]


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
        self._commit = client.register_script(_COMMIT_LUA)

    def ensure_schema(self) -> None:
        """Create the meta key of a new database; refuse one of an unknown schema version
        (SchemaVersionError) or one whose keys hold other Redis types (LoadError)."""
        self._check_key_types()
        meta = self.keys.meta
        pipe = self.client.pipeline(transaction=True)
        pipe.hsetnx(meta, "schema", SCHEMA_VERSION)
        pipe.hsetnx(meta, "created", str(int(time.time() * 1000)))
        pipe.hget(meta, "schema")
        stored = pipe.execute()[2]
        if as_text(stored) != str(SCHEMA_VERSION):
            raise SchemaVersionError(
                f"database {self.keys.db!r} (key {meta}) was written with schema version "
                f"{as_text(stored)!r}; this hxredis understands version {SCHEMA_VERSION} only"
            )

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

    def position(self) -> tuple[int, str]:
        """The current version and the id of the newest change stream entry ("0-0" if none)."""
        pipe = self.client.pipeline(transaction=True)
        pipe.get(self.keys.ver)
        pipe.xrevrange(self.keys.changes, count=1)
        ver, last = pipe.execute()
        return int(ver or 0), as_text(last[0][0]) if last else "0-0"

    def scan_records(self, chunk: int = 5000) -> Iterator[dict[bytes, bytes]]:
        """Every stored record as chunks of ``{id: trio}``, a few thousand per round trip.

        Each next HSCAN is sent before the current chunk is handed out, so Redis prepares it
        while the caller decodes.  The connection is dropped (not reused) when the caller
        stops early or anything fails, as a reply may still be on its way.
        """
        pool = self.client.connection_pool
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
        except BaseException:
            conn.disconnect()
            raise
        finally:
            pool.release(conn)

    def fetch(self, ids: Sequence[str]) -> list[bytes | None]:
        """The stored Trio text of each id (None where there is no record), one round trip."""
        if not ids:
            return []
        return self.client.hmget(self.keys.recs, list(ids))

    def commit(self, writes: Sequence[RecordWrite]) -> CommitOutcome:
        """Check and apply ``writes`` atomically in Redis; see :class:`CommitOutcome`."""
        keys = [self.keys.recs, self.keys.mods, self.keys.ver, self.keys.changes, self.keys.his_gc]
        position: dict[str, int] = {}
        args: list[str | int] = [self.source, self.stream_length, len(writes)]
        for write in writes:
            args += [write.op, write.id, write.base_mod, write.new_mod, write.trio]
            args += [len(write.added_tags), len(write.removed_tags)]
            for tag in (*write.added_tags, *write.removed_tags):
                key = self.keys.tag(tag)
                if key not in position:
                    keys.append(key)
                    position[key] = len(keys)  # Lua's KEYS is 1-based
                args.append(position[key])
        reply = [
            as_text(part) if isinstance(part, bytes) else part for part in self._commit(keys, args)
        ]
        status = reply[0]
        if status == "ok":
            return CommitOutcome("ok", version=int(reply[1]), entry=reply[2])
        return CommitOutcome(status, id=reply[1], stored_mod=reply[2] if len(reply) > 2 else "")

    def read_changes(
        self, after: str, block_ms: int | None = None, count: int = 1000
    ) -> list[ChangeEntry]:
        """Change stream entries after entry id ``after``; waits up to ``block_ms`` if given."""
        reply = self.client.xread({self.keys.changes: after}, count=count, block=block_ms)
        if not reply:
            return []
        entries = []
        for entry_id, fields in reply[0][1]:
            ids = as_text(fields.get(b"ids", b""))
            entries.append(
                ChangeEntry(
                    as_text(entry_id),
                    int(fields[b"v"]),
                    as_text(fields.get(b"src", b"")),
                    tuple(ids.split()) if ids else (),
                )
            )
        return entries

    def collect_history_garbage(self) -> int:
        """Delete the history keys and summaries of removed records; the number of records
        cleaned.  History writes check the record in the same script that writes, so none
        lands after this for a removed record (no orphan keys)."""
        ids = [as_text(i) for i in self.client.smembers(self.keys.his_gc)]
        if ids:  # one round trip; history keys live in other slots, so not one command
            pipe = self.client.pipeline(transaction=False)
            for rec_id in ids:
                pipe.delete(self.keys.his(rec_id), self.keys.his_side(rec_id))
            pipe.hdel(self.keys.his_sums, *ids)
            pipe.srem(self.keys.his_gc, *ids)
            pipe.execute()
        return len(ids)
