"""The sorted-set backend of point history, for servers without RedisTimeSeries.

Storage (``lua/his_zset.lua``): one sorted set per point at ``hx:his:{db:<id>}``, score the
epoch ms, member ``<epoch ms>:<code>`` (codes in :mod:`hxredis.his.codes`).  The timestamp in
the member keeps members unique per timestamp; a write removes the member at its timestamp
before adding, so there is one sample per timestamp.
"""

from __future__ import annotations

from .backend import Backend

__all__ = ["ZSetBackend"]


class ZSetBackend(Backend):
    """Sorted sets (see ``lua/his_zset.lua``): score epoch ms, member ``<ms>:<code>``, one
    member per timestamp."""

    name = "zset"
    redis_type = "zset"
    script_name = "his_zset"
