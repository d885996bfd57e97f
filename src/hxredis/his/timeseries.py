"""The RedisTimeSeries backend of point history.

Storage (``lua/his_timeseries.lua``): one series per point at ``hx:his:{db:<id>}``, created
with ``DUPLICATE_POLICY LAST`` so a second write at a timestamp replaces the sample.  The
module takes no timestamps before 1970 and no NaN or infinities, while a Folio accepts
timestamps from 1950 and NaN, +/-INF, NA, Str and Coord values, so:

* timestamps are stored as epoch ms + 2,208,988,800,000 (1900-01-01 is 0); every read and
  write converts, so range queries stay range queries;
* a value the series cannot hold is a ``0`` placeholder in the series plus the member
  ``<stored ts>:<code>`` (codes in :mod:`hxredis.his.codes`) in the side sorted set
  ``hx:his:{db:<id>}:x`` (score the stored ts).  Ranges, counts and the items around a span
  come from the series alone; the side set is asked only for the timestamps a read found.

Results are therefore identical to the sorted-set backend for every value.
"""

from __future__ import annotations

from .backend import Backend

__all__ = ["TimeSeriesBackend"]

OFFSET_MS = 2_208_988_800_000
"""Stored timestamp of 1970-01-01 (ms from 1900-01-01 UTC)."""


class TimeSeriesBackend(Backend):
    """RedisTimeSeries (see ``lua/his_timeseries.lua``): a series per point created with
    ``DUPLICATE_POLICY LAST``, timestamps offset so that 1900 is 0, and a side sorted set for
    the values the module cannot hold (NaN, +/-INF, NA, Str, Coord)."""

    name = "timeseries"
    redis_type = "TSDB-TYPE"
    script_name = "his_timeseries"
