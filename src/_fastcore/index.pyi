"""Native bulk indexing; the same contract as :func:`hxredis.query_plan.py_add_many`."""

from collections.abc import Iterable, Mapping
from typing import Any

def add_many(
    seq: dict[str, int],
    next_seq: int,
    tags: dict[str, dict[str, None]],
    refs: dict[str, dict[str, dict[str, None]]],
    recs: Iterable[tuple[str, Mapping[str, Any]]],
) -> int: ...
