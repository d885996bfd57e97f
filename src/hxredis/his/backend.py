"""The interface both history backends implement, and the summary they publish.

A backend is one Lua script (``lua/his_head.lua`` + ``lua/his_<backend>.lua`` +
``lua/his_tail.lua``) that reads and writes one point atomically: the write checks that the
record still exists (so a write racing a remove leaves no history behind), applies clear,
removals and new samples, and publishes the point's :class:`Summary` to the database's
summary hash and history change stream in the same script.  A script finding the point's
data in the other backend answers ``backend`` and changes nothing; the facade then asks the
other backend (a point keeps the backend its data is in).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, ClassVar

import redis

from ..client import as_text
from ..keys import KeySchema
from ..redis_errors import describe, redis_failures

__all__ = ["Backend", "Outcome", "Summary"]


def _lua(name: str) -> str:
    return resources.files("hxredis").joinpath(f"lua/{name}.lua").read_text()


@dataclass(frozen=True)
class Summary:
    """What a point record shows of its history: ``version`` (the database's history
    version when it was made; newer wins), ``size`` and, when not empty, the first and last
    sample as epoch ms and code."""

    version: int
    size: int
    start: int = 0
    end: int = 0
    start_code: str = ""
    end_code: str = ""

    @classmethod
    def parse(cls, text: bytes | str) -> Summary:
        """A summary as the scripts write it: ``ver|size|start|end|len|code code``."""
        raw = text.encode() if isinstance(text, str) else bytes(text)
        parts = raw.split(b"|", 5)
        if len(parts) == 2:
            return cls(int(parts[0]), int(parts[1]))
        ver, size, start, end, first_len, codes = parts
        n = int(first_len)
        return cls(
            int(ver),
            int(size),
            int(start),
            int(end),
            codes[:n].decode(),
            codes[n:].decode(),
        )


@dataclass(frozen=True)
class Outcome:
    """A script's answer: ``status`` ``ok``, ``backend`` (``data`` is the key's type) or
    ``gone``; ``data`` holds the summary of a write or the flat ``ts, code`` list of a read."""

    status: str
    data: Any = None


class Backend:
    """One way of storing a point's history; subclasses name their script and key type."""

    name: ClassVar[str]
    redis_type: ClassVar[str]
    script_name: ClassVar[str]

    def __init__(self, client: redis.Redis, keys: KeySchema) -> None:
        self.client = client
        self.keys = keys
        self.server = describe(client)
        self._source = _lua("his_head") + _lua(self.script_name) + _lua("his_tail")
        self.script = client.register_script(self._source)

    def sha(self) -> str:
        """The script's SHA1, loaded into the server now (for EVALSHA inside a transaction;
        one round trip, asked again by each bulk call since a restarted server has lost it)."""
        with redis_failures(self.server):
            self.client.script_load(self._source)
        return self.script.sha

    def key_args(self, rec_id: str) -> list[str]:
        """The KEYS of the script for point ``rec_id``."""
        k = self.keys
        return [
            k.his(rec_id),
            k.his_side(rec_id),
            k.recs,
            k.his_gc,
            k.his_sums,
            k.his_changes,
            k.his_ver,
        ]

    def run(self, rec_id: str, op: str, args: Sequence[str | int] = ()) -> Outcome:
        """Run the script's ``op`` for point ``rec_id`` (one atomic round trip)."""
        with redis_failures(self.server):
            reply = self.script(self.key_args(rec_id), [rec_id, op, *args])
        status = as_text(reply[0])
        if status == "backend":
            return Outcome(status, as_text(reply[1]))
        if status == "gone":
            return Outcome(status)
        if op == "read":
            return Outcome(status, reply[1:])
        return Outcome(status, Summary.parse(reply[1]))

    def write(
        self,
        rec_id: str,
        pairs: Sequence[tuple[int, str]],
        clear: tuple[int, int] | None,
        clear_all: bool,
    ) -> Outcome:
        """Apply a write atomically: ``clear_all``, then ``clear`` (epoch ms, inclusive), then
        ``pairs`` of (epoch ms, code; ``""`` removes the sample)."""
        args: list[str | int] = ["1" if clear_all else "0"]
        args += [clear[0], clear[1]] if clear is not None else ["", ""]
        args.append(len(pairs))
        for ts, code in pairs:
            args += [ts, code]
        return self.run(rec_id, "write", args)

    def read(
        self, rec_id: str, span: tuple[int, int] | None, limit: int, clip: int | None
    ) -> Outcome:
        """Samples in ``span`` (epoch ms, inclusive) with the one before it and up to two
        after it, or all of them; at most ``limit`` in the span (0: no limit), none after
        ``clip``.  ``data`` is the flat list ``ts, code, ts, code ...``."""
        lo, hi = span if span is not None else ("", "")
        return self.run(rec_id, "read", [lo, hi, limit, "" if clip is None else clip])
