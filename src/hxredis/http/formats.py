"""Content negotiation and the wire formats of the HTTP API (http.md §1.3, §4).

Requests: Zinc, Haystack JSON v4 and JSON v3 bodies, or a GET query string (one row).
Responses: Zinc (the default), JSON v4, JSON v3, Trio and CSV, chosen from ``Accept`` (or a
``filetype``/``format`` query parameter).  Failures raise :class:`HttpError` with the status
the spec gives (400, 406, 415).
"""

from __future__ import annotations

import csv
import io
import json as _json
import math
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from .. import json as hjson
from .. import timezones, trio, zinc
from ..errors import ParseError
from ..values import (
    MARKER,
    NA,
    REMOVE,
    Coord,
    Grid,
    Marker,
    NAType,
    Number,
    Ref,
    RemoveType,
    Symbol,
    Uri,
    XStr,
    is_tag_name,
)

__all__ = ["FORMATS", "HttpError", "decode_request", "encode_response", "negotiate", "query_grid"]


class HttpError(Exception):
    """A request refused before any op ran: an HTTP status and a message."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.headers = dict(headers or {})


# format name -> response media type
FORMATS = {
    "zinc": "text/zinc; charset=utf-8",
    "json": "application/json",
    "json3": "application/json",
    "trio": "text/trio; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
}
_FILETYPES = {"zinc": "zinc", "json": "json", "trio": "trio", "csv": "csv"}


def _media(part: str) -> tuple[str, dict[str, str]]:
    """The lower-cased media type of a header part and its parameters."""
    pieces = [p.strip() for p in part.split(";")]
    params = {}
    for p in pieces[1:]:
        key, _, val = p.partition("=")
        params[key.strip().lower()] = val.strip().strip('"')
    return pieces[0].lower(), params


def _json_version(media: str, params: dict[str, str]) -> str | None:
    if media not in ("application/json", "application/vnd.haystack+json"):
        return None
    version = params.get("version", "4")
    return {"4": "json", "3": "json3"}.get(version)


def negotiate(accept: str | None, override: str | None = None) -> str:
    """The response format for an ``Accept`` header (or a ``filetype`` override): the first
    supported range in list order, skipping ``q=0``; Zinc when absent, empty or ``*/*``.
    Raises HttpError(406) when nothing offered is supported."""
    if override:
        fmt = _FILETYPES.get(override.strip().lower())
        if fmt is None:
            raise HttpError(406, f"Unsupported filetype: {override}")
        return fmt
    if not accept or not accept.strip() or "*/*" in accept:
        return "zinc"
    for part in accept.split(","):
        media, params = _media(part)
        if params.get("q", "1").strip() in ("0", "0.0", "0.00", "0.000"):
            continue
        if media == "text/zinc":
            return "zinc"
        if media == "text/trio":
            return "trio"
        if media == "text/csv":
            return "csv"
        fmt = _json_version(media, params)
        if fmt is not None:
            return fmt
    raise HttpError(406, f"Unsupported Accept: {accept}")


def decode_request(content_type: str | None, body: bytes) -> Grid:
    """The request grid of a POST body.  Raises HttpError: 400 without a Content-Type or for
    a body that does not parse as one grid, 415 for an unsupported Content-Type."""
    if not content_type or not content_type.strip():
        raise HttpError(400, "Missing Content-Type")
    media, params = _media(content_type)
    if media == "text/zinc":
        fmt = "zinc"
    else:
        fmt = _json_version(media, params)
        if fmt is None:
            raise HttpError(415, f"Unsupported Content-Type: {content_type}")
    try:
        text = body.decode("utf-8")
        if fmt == "zinc":
            grid = zinc.loads(text)
        elif fmt == "json":
            grid = hjson.loads(text)
        else:
            grid = _v3_grid(_json.loads(text))
    except (ParseError, ValueError, TypeError, KeyError, RecursionError) as exc:
        raise HttpError(400, f"Invalid {fmt} request: {exc}") from None
    if not isinstance(grid, Grid):
        raise HttpError(400, f"The {fmt} request body is not a grid")
    return grid


def query_grid(params: list[tuple[str, str]]) -> Grid:
    """The one-row request grid of a GET query string: each parameter a tag whose value is a
    Zinc scalar or else a Str.  No parameters: the empty grid.  Raises HttpError(400) for a
    parameter name that is no tag name."""
    row: dict[str, Any] = {}
    for name, text in params:
        if name in ("filetype", "format"):
            continue
        if not is_tag_name(name):
            raise HttpError(400, f"Invalid query parameter name: {name!r}")
        try:
            val = zinc.loads(text)
        except (ParseError, ValueError, RecursionError):
            val = text
        if isinstance(val, Grid):
            val = text
        row[name] = val
    if not row:
        return Grid({}, [], [])
    return Grid({}, list(row), [row])


def encode_response(grid: Grid, fmt: str) -> bytes:
    """The body of a response grid in format ``fmt`` (a key of :data:`FORMATS`)."""
    if fmt == "zinc":
        return zinc.dumps_grid(grid).encode()
    if fmt == "json":
        return hjson.dumps(grid).encode()
    if fmt == "json3":
        return _json.dumps(_v3_grid_obj(grid), ensure_ascii=False, separators=(",", ":")).encode()
    if fmt == "trio":
        return trio.dumps(grid.rows).encode() if grid.rows else b""
    return _csv(grid).encode()


# -- CSV -----------------------------------------------------------------------------------------


def _csv_cell(val: Any) -> str:
    if val is None:
        return ""
    if isinstance(val, Marker):
        return "\u2713"
    if isinstance(val, str):
        return val
    if isinstance(val, Ref):
        return f"@{val.id} {val.dis}" if val.dis else f"@{val.id}"
    return zinc.dumps(val)


