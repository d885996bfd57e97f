"""The ``hisRead`` and ``hisWrite`` ops and history ranges (http.md §3.8, §3.9)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from .. import zinc
from ..errors import ParseError
from ..folio import Folio
from ..his.point import read_config
from ..his.spans import read_span
from ..timezones import UTC, tz
from ..values import Grid, HisItem, Ref, Span
from . import hisrows
from .grids import OpError

__all__ = ["his_read", "his_write", "parse_range"]


def _midnight(day: date, zone: Any) -> datetime:
    """The first instant of ``day`` in ``zone`` (the first instant after a skipped midnight)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC).astimezone(zone)


def _part(text: str, zone: Any) -> date | datetime:
    text = text.strip()
    if text == "today":
        return datetime.now(zone).date()
    if text == "yesterday":
        return datetime.now(zone).date() - timedelta(days=1)
    try:
        val = zinc.loads(text)
    except (ParseError, ValueError):
        raise OpError(f"Invalid history range: {text!r}") from None
    if isinstance(val, datetime):
        return val.astimezone(zone)
    if isinstance(val, date):
        return val
    raise OpError(f"Invalid history range: {text!r}")


def parse_range(text: Any, zone: Any) -> Span:
    """The [start, end) Span of a hisRead range string in ``zone`` (http.md §3.8).  Raises
    OpError("Invalid history range ...") for anything else.  A Date or DateTime (what a GET
    query string's ``range=2024-03-10`` parses to) stands for its Zinc text."""
    if isinstance(text, (date, datetime)):
        text = zinc.dumps(text)
    if not isinstance(text, str):
        raise OpError(f"Invalid history range: {text!r} (a Str is required)")
    first, comma, second = text.partition(",")
    start = _part(first, zone)
    if comma:
        end = _part(second, zone)
        if isinstance(start, datetime) != isinstance(end, datetime):
            raise OpError(f"Invalid history range: {text!r}")
    else:
        end = start if not isinstance(start, datetime) else datetime.now(zone)
    if start > end:  # type: ignore[operator]  (both dates or both datetimes)
        raise OpError(f"Invalid history range: {text!r} (start after end)")
    if not isinstance(start, datetime):
        start = _midnight(start, zone)
        end = _midnight(end + timedelta(days=1), zone)  # the end date is inclusive
    return Span(start, end)


def _read(db: Folio, ref: Ref, span: Span) -> list[HisItem]:
    """The items of point ``ref`` with ``span.start <= ts < span.end``."""
    lo, hi = span.start, span.end
    return [i for i in db.his.read(ref, span) if lo <= i.ts < hi]


def _id(val: Any) -> Ref:
    if not isinstance(val, Ref):
        raise OpError(f"hisRead needs an id Ref, not {val!r}")
    return val


def his_read(db: Folio, req: Grid, fmt: str | None = None) -> Grid | bytes:
    """The hisRead op: the single form (one row of ``id`` and ``range``) or, when the meta has
    ``range``, the batch form (rows of ``id``; columns ``ts``, ``v0``, ...).  With a reply
    format ``fmt`` that has a fast path (:data:`hisrows.FORMATS`), a single read of a Number
    or Bool point answers the encoded reply body instead of the Grid."""
    if "range" in req.meta:
        return _his_read_batch(db, req)
    if not req.rows:
        raise OpError("Request grid is empty")
    row = req.rows[0]
    ref = _id(row.get("id"))
    rec = db.read_by_id(ref)
    span = parse_range(row.get("range"), read_config(rec).zone)
    meta = {"id": rec["id"], "hisStart": span.start, "hisEnd": span.end}
    cols = [("ts", {}), ("val", {"id": rec["id"]})]
    if fmt in hisrows.FORMATS:
        data = read_span(db.his, ref, span)
        if data is not None:
            return hisrows.encode_his_read(Grid(meta, cols, []), data, fmt)
    return Grid(meta, cols, [{"ts": i.ts, "val": i.val} for i in _read(db, ref, span)])


def _his_read_batch(db: Folio, req: Grid) -> Grid:
    refs = [_id(row.get("id")) for row in req.rows]
    if not refs:
        raise OpError("Request grid is empty")
    tz_meta = req.meta.get("tz")
    zone = tz(tz_meta) if isinstance(tz_meta, str) else read_config(db.read_by_id(refs[0])).zone
    table: dict[datetime, dict[str, Any]] = {}
    cols: list[tuple[str, dict[str, Any]]] = [("ts", {})]
    span = None
    for n, ref in enumerate(refs):
        read_config(db.read_by_id(ref))  # HisConfigError for a record that is no point
        span = parse_range(req.meta["range"], zone)
        items = _read(db, ref, span)
        name = f"v{n}"
        cols.append((name, {"id": db.read_by_id(ref)["id"]}))
        for item in items:
            table.setdefault(item.ts.astimezone(zone), {})[name] = item.val
    rows = [{"ts": ts, **vals} for ts, vals in sorted(table.items())]
    assert span is not None
    return Grid({"hisStart": span.start, "hisEnd": span.end}, cols, rows)


def _items(req: Grid, col: str) -> list[HisItem]:
    items = []
    for row in req.rows:
        val = row.get(col)
        if val is None:
            continue
        ts = row.get("ts")
        if not isinstance(ts, datetime):
            raise OpError(f"hisWrite: ts must be a DateTime, not {ts!r}")
        items.append(HisItem(ts, val))
    return items


def his_write(db: Folio, req: Grid) -> Grid:
    """The hisWrite op: meta ``id`` with columns ``ts``, ``val``; or the batch form with
    columns ``ts``, ``v0``... each carrying an ``id``.  One ``db.his.write`` per point, in
    column order; a failure names the point (points already written stay written)."""
    names = req.col_names
    if not names or names[0] != "ts":
        raise OpError("hisWrite: the first column must be 'ts'")
    if "id" in req.meta:
        writes = [(req.meta["id"], "val")]
        if "val" not in names:
            raise OpError("hisWrite: missing column 'val'")
    else:
        writes = []
        for col in req.cols[1:]:
            if "id" not in col.meta:
                raise OpError(f"hisWrite: column {col.name!r} has no 'id' meta")
            writes.append((col.meta["id"], col.name))
    for ref, col in writes:
        if not isinstance(ref, Ref):
            raise OpError(f"hisWrite: id must be a Ref, not {ref!r}")
        try:
            db.his.write(ref, _items(req, col))
        except OpError:
            raise
        except Exception as exc:
            raise OpError(f"hisWrite @{ref.id}: {exc}") from exc
    return Grid({}, [], [])
