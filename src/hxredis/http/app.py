"""The ASGI application: routing, authentication before anything else, request grids, op
dispatch and error grids (http.md §1, §2).

Starlette is used because it is a small, well-maintained ASGI toolkit (routing, requests,
responses, lifespan, a thread pool for blocking calls) with no ORM, templating or validation
layer to carry; uvicorn serves it, with its own multi-process worker support.  The Folio API is
blocking, so every op runs in Starlette's thread pool; each worker process opens its own Folio
in the lifespan, which follows the database's change stream.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import FolioError
from ..folio import Folio
from ..folio import open as open_folio
from ..timezones import UTC
from ..values import Grid
from . import his, ops, points, watches
from .auth import ROLES, AuthFailed, Session, UserStore, http_key_base, parse_auth_header
from .formats import FORMATS, HttpError, decode_request, encode_response, negotiate, query_grid
from .grids import EMPTY, OpError, error_grid
from .pointtimer import PointTimer

__all__ = ["app_from_env", "create_app"]

log = logging.getLogger("hxredis.http")

_NO_CACHE = {"Cache-Control": "no-cache, no-store"}
_AUTH_NO_CACHE = {"Cache-Control": "no-cache, no-store, private"}


class _Server:
    """One worker's state: the Folio, the user store and the options."""

    def __init__(
        self,
        uri: str | None,
        name: str,
        prefix: str,
        session_ttl: float,
        debug: bool,
        open_options: dict[str, Any],
    ) -> None:
        self.uri = uri
        self.name = name
        self.prefix = prefix
        self.session_ttl = session_ttl
        self.debug = debug
        self.open_options = open_options
        self.key_base = http_key_base(prefix, name)
        self.boot_time = datetime.now(UTC).replace(microsecond=0)
        self.db: Folio | None = None
        self.users: UserStore | None = None
        self.point_timer: PointTimer | None = None

    def open(self) -> None:
        self.db = open_folio(self.uri, name=self.name, prefix=self.prefix, **self.open_options)
        self.users = UserStore(self.db.client, self.prefix, self.name, session_ttl=self.session_ttl)
        self.point_timer = PointTimer(self.db)
        self.point_timer.start()

    def close(self) -> None:
        if self.point_timer is not None:
            self.point_timer.close()
        if self.db is not None:
            self.db.close()

    def run(self, op: str, req: Grid, session: Session, fmt: str) -> Grid | bytes:
        """Run ``op`` for ``session``: the response grid (or, for a fast path, the body in
        reply format ``fmt``); raises for an error grid."""
        db = self.db
        assert db is not None and self.users is not None
        need = ops.OPS[op][1]
        if ROLES.index(session.role) < ROLES.index(need):
            raise OpError(f"Missing '{need}' permission: {op}")
        if op in _SYNCED:
            db.sync()  # see what other processes committed up to now
        if op == "about":
            return ops.about(self.boot_time, session.user, self.name)
        if op == "close":
            self.users.end_session(session.token)
            return EMPTY
        if op == "hisRead":
            return his.his_read(db, req, fmt)
        if op == "pointWrite":
            return points.point_write(db, req, session.user)
        if op in _STATIC:
            return _STATIC[op]()
        if op in _WATCH:
            return _WATCH[op](db, req, self.key_base)
        if op == "invokeAction":
            return ops.invoke_action(req)
        return _DB_OPS[op](db, req)


_SYNCED = frozenset({"read", "nav", "hisRead", "hisWrite", "pointWrite", "watchSub", "watchPoll"})
"""The ops that read records: they catch up with the change stream first (``db.sync()``,
three round trips, ~0.16 ms here).  ``commit`` catches up by itself when a ``mod`` differs."""

_STATIC: dict[str, Callable[[], Grid]] = {
    "ops": ops.ops,
    "formats": ops.formats,
    "filetypes": ops.filetypes,
}
_WATCH: dict[str, Callable[[Folio, Grid, str], Grid]] = {
    "watchSub": watches.watch_sub,
    "watchUnsub": watches.watch_unsub,
    "watchPoll": watches.watch_poll,
}
_DB_OPS: dict[str, Callable[[Folio, Grid], Grid]] = {
    "read": ops.read,
    "nav": ops.nav,
    "hisWrite": his.his_write,
    "commit": ops.commit,
}