def _csv(grid: Grid) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    cols = grid.cols
    writer.writerow([str(c.meta.get("dis", c.name)) for c in cols])
    for row in grid.rows:
        writer.writerow([_csv_cell(row.get(c.name)) for c in cols])
    return out.getvalue()


# -- JSON v3 -------------------------------------------------------------------------------------


def _v3(val: Any) -> Any:
    """A Haystack value in JSON v3 form."""
    if val is None or isinstance(val, bool):
        return val
    if isinstance(val, str):
        return f"s:{val}" if len(val) > 1 and val[1] == ":" else val
    if isinstance(val, Number):
        if math.isnan(val.val) or math.isinf(val.val):
            return "n:" + ("NaN" if math.isnan(val.val) else ("INF" if val.val > 0 else "-INF"))
        return "n:" + zinc.dumps(Number(val.val)) + (f" {val.unit}" if val.unit else "")
    if isinstance(val, Marker):
        return "m:"
    if isinstance(val, RemoveType):
        return "-:"
    if isinstance(val, NAType):
        return "z:"
    if isinstance(val, Ref):
        return f"r:{val.id} {val.dis}" if val.dis else f"r:{val.id}"
    if isinstance(val, Symbol):
        return f"y:{val.val}"
    if isinstance(val, Uri):
        return f"u:{val.val}"
    if isinstance(val, datetime):
        return f"t:{zinc.dumps(val)}"
    if isinstance(val, date):
        return f"d:{val.isoformat()}"
    if isinstance(val, time):
        return f"h:{zinc.dumps(val)}"
    if isinstance(val, Coord):
        return f"c:{val.lat},{val.lng}"
    if isinstance(val, XStr):
        return f"x:{val.type}:{val.val}"
    if isinstance(val, Grid):
        return _v3_grid_obj(val)
    if isinstance(val, Mapping):
        return {k: _v3(v) for k, v in val.items() if v is not None}
    if isinstance(val, (list, tuple)):
        return [_v3(v) for v in val]
    return zinc.dumps(val)


def _v3_grid_obj(grid: Grid) -> dict[str, Any]:
    meta = {"ver": "3.0", **{k: _v3(v) for k, v in grid.meta.items() if k != "ver"}}
    cols = [{"name": c.name, **{k: _v3(v) for k, v in c.meta.items()}} for c in grid.cols]
    if not cols:
        cols = [{"name": "empty"}]
    return {"meta": meta, "cols": cols, "rows": [_v3(row) for row in grid.rows]}


def _from_v3(obj: Any) -> Any:
    if obj is None or isinstance(obj, bool):
        return obj
    if isinstance(obj, (int, float)):
        return Number(float(obj))
    if isinstance(obj, list):
        return [_from_v3(v) for v in obj]
    if isinstance(obj, dict):
        if "meta" in obj and "cols" in obj and "rows" in obj:
            return _v3_grid(obj)
        return {k: _from_v3(v) for k, v in obj.items() if v is not None}
    if not isinstance(obj, str):
        raise ValueError(f"not Haystack JSON v3: {obj!r}")
    if len(obj) < 2 or obj[1] != ":":
        return obj
    code, text = obj[0], obj[2:]
    if code == "s":
        return text
    if code == "m":
        return MARKER
    if code == "-":
        return REMOVE
    if code == "z":
        return NA
    if code == "n":
        num, _, unit = text.partition(" ")
        special = {"NaN": math.nan, "INF": math.inf, "-INF": -math.inf}
        return Number(special[num] if num in special else float(num), unit or None)
    if code == "r":
        ref_id, _, dis = text.partition(" ")
        return Ref(ref_id, dis or None)
    if code == "y":
        return Symbol(text)
    if code == "u":
        return Uri(text)
    if code == "d":
        return date.fromisoformat(text)
    if code == "h":
        hh, _, rest = text.partition(":")
        return time.fromisoformat(f"{int(hh):02d}:{rest}")
    if code == "t":
        if " " not in text and text.endswith("Z"):
            return datetime.fromisoformat(text[:-1] + "+00:00").astimezone(timezones.UTC)
        val = zinc.loads(text)
        if not isinstance(val, datetime):
            raise ValueError(f"not a DateTime: {text!r}")
        return val
    if code == "c":
        lat, _, lng = text.partition(",")
        return Coord(float(lat), float(lng))
    if code == "x":
        typ, _, val = text.partition(":")
        return XStr(typ, val)
    raise ValueError(f"unknown JSON v3 type code {code!r}")


def _v3_grid(obj: Any) -> Grid:
    if not isinstance(obj, dict) or not all(k in obj for k in ("meta", "cols", "rows")):
        raise ValueError("a JSON v3 grid needs meta, cols and rows")
    meta = obj["meta"]
    if not isinstance(meta, dict) or meta.get("ver") not in ("2.0", "3.0"):
        raise ValueError('grid meta must hold "ver": "3.0"')
    if not isinstance(obj["cols"], list) or not isinstance(obj["rows"], list):
        raise ValueError("JSON v3 grid cols and rows must be arrays")
    cols = []
    for col in obj["cols"]:
        if not isinstance(col, dict) or not isinstance(col.get("name"), str):
            raise ValueError(f"invalid JSON v3 column {col!r}")
        name = col["name"]
        if not is_tag_name(name):
            raise ValueError(f"invalid column name {name!r}")
        cols.append((name, _from_v3({k: v for k, v in col.items() if k != "name"})))
    rows = [_from_v3(row) for row in obj["rows"]]
    if not all(isinstance(r, dict) for r in rows):
        raise ValueError("JSON v3 grid rows must be objects")
    return Grid(_from_v3({k: v for k, v in meta.items() if k != "ver"}), cols, rows)
