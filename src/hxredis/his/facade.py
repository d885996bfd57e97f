"""``db.his``: point history of a Folio (folio.md §4, architecture.md "History").

The facade checks the point record and the items (:mod:`.point`), turns values into codes
(:mod:`.codes`), routes each point to its backend and runs the ``post_his_write`` hook.

Routing: a point whose data is in Redis keeps that backend (sticky).  A point without
history goes to ``timeseries`` when the server has RedisTimeSeries and the point's kind is
Number or Bool, else to ``zset``.  Every write is one Lua script run: atomic with its
``clear``, ``clear_all`` and removals, against concurrent writers of the same point and
against a concurrent remove of the record (the script checks the record first, so no history
key outlives its record).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..client import as_text
from ..errors import HisConfigError, ReadOnlyError, UnknownRecError
from ..hooks import HisWriteEvent
from ..record import Rec
from ..redis_errors import redis_failures
from ..values import REMOVE, HisItem, Number, Ref, Span
from . import codes
from .backend import Backend, Outcome
from .bulk import BulkPath
from .frame import read_frame
from .migrate import migrate
from .point import PointConfig, ms_datetime, normalize, point_config, read_config, span_ms
from .summary import Summaries
from .timeseries import TimeSeriesBackend
from .zset import ZSetBackend

if TYPE_CHECKING:
    from ..folio import Folio

__all__ = ["History"]

HIS_TAGS = ("hisSize", "hisStart", "hisEnd", "hisStartVal", "hisEndVal")


class History:
    """The history of a Folio's points; reach it as ``db.his``."""

    def __init__(self, folio: Folio) -> None:
        self._folio = folio
        client, keys = folio.client, folio._keys
        self._zset = ZSetBackend(client, keys)
        self._ts = TimeSeriesBackend(client, keys)
        self._backends: dict[str, Backend] = {"timeseries": self._ts, "zset": self._zset}
        self._by_type = {b.redis_type: b for b in self._backends.values()}
        # Redis knows points by their stored ids (relative to the id prefix, hxredis.codec);
        # the Folio by their absolute ids: converted at the edges of this class.
        self._summaries = Summaries(client, keys, self._summaries_changed)
        self._bulk = BulkPath(self)

    # ------------------------------------------------------------------------------------------
    # public API
    # ------------------------------------------------------------------------------------------

    def read(
        self,
        id: Ref | str,
        span: Span | None = None,
        *,
        limit: int | None = None,
        clip_future: bool = False,
    ) -> list[Any]:
        """The samples of point ``id`` as :class:`~hxredis.HisItem` in ascending time, in the
        point's current tz and unit.

        With a ``span``: the samples in it (start inclusive, end exclusive) plus the last one
        before it and up to two after it.  ``limit`` caps the number of items returned (None:
        no cap; <= 0: none); ``clip_future`` drops samples after now.  Raises
        UnknownRecError (missing or trashed record) and HisConfigError (not a history point).
        """
        rec = self._rec(id)
        config = read_config(rec)
        if span is not None and not isinstance(span, Span):
            raise TypeError(f"span must be a hx.Span or None, not {type(span).__name__}")
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int):
                raise TypeError(f"limit must be an int or None, not {type(limit).__name__}")
            if limit <= 0:
                return []
        bounds = span_ms(span) if span is not None else None
        clip = int(time.time() * 1000) if clip_future else None
        key_id = self._key_id(rec)
        outcome = self._run(rec, config, lambda b: b.read(key_id, bounds, limit or 0, clip))
        flat = outcome.data or []
        zone, kind, unit = config.zone, config.kind, config.unit
        items = [
            HisItem(ms_datetime(int(flat[i]), zone), codes.decode(flat[i + 1], kind, unit))
            for i in range(0, len(flat), 2)
        ]
        return items[:limit] if limit is not None else items

    def write(
        self,
        id: Ref | str,
        items: Iterable[Any],
        *,
        clear: Span | None = None,
        clear_all: bool = False,
    ) -> dict[str, Any]:
        """Write samples to point ``id`` in one atomic step; returns ``{"count": Number(n),
        "span": Span(first, last)}`` (``{"count": Number(0)}`` when nothing was written).

        ``items`` are :class:`~hxredis.HisItem` (or ``(ts, val)`` pairs) in the point's tz;
        a value of :data:`~hxredis.REMOVE` deletes the sample at its timestamp.  ``clear``
        removes the samples in a Span and ``clear_all`` every sample, before the items are
        written.  Items are checked and normalized as folio.md §4.3 says: HisConfigError for a
        record that is no history point, HisWriteError for a bad item (nothing is written
        then).  An empty write without clear returns count 0 without any check.
        :class:`~hxredis.ReadOnlyError` for a Folio opened ``read_only``.
        """
        self._check_writable()
        rec = self._rec(id)
        items = list(items)
        if clear is not None and not isinstance(clear, Span):
            raise TypeError(f"clear must be a hx.Span or None, not {type(clear).__name__}")
        if not items and clear is None and not clear_all:
            return {"count": Number(0)}
        config = point_config(rec)
        pairs = normalize(rec, config, items)
        encoded = [(ts, "" if val is REMOVE else codes.encode(val)) for ts, val in pairs]
        clear_ms = span_ms(clear) if clear is not None else None
        key_id = self._key_id(rec)
        self._run(rec, config, lambda b: b.write(key_id, encoded, clear_ms, bool(clear_all)))
        result: dict[str, Any] = {"count": Number(len(pairs))}
        if pairs:
            zone = config.zone
            result["span"] = Span(ms_datetime(pairs[0][0], zone), ms_datetime(pairs[-1][0], zone))
        self._folio._run_hook("post_his_write", HisWriteEvent(rec, result))
        return result

    def write_arrays(self, id: Ref | str, ts: Any, values: Any) -> int:
        """Write numpy arrays to a Number or Bool point: ``ts`` int64 epoch ms or
        ``datetime64``, ``values`` float64 (stored as given) or bool.  Unsorted input is sorted,
        the last of equal timestamps wins; atomic for the point.  The number of samples
        written.  See :mod:`hxredis.his.bulk`."""
        self._check_writable()
        return self._bulk.write_many({id: (ts, values)})

    def write_many(self, data: Mapping[Ref | str, tuple[Any, Any]]) -> int:
        """:meth:`write_arrays` for many points ``{id: (ts, values)}`` in one pipelined
        stream; atomic per point.  The number of samples written."""
        self._check_writable()
        return self._bulk.write_many(data)

    def read_arrays(self, id: Ref | str, span: Span | None = None) -> tuple[Any, Any]:
        """The samples of a Number or Bool point in ``span`` (every sample without one; no
        items around the span) as ``(int64 epoch ms, float64)`` numpy arrays; NA is NaN."""
        return self._bulk.read_arrays(id, span)

    def migrate(self, id_or_ids: Ref | str | Iterable[Ref | str]) -> int:
        """Move the sorted-set history of one point (or of each of several) into
        RedisTimeSeries, atomically per point; the number of samples moved.  Points already
        in TimeSeries, without history, or of kind Str or Coord are left alone.
        HisConfigError when the server has no RedisTimeSeries module."""
        self._check_writable()
        many = id_or_ids if not isinstance(id_or_ids, (Ref, str)) else [id_or_ids]
        return migrate(self, list(many))

    def read_frame(self, ids: Iterable[Ref | str], span: Span | None = None) -> Any:
        """The history of several Number or Bool points as one pandas DataFrame: a float64
        column per point named by its id, a tz-aware index (the first point's tz).  Needs
        the ``pandas`` extra."""
        return read_frame(self, ids, span)

    def backend_of(self, id: Ref | str) -> str:
        """``"timeseries"`` or ``"zset"``: where point ``id``'s history is, or would go."""
        rec = self._rec(id)
        found = self._stored_backend(self._key_id(rec))
        return found.name if found is not None else self._preferred(point_config(rec)).name

    # ------------------------------------------------------------------------------------------
    # routing
    # ------------------------------------------------------------------------------------------

    def _preferred(self, config: PointConfig) -> Backend:
        if config.kind in ("Number", "Bool") and self._folio.has_timeseries:
            return self._ts
        return self._zset

    def _stored_backend(self, rec_id: str) -> Backend | None:
        return self._stored_backends([rec_id]).get(rec_id)

    def _stored_backends(self, rec_ids: Sequence[str]) -> dict[str, Backend]:
        """The backend holding each point's data (points without history left out); one
        round trip."""
        with redis_failures(self._zset.server):
            pipe = self._folio.client.pipeline(transaction=False)
            for rec_id in rec_ids:
                pipe.type(self._folio._keys.his(rec_id))
            kinds = [as_text(k) for k in pipe.execute()]
        found = {}
        for rec_id, kind in zip(rec_ids, kinds, strict=True):
            if kind == "none":
                continue
            backend = self._by_type.get(kind)
            if backend is None:
                raise HisConfigError(None, f"history key of @{rec_id} holds a Redis {kind}")
            found[rec_id] = backend
        return found

    def _run(self, rec: Mapping[str, Any], config: PointConfig, call: Any) -> Outcome:
        """Run ``call(backend)`` on the preferred backend, then on the one holding the data
        if the script says so; apply a write's summary."""
        backend = self._preferred(config)
        for _attempt in range(3):
            outcome: Outcome = call(backend)
            if outcome.status == "ok":
                if not isinstance(outcome.data, list):
                    self._summary(self._key_id(rec), outcome.data)
                return outcome
            if outcome.status == "gone":
                raise UnknownRecError(f"@{rec['id'].id}")
            other = self._by_type.get(outcome.data)
            if other is None:
                raise HisConfigError(rec, f"history key holds a Redis {outcome.data}")
            backend = other
        raise HisConfigError(rec, "history keeps moving between backends; try again")

    # ------------------------------------------------------------------------------------------
    # summaries: the his* tags of point records
    # ------------------------------------------------------------------------------------------

    def _check_writable(self) -> None:
        self._folio._check_write()
        if self._folio.read_only:
            raise ReadOnlyError(
                f"Cannot write history, folio {self._folio.name!r} was opened with read_only=True"
            )

    def _key_id(self, rec: Mapping[str, Any]) -> str:
        """The id Redis knows point ``rec`` by (its history keys, summaries, his-gc)."""
        return self._folio._stored_id(rec["id"].id)

    def _summary(self, key_id: str, summary: Any) -> None:
        if self._summaries.apply(key_id, summary):
            self._summaries_changed([key_id])

    def _summaries_changed(self, key_ids: Sequence[str]) -> None:
        self._folio._his_changed([self._folio._absolute_id(k) for k in key_ids])

    def tags(self, rec_id: str, rec: Mapping[str, Any]) -> dict[str, Any]:
        """The ``his*`` tags record ``rec`` (absolute id ``rec_id``) shows: ``hisSize``,
        ``hisStart``, ``hisEnd``, ``hisStartVal``, ``hisEndVal`` in its current tz and unit;
        {} without history."""
        summary = self._summaries.get(self._folio._stored_id(rec_id))
        if summary is None:
            return {}
        try:
            config = read_config(rec)
        except HisConfigError:
            return {"hisSize": Number(summary.size)}
        zone, kind, unit = config.zone, config.kind, config.unit
        return {
            "hisSize": Number(summary.size),
            "hisStart": ms_datetime(summary.start, zone),
            "hisEnd": ms_datetime(summary.end, zone),
            "hisStartVal": codes.decode(summary.start_code, kind, unit),
            "hisEndVal": codes.decode(summary.end_code, kind, unit),
        }

    def point_ids(self) -> list[str]:
        """The (absolute) ids of the points this process knows to have history."""
        return [self._folio._absolute_id(k) for k in self._summaries.ids()]

    def load_summaries(self) -> None:
        """Read every point's summary (at open and after a reload of the records)."""
        self._summaries.load()

    def start(self) -> None:
        """Follow other processes' history writes in the background."""
        self._summaries.start()

    def sync(self) -> None:
        """Apply every other process's history write made so far."""
        self._summaries.sync()

    def forget(self, rec_id: str) -> None:
        """A record (absolute id) was removed: drop its summary."""
        self._summaries.forget(self._folio._stored_id(rec_id))

    def close(self) -> None:
        """Stop following."""
        self._summaries.close()

    # ------------------------------------------------------------------------------------------

    def _rec(self, id: Ref | str) -> Rec:
        rec = self._folio.read_by_id(id)
        assert rec is not None
        return rec