def _status(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(message + "\n", status, {**_NO_CACHE, **(headers or {})}, "text/plain")


async def _authenticate(server: _Server, request: Request) -> Session | Response:
    """The session of a BEARER request, or the response to send instead: a handshake step
    (HELLO, SCRAM), 401 without credentials, 403 for a bad token, 400 for a malformed header."""
    header = request.headers.get("authorization")
    if not header:
        return _status(401, "Authentication required", {"WWW-Authenticate": "HELLO"})
    users = server.users
    assert users is not None
    try:
        scheme, params = parse_auth_header(header)
        if scheme == "BEARER":
            session = await run_in_threadpool(users.session, params.get("authToken", ""))
            if session is None:
                return _status(403, "Invalid or expired auth token")
            return session
        reply = await run_in_threadpool(users.handshake, scheme, params)
    except AuthFailed as exc:
        log.info("auth refused (%s): %s", exc.status, exc)
        return _status(exc.status, str(exc), _AUTH_NO_CACHE)
    except FolioError as exc:
        log.error("auth failed: %s", exc)
        return _status(503, "Authentication store unavailable")
    body = b"" if reply.status == 200 else b"Authentication required\n"
    return Response(body, reply.status, {**_AUTH_NO_CACHE, **reply.headers}, "text/plain")


def _grid_response(grid: Grid | bytes, fmt: str) -> Response:
    body = grid if isinstance(grid, bytes) else encode_response(grid, fmt)
    return Response(body, 200, _NO_CACHE, FORMATS[fmt])


async def _api(request: Request) -> Response:
    server: _Server = request.app.state.server
    if request.method not in ("GET", "POST"):
        return _status(501, f"Method not implemented: {request.method}")
    auth = await _authenticate(server, request)
    if isinstance(auth, Response):
        return auth
    proj = request.path_params.get("proj")
    op = request.path_params.get("op", "")
    if (proj is not None and proj != server.name) or op not in ops.OPS:
        return _status(404, f"Unknown op or project: {request.url.path}")
    if request.method == "GET" and not ops.OPS[op][0]:
        return _status(405, f"Op {op} requires POST")
    try:
        fmt = negotiate(
            request.headers.get("accept"),
            request.query_params.get("filetype") or request.query_params.get("format"),
        )
        if request.method == "GET":
            req = query_grid(list(request.query_params.multi_items()))
        else:
            req = decode_request(request.headers.get("content-type"), await request.body())
    except HttpError as exc:
        return _status(exc.status, str(exc), exc.headers)
    try:
        grid: Grid | bytes = await run_in_threadpool(server.run, op, req, auth, fmt)
    except Exception as exc:  # every op failure is an error grid (http.md §1.4)
        log.debug("op %s failed: %s: %s", op, type(exc).__name__, exc)
        grid = error_grid(exc, debug=server.debug)
    try:
        return _grid_response(grid, fmt)
    except (TypeError, ValueError) as exc:  # a value the format cannot carry (e.g. Trio)
        return _grid_response(error_grid(exc, debug=server.debug), "zinc" if fmt != "json" else fmt)


async def _root(request: Request) -> Response:
    """The API base itself: authenticated like every API path, then 404."""
    server: _Server = request.app.state.server
    auth = await _authenticate(server, request)
    if isinstance(auth, Response):
        return auth
    return _status(404, "No op given")


def create_app(
    uri: str | None = None,
    name: str = "default",
    *,
    prefix: str = "hx",
    base: str = "/api",
    session_ttl: float = 3600.0,
    debug: bool = False,
    **open_options: Any,
) -> Starlette:
    """The Haystack HTTP API of database ``name`` on Redis ``uri`` (None: ``HXREDIS_URI``,
    else the embedded server) as an ASGI app.

    Ops are served at ``{base}/{op}`` and ``{base}/{name}/{op}``.  ``session_ttl`` is the idle
    expiry of bearer tokens in seconds; ``debug`` adds ``errTrace`` to error grids;
    ``open_options`` go to :func:`hxredis.open`.  The Folio is opened when the app starts
    (each worker process opens its own).  ValueError for a bad ``base`` or ``session_ttl``.
    """
    if not base.startswith("/") or base.endswith("/"):
        raise ValueError(f"base must start with '/' and not end with it, not {base!r}")
    if session_ttl <= 0:
        raise ValueError(f"session_ttl must be positive, not {session_ttl!r}")
    server = _Server(uri, name, prefix, session_ttl, debug, open_options)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await run_in_threadpool(server.open)
        try:
            yield
        finally:
            await run_in_threadpool(server.close)

    methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
    routes = [
        Route(base, _root, methods=methods),
        Route(base + "/", _root, methods=methods),
        Route(base + "/{op}", _api, methods=methods),
        Route(base + "/{proj}/{op}", _api, methods=methods),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.server = server
    return app


def app_from_env() -> Starlette:
    """The app of ``hxredis serve`` in a uvicorn worker process, configured by the serve
    command through ``HXREDIS_HTTP_*`` environment variables (never on a command line)."""
    env = os.environ
    options: dict[str, Any] = {}
    if env.get("HXREDIS_HTTP_DATA_DIR"):
        options["data_dir"] = Path(env["HXREDIS_HTTP_DATA_DIR"])
    return create_app(
        env.get("HXREDIS_HTTP_URI") or None,
        env.get("HXREDIS_HTTP_NAME", "default"),
        session_ttl=float(env.get("HXREDIS_HTTP_SESSION_TTL", "3600")),
        debug=env.get("HXREDIS_HTTP_DEBUG") == "1",
        **options,
    )
