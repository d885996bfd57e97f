"""hxredis: the Haxall Folio database API on Redis.

Project Haystack records stored as Trio text with tag indexes, Haystack filter
queries, atomic commits with optimistic concurrency, and point history kept in
RedisTimeSeries (or sorted sets when the server lacks the module).

>>> import hxredis as hx
>>> with hx.open("redis://localhost:6379/0", name="demo") as db:
...     site = db.commit(hx.Diff.make_add({"dis": "Site 1", "site": hx.MARKER})).new_rec
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from . import json, trio, zinc
from .client import RedisClient
from .diff import Diff
from .errors import *  # noqa: F403
from .errors import __all__ as _errors_all
from .filter import Filter
from .folio import Folio, open
from .hooks import CommitEvent, FolioHooks, HisWriteEvent
from .record import Rec
from .timezones import REL, UTC, is_tz_name, tz, tz_name
from .values import *  # noqa: F403
from .values import __all__ as _values_all

try:
    __version__ = version("hxredis")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"

__all__ = [
    "REL",
    "UTC",
    "CommitEvent",
    "Diff",
    "Filter",
    "Folio",
    "FolioHooks",
    "HisWriteEvent",
    "Rec",
    "RedisClient",
    "__version__",
    "is_tz_name",
    "json",
    "open",
    "trio",
    "tz",
    "tz_name",
    "zinc",
    *_errors_all,
    *_values_all,
]
