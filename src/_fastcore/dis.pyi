"""Native display-name steps; the same contracts as :mod:`hxredis.dis`'s references."""

from collections.abc import Collection, Mapping
from typing import Any

from hxredis.values import Ref

def rebuild(
    views: dict[str, Mapping[str, Any]],
    refs: dict[str, Ref],
    depends_on: dict[str, tuple[str, ...]],
    dependents: dict[str, set[str]],
) -> None: ...
def compute_all(
    todo: Collection[str],
    views: dict[str, Mapping[str, Any]],
    refs: dict[str, Ref],
    depends_on: dict[str, tuple[str, ...]],
) -> None: ...
