"""The Redis key schema of one database.

Every key starts with the prefix (default ``hx``).  The record side of a database shares
one hash tag, so a commit touches a single Redis Cluster slot::

    hx:{mydb}:meta          hash: schema version, creation time
    hx:{mydb}:recs          hash: record id -> Trio text of the persistent tags
    hx:{mydb}:mods          hash: record id -> mod (Zinc DateTime text), checked by commits
    hx:{mydb}:ver           counter: the database version, +1 per persistent commit
    hx:{mydb}:changes       stream: one entry per commit (version, source, ids)
    hx:{mydb}:tag:<name>    set: ids of the records having tag <name>
    hx:{mydb}:his-gc        set: ids whose history keys still have to be deleted
    hx:{mydb}:cancel:<tok>  string, expiring: a commit whose lost reply was settled as not
                            applied (the commit script refuses to run if it arrives later)
    hx:{mydb}:his-sums      hash: point id -> summary of its history (size, first, last)
    hx:{mydb}:his-changes   stream: one entry per history write (id, summary)
    hx:{mydb}:his-ver       counter: +1 per history write, orders the summaries

Each point's history has its own hash tag, so histories spread across shards::

    hx:his:{mydb:<id>}      the series (RedisTimeSeries) or sorted set of the samples
    hx:his:{mydb:<id>}:x    TimeSeries points only: the side set of values the module
                            cannot hold (see hxredis.his.timeseries)
"""

from __future__ import annotations

import re

__all__ = ["SCHEMA_VERSION", "KeySchema", "check_name"]

SCHEMA_VERSION = 2  # 2: ids stored relative to the id prefix (see hxredis.codec)

_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,100}")


def check_name(what: str, name: str) -> str:
    """``name`` when it is 1 to 100 chars of ``A-Z a-z 0-9 _ . -``; ValueError otherwise."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"invalid {what} {name!r}: use 1 to 100 characters of A-Z a-z 0-9 _ . -")
    return name


class KeySchema:
    """Key names for database ``db`` under ``prefix``; both are validated."""

    __slots__ = (
        "changes",
        "db",
        "his_changes",
        "his_gc",
        "his_sums",
        "his_ver",
        "meta",
        "mods",
        "point_write_changes",
        "point_write_due",
        "prefix",
        "recs",
        "ver",
    )

    def __init__(self, prefix: str, db: str) -> None:
        self.prefix = check_name("key prefix", prefix)
        self.db = check_name("database name", db)
        base = f"{prefix}:{{{db}}}"
        self.meta = f"{base}:meta"
        self.recs = f"{base}:recs"
        self.mods = f"{base}:mods"
        self.ver = f"{base}:ver"
        self.changes = f"{base}:changes"
        self.his_gc = f"{base}:his-gc"
        self.his_sums = f"{base}:his-sums"
        self.his_changes = f"{base}:his-changes"
        self.his_ver = f"{base}:his-ver"
        # the HTTP server's pointWrite state (hxredis.http.points)
        self.point_write_due = f"{base}:http:pw-due"
        self.point_write_changes = f"{base}:http:pw-changes"

    def tag(self, name: str) -> str:
        """The index set of tag ``name`` (a valid tag name, checked by the caller)."""
        return f"{self.prefix}:{{{self.db}}}:tag:{name}"

    def cancelled(self, token: str) -> str:
        """The cancel marker of commit ``token`` (see :mod:`hxredis.store`)."""
        return f"{self.prefix}:{{{self.db}}}:cancel:{token}"

    def his(self, rec_id: str) -> str:
        """The history key of record ``rec_id`` (a valid Ref id)."""
        return f"{self.prefix}:his:{{{self.db}:{rec_id}}}"

    def his_side(self, rec_id: str) -> str:
        """The side set of a TimeSeries history (values the module cannot hold)."""
        return f"{self.prefix}:his:{{{self.db}:{rec_id}}}:x"

    def point_write(self, rec_id: str) -> str:
        """The pointWrite priority array of record ``rec_id`` (a hash; hxredis.http.points)."""
        return f"{self.prefix}:{{{self.db}}}:http:pw:{rec_id}"

    @property
    def tag_pattern(self) -> str:
        """SCAN pattern matching every tag index set of the database."""
        return f"{self.prefix}:{{{self.db}}}:tag:*"
