"""The record ops: ``about``, ``ops``, ``formats``, ``filetypes``, ``read``, ``nav``, Haxall's
``commit`` and ``invokeAction`` (http.md §3).  Each takes the Folio and the request grid and
returns the response grid; a failure raises (the app answers it with an error grid)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .. import __version__
from ..diff import Diff
from ..filter import Filter
from ..folio import Folio, compare_dis
from ..values import MARKER, Grid, Number, Ref, Symbol, Uri
from .grids import EMPTY, OpError, rec_grid

__all__ = ["OPS", "about", "commit", "filetypes", "formats", "invoke_action", "nav", "ops", "read"]

# op name -> (no side effects, the role needed, summary)
OPS: dict[str, tuple[bool, str, str]] = {
    "about": (True, "viewer", "Summary information for the server"),
    "ops": (True, "viewer", "The operations this server supports"),
    "formats": (True, "viewer", "The grid formats this server supports"),
    "filetypes": (True, "viewer", "The file types this server supports"),
    "close": (False, "viewer", "Close the session"),
    "read": (True, "viewer", "Read records by filter or by id"),
    "nav": (True, "viewer", "Navigate the site, equip, point tree"),
    "hisRead": (True, "viewer", "Read the history of points"),
    "watchSub": (False, "viewer", "Open or add to a watch"),
    "watchUnsub": (False, "viewer", "Remove ids from a watch or close it"),
    "watchPoll": (False, "viewer", "Poll a watch for changes"),
    "hisWrite": (False, "operator", "Write the history of points"),
    "pointWrite": (False, "operator", "Write or read a point's priority array"),
    "invokeAction": (False, "operator", "Invoke an action on a record"),
    "commit": (False, "admin", "Add, update or remove records (Haxall)"),
}

_FILETYPES = [
    ("zinc", "Zinc", "text/zinc", "zinc"),
    ("json", "JSON", "application/json", "json"),
    ("trio", "Trio", "text/trio", "trio"),
    ("csv", "CSV", "text/csv", "csv"),
]


def about(boot_time: datetime, user: str, server_name: str) -> Grid:
    """The about op's one row."""
    now = datetime.now(boot_time.tzinfo)
    row = {
        "haystackVersion": "4.0",
        "tz": "UTC",
        "serverName": server_name,
        "serverTime": now,
        "serverBootTime": boot_time,
        "productName": "hxredis",
        "productUri": Uri("https://github.com/hxredis/hxredis"),
        "productVersion": __version__,
        "vendorName": "hxredis developers",
        "vendorUri": Uri("https://github.com/hxredis/hxredis"),
        "moduleName": "hxredis.http",
        "moduleVersion": __version__,
        "whoami": user,
    }
    return Grid({}, list(row), [row])


def ops() -> Grid:
    """One row per op: ``def``, ``name``, ``summary``, ``doc`` and ``noSideEffects``."""
    rows = [
        {
            "def": Symbol(f"op:{name}"),
            "name": name,
            "summary": summary,
            "doc": summary,
            "noSideEffects": MARKER if safe else None,
        }
        for name, (safe, _, summary) in OPS.items()
    ]
    return Grid({}, ["def", "name", "summary", "doc", "noSideEffects"], rows)


def formats() -> Grid:
    """The Haystack 3 formats op: ``mime``, ``receive``, ``send``."""
    rows = [
        {"mime": mime, "receive": MARKER if name in ("zinc", "json") else None, "send": MARKER}
        for name, _, mime, _ in _FILETYPES
    ]
    return Grid({}, ["mime", "receive", "send"], rows)


def filetypes() -> Grid:
    """The Haystack 4 filetypes op."""
    rows = [
        {"def": Symbol(f"filetype:{name}"), "dis": dis, "mime": mime, "fileExt": ext}
        for name, dis, mime, ext in _FILETYPES
    ]
    return Grid({}, ["def", "dis", "mime", "fileExt"], rows)


def _limit(val: Any) -> int | None:
    if val is None:
        return None
    if not isinstance(val, Number):
        raise OpError(f"read: limit must be a Number, not {val!r}")
    return int(val.val) if val.val >= 1 else None


