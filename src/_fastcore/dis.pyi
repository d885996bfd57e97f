"""Native display-name steps; the same contracts as :mod:`hxredis.dis`'s references."""

from collections.abc import Iterable, Mapping
from typing import Any

from hxredis.values import Ref

def track_all(
    ids: Iterable[str],
    views: dict[str, Mapping[str, Any]],
    depends_on: dict[str, set[str]],
    dependents: dict[str, set[str]],
) -> None: ...
def compute_all(
    todo: set[str],
    views: dict[str, Mapping[str, Any]],
    refs: dict[str, Ref],
    depends_on: dict[str, set[str]],
) -> None: ...
