"""The Project Haystack HTTP API on hxredis (``pip install hxredis[http]``).

``create_app(uri, name)`` is an ASGI app (Starlette) serving the Haystack 4 ops, Haxall's
``commit``, SCRAM-SHA-256 authentication and bearer sessions; ``hxredis serve`` runs it with
uvicorn.  Modules: ``app`` (routing, auth gate, dispatch), ``formats`` (content negotiation,
Zinc/JSON/Trio/CSV), ``auth`` (users, SCRAM, sessions), ``ops`` (records), ``his``
(history), ``points`` (pointWrite), ``watches``, ``grids`` (error and record grids).
"""

from __future__ import annotations

from typing import Any

from .auth import ROLES, UserStore

__all__ = ["ROLES", "UserStore", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":  # imported on use: only the app needs starlette
        from .app import create_app

        return create_app
    raise AttributeError(f"module 'hxredis.http' has no attribute {name!r}")
