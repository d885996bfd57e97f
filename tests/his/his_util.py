"""Helpers of the history tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import hxredis as hx

NY = hx.tz("New_York")


def ts(*args: int, zone: Any = NY) -> datetime:
    """A datetime in ``zone`` (New York unless told)."""
    return datetime(*args, tzinfo=zone)