def read(db: Folio, req: Grid) -> Grid:
    """Read by ``filter`` (and ``limit``) or by the ``id`` of each row; when every id is
    unknown the result has no rows (Haxall)."""
    names = req.col_names
    if "filter" in names and req.rows:
        row = req.rows[0]
        text = row.get("filter")
        if not isinstance(text, str):
            raise OpError(f"read: filter must be a Str, not {text!r}")
        return rec_grid(db.read_all(Filter.parse(text), limit=_limit(row.get("limit"))))
    if "id" in names:
        ids = []
        for row in req.rows:
            ref = row.get("id")
            if not isinstance(ref, (Ref, str)):
                raise OpError(f"read: id must be a Ref, not {ref!r}")
            ids.append(ref)
        recs = db.read_by_ids(ids, checked=False)
        if all(rec is None for rec in recs):
            recs = []
        return rec_grid(recs)
    raise OpError("Request grid missing id or filter col")


def _by_dis(recs: list[Any]) -> list[Any]:
    return sorted(recs, key=functools.cmp_to_key(lambda a, b: compare_dis(a.dis, b.dis)))


def nav(db: Folio, req: Grid) -> Grid:
    """Haxall's fallback tree: sites (else equips, else points), a site's equips, an equip's
    points.  Non-point rows carry ``navId`` (their id)."""
    nav_id = req.rows[0].get("navId") if req.rows else None
    if nav_id is None:
        recs = db.read_all("site") or db.read_all("equip") or db.read_all("point")
    else:
        ref = nav_id if isinstance(nav_id, Ref) else Ref(str(nav_id).lstrip("@"))
        rec = db.read_by_id(ref, checked=False)
        if rec is None:
            recs = []
        elif rec.get("site") is MARKER:
            recs = db.read_all(Filter.parse(f"equip and siteRef==@{rec['id'].id}"))
        elif rec.get("equip") is MARKER:
            recs = db.read_all(Filter.parse(f"point and equipRef==@{rec['id'].id}"))
        else:
            recs = []
    rows = []
    for rec in _by_dis(recs):
        row = dict(rec)
        if rec.get("point") is not MARKER:
            row["navId"] = rec["id"]
        rows.append(row)
    return rec_grid(rows) if rows else EMPTY


def _changes(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("id", "mod")}


def commit(db: Folio, req: Grid) -> Grid:
    """Haxall's commit op (meta ``commit``: add, update or remove; ``force``, ``transient``).
    All rows go to one ``db.commit_all``: the request applies entirely or not at all."""
    mode = req.meta.get("commit")
    force = Diff.FORCE if req.meta.get("force") is MARKER else 0
    diffs = []
    if mode == "add":
        for row in req.rows:
            ref = row.get("id")
            if ref is not None and not isinstance(ref, Ref):
                raise OpError(f"commit: id must be a Ref, not {ref!r}")
            diffs.append(Diff.make_add(_changes(row), id=ref))
    elif mode in ("update", "remove"):
        flags = force
        if mode == "update" and req.meta.get("transient") is MARKER:
            flags |= Diff.TRANSIENT
        if mode == "remove":
            flags |= Diff.REMOVE
        for row in req.rows:
            ref, mod = row.get("id"), row.get("mod")
            if not isinstance(ref, Ref):
                raise OpError(f"commit: every row needs an id Ref, not {ref!r}")
            if not isinstance(mod, datetime):
                raise OpError(f"commit: row @{ref.id} is missing its 'mod'")
            old = {"id": ref, "mod": mod}
            changes = _changes(row) if mode == "update" else None
            diffs.append(Diff(old, changes, flags))
    else:
        raise OpError(f"Unknown commit mode: {mode!r}")
    results = db.commit_all(diffs)
    if mode == "remove":
        return EMPTY
    return rec_grid([d.new_rec for d in results])


def invoke_action(req: Grid) -> Grid:
    """invokeAction: hxredis defines no actions."""
    action = req.meta.get("action")
    raise OpError(f"invokeAction: no actions defined (action {action!r})")
