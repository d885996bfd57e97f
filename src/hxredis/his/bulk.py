"""The numpy bulk path: ``write_arrays``, ``write_many``, ``read_arrays``.

Input is checked and normalized with numpy, never sample by sample in Python: timestamps
(int64 epoch ms or any ``datetime64``) are floored to the point's precision, sorted (stable)
and de-duplicated (the last of equal timestamps wins); timestamps before 1950 (in the point's
tz) are refused.  Values are float64 (or bool) and stored as given: the raw path does not
round through float32 as ``his.write`` does.  Only Number and Bool points take arrays.

Commands are built by :mod:`.wire` (native: ``hxredis._fastcore.hisbuf``) in chunks of
:data:`CHUNK` samples and sent over one connection while the server works: the commands of
point *i* go out before the replies of point *i - 1* are read, and replies are scanned in
place, never turned into Python objects per sample.

**Atomicity unit: one point.**  Each point's samples are one ``MULTI`` ... ``EXEC``: a
``prepare`` script (creates the history, drops entries at the written timestamps that the
bulk commands would not replace), the ``TS.MADD`` or ``ZADD`` chunks and a ``finish`` script
(publishes the summary; if the record was removed meanwhile it deletes the history, so no
orphan keys).  Other processes see all of a point's samples or none; a ``write_many`` that
fails part-way has written the points before the failing one.
"""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..client import as_text
from ..errors import ConnectionError, HisConfigError, HisWriteError, ServerError, UnknownRecError
from ..hooks import HisWriteEvent
from ..redis_errors import redis_failures
from ..resp import pack_command
from ..values import Number, Ref, Span
from . import wire
from .backend import Backend, Summary
from .point import PointConfig, epoch_ms, ms_datetime, point_config, read_config, span_ms
from .timeseries import OFFSET_MS

if TYPE_CHECKING:
    from .facade import History

__all__ = ["CHUNK", "BulkPath"]

CHUNK = 2_000
"""Samples per TS.MADD / ZADD command (queued in a point's MULTI, smaller commands cost the
server a little less than 10,000-sample ones)."""

_AHEAD = 2
"""Points built ahead of the one on the wire; as many wait for their reply."""

_RECV = 1 << 22
_SAMPLE_SECONDS = 20e-6
"""Reply time allowed per sample of a transaction, on top of the socket timeout (a point of
millions of samples is one EXEC, which may take longer than redis-py's default 5 s)."""


class _Raw:
    """One pooled connection used for raw RESP: send bytes, scan replies in place."""

    def __init__(self, client: Any, server: str) -> None:
        self._pool = client.connection_pool
        self._server = server
        with redis_failures(server):
            self.conn = self._pool.get_connection()
        self._data = b""
        self._pos = 0
        self._scanner = wire.ReplyScanner()
        self._broken = False
        try:
            with redis_failures(server):
                self.conn.connect()
        except BaseException:
            self.conn.disconnect()
            self._pool.release(self.conn)
            raise
        self._timeout = self.conn._sock.gettimeout()

    def allow(self, samples: int) -> None:
        """Let the next replies take the socket timeout plus a share per sample."""
        if self._timeout is not None:
            self.conn._sock.settimeout(self._timeout + samples * _SAMPLE_SECONDS)

    def send(self, data: bytes | list[bytes]) -> None:
        """Send ``data`` (or each of a list of buffers in turn, without joining them)."""
        with self._failures():
            for part in data if isinstance(data, list) else [data]:
                self.conn._sock.sendall(part)

    def reply(self) -> tuple[bytes, int, int, list[str]]:
        """The next reply: ``(buffer, start, end, errors in it)``.

        Each received piece is scanned once, and a reply that came in several pieces is
        joined once, when it is complete."""
        scanner = self._scanner
        scanner.reset()
        data, start = self._data, self._pos
        pieces: list[bytes] = []
        end = scanner.feed(data, start)
        while end < 0:
            pieces.append(data[start:] if not pieces else data)
            with self._failures():
                data = self.conn._sock.recv(_RECV)
            if not data:
                self._broken = True
                raise ConnectionError(f"Redis at {self._server} closed the connection")
            end = scanner.feed(data, 0)
        if pieces:
            end += sum(map(len, pieces))
            data, start = b"".join([*pieces, data]), 0
        self._data, self._pos = data, end
        return data, start, end, scanner.errors

    @contextmanager
    def _failures(self) -> Iterator[None]:
        """Socket failures as hxredis ConnectionError; the connection is not reused."""
        try:
            yield
        except OSError as exc:
            self._broken = True
            raise ConnectionError(
                f"lost Redis at {self._server} during a bulk history transfer ({exc}); "
                "points whose reply was not read may or may not be written"
            ) from exc

    def shut(self) -> None:
        """Shut the socket down both ways: blocked sends and receives end at once."""
        self._broken = True
        if self.conn._sock is not None:
            with contextlib.suppress(OSError):
                self.conn._sock.shutdown(socket.SHUT_RDWR)

    def close(self, failed: bool) -> None:
        if self.conn._sock is not None:
            self.conn._sock.settimeout(self._timeout)
        if failed or self._broken or self._pos != len(self._data):
            self.conn.disconnect()  # replies may still be on their way
        self._pool.release(self.conn)


class _Sender:
    """Sends each point's commands from a thread of its own, so that the next points are built
    while the last one is on the wire and the server never waits for the builder.  At most
    ``_AHEAD`` built points wait in its queue."""

    def __init__(self, raw: _Raw) -> None:
        self._raw = raw
        self._queue: queue.Queue[list[bytes] | None] = queue.Queue(maxsize=_AHEAD)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="hxredis-his-send", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (parts := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._raw.send(parts)
                except BaseException as exc:  # reported by send() and close()
                    self._error = exc
                    self._raw.shut()  # a receive waiting for these replies ends now

    @property
    def error(self) -> BaseException | None:
        """What the sending thread failed with, if it did."""
        return self._error

    def send(self, parts: list[bytes]) -> None:
        """Queue one point's commands; the sending thread's failure, if it had one."""
        if self._error is not None:
            raise self._error
        self._queue.put(parts)

    def close(self) -> None:
        """Wait until everything queued was sent; the sending thread's failure, if any."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def abort(self) -> None:
        """Stop sending now (after a failure): the socket is shut so that a blocked send
        ends, and the thread is gone before the connection goes back to its pool."""
        self._error = self._error or ConnectionError("bulk history transfer aborted")
        self._raw.shut()
        while self._thread.is_alive():
            try:
                self._queue.put(None, timeout=0.05)
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self._queue.get_nowait()
        self._thread.join()


class BulkPath:
    """The bulk methods of ``db.his`` (see the module docstring)."""

    def __init__(self, his: History) -> None:
        self._his = his

    # ------------------------------------------------------------------------------------------
    # writes
    # ------------------------------------------------------------------------------------------

    def write_many(self, data: Mapping[Ref | str, tuple[Any, Any]]) -> int:
        """Write ``{id: (ts, values)}``; the number of samples written (see the module
        docstring for the atomicity unit).  Every point is checked before anything is sent."""
        his = self._his
        his._folio._check_write()
        if not isinstance(data, Mapping):
            raise TypeError(f"write_many takes a mapping of id -> (ts, values), not {data!r}")
        jobs = []
        for id, arrays in data.items():
            rec = his._rec(id)
            config = point_config(rec)
            if config.kind not in ("Number", "Bool"):
                raise HisConfigError(
                    rec, f"Bulk history writes take Number and Bool points, not {config.kind}"
                )
            if not isinstance(arrays, (tuple, list)) or len(arrays) != 2:
                raise TypeError(f"write_many values must be (ts, values) pairs, not {arrays!r}")
            ts, vals = _normalize(rec, config, *arrays)
            if len(ts):
                jobs.append((rec, config, ts, vals))
        if not jobs:
            return 0
        backends = his._stored_backends([his._key_id(j[0]) for j in jobs])
        total = 0
        pending: list[tuple[Any, ...]] = []
        written: list[tuple[tuple[Any, ...], int]] = []  # (job, samples written)
        failures: list[BaseException] = []
        shas: dict[str, str] = {}  # backend name -> its script, loaded once per call
        raw = _Raw(his._folio.client, his._zset.server)
        raw.allow((_AHEAD + 2) * max(len(job[2]) for job in jobs))  # points in flight
        sender = _Sender(raw)
        failed = True
        try:
            for rec, config, ts, vals in jobs:
                backend = backends.get(his._key_id(rec)) or his._preferred(config)
                if backend.name not in shas:
                    shas[backend.name] = backend.sha()
                sha = shas[backend.name]
                sender.send(self._commands(backend, his._key_id(rec), ts, vals, sha))
                pending.append((rec, config, ts, vals, backend))
                if len(pending) > _AHEAD:
                    written.append((pending[0], self._finish(raw, pending.pop(0), failures)))
            while pending:
                written.append((pending[0], self._finish(raw, pending.pop(0), failures)))
            sender.close()
            failed = False
        except ConnectionError:
            if sender.error is None:
                raise
            raise sender.error from None  # the send failed first: that is the news
        finally:
            if failed:
                sender.abort()
            raw.close(failed)
        for (rec, config, ts, *_), count in written:
            if count:
                total += count
                self._his._folio._run_hook(
                    "post_his_write", HisWriteEvent(rec, _result(ts, config))
                )
        if failures:
            raise failures[0]
        return total

    def _commands(self, backend: Backend, rec_id: str, ts: Any, vals: Any, sha: str) -> list[bytes]:
        keys = backend.key_args(rec_id)
        parts = [
            pack_command("MULTI"),
            pack_command("EVALSHA", sha, len(keys), *keys, rec_id, "prepare", stamps_arg(ts)),
        ]
        main = keys[0].encode()
        if backend.name == "timeseries":
            for i in range(0, len(ts), CHUNK):
                parts.append(wire.ts_madd(main, ts[i : i + CHUNK], vals[i : i + CHUNK], OFFSET_MS))
            special = ~np.isfinite(vals)
            if special.any():
                side = keys[1].encode()
                parts.append(wire.zadd(side, ts[special], vals[special], OFFSET_MS))
        else:
            for i in range(0, len(ts), CHUNK):
                parts.append(wire.zadd(main, ts[i : i + CHUNK], vals[i : i + CHUNK], 0))
        parts.append(pack_command("EVALSHA", sha, len(keys), *keys, rec_id, "finish"))
        parts.append(pack_command("EXEC"))
        return parts

    def _finish(self, raw: _Raw, job: tuple[Any, ...], failures: list[BaseException]) -> int:
        """Read one point's replies; its sample count, or 0 with the failure noted."""
        rec, config, ts, vals, backend = job
        queued = (
            2
            + _chunks(len(ts))
            + (1 if backend.name == "timeseries" and not np.isfinite(vals).all() else 0)
        )
        errors: list[str] = []
        for _ in range(queued + 1):  # MULTI and the queued commands
            errors += raw.reply()[3]
        data, start, _, exec_errors = raw.reply()
        if errors:
            failures.append(
                ServerError(f"bulk history write of @{rec['id'].id} refused: {errors[0]}")
            )
            return 0
        first, last = _exec_ends(data, start)
        prepared = _small(data, first)
        finished = _small(data, last)
        status = as_text(finished[0]) if isinstance(finished, list) else ""
        if isinstance(prepared, list) and as_text(prepared[0]) == "backend":
            other = self._his._by_type[as_text(prepared[1])]
            return self._retry(rec, config, ts, vals, other, failures)
        if status == "gone":
            failures.append(UnknownRecError(f"@{rec['id'].id}"))
            return 0
        if exec_errors or status != "ok":
            why = (exec_errors or [finished])[0]
            failures.append(ServerError(f"bulk history write of @{rec['id'].id} failed: {why}"))
            return 0
        self._his._summary(self._his._key_id(rec), Summary.parse(finished[1]))
        return len(ts)

    def _retry(
        self,
        rec: Any,
        config: PointConfig,
        ts: Any,
        vals: Any,
        backend: Backend,
        failures: list[BaseException],
    ) -> int:
        raw = _Raw(self._his._folio.client, backend.server)
        raw.allow(len(ts))
        failed = True
        try:
            raw.send(self._commands(backend, self._his._key_id(rec), ts, vals, backend.sha()))
            count = self._finish(raw, (rec, config, ts, vals, backend), failures)
            failed = False
            return count
        finally:
            raw.close(failed)

    # ------------------------------------------------------------------------------------------
    # reads
    # ------------------------------------------------------------------------------------------

    def read_arrays(
        self, id: Ref | str, span: Any = None
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """The samples of a Number or Bool point in ``span`` (all without one; no padding) as
        ``(int64 epoch ms, float64)``; NA reads as NaN, Bool as 1.0 / 0.0."""
        his = self._his
        rec = his._rec(id)
        config = read_config(rec)
        if config.kind not in ("Number", "Bool"):
            raise HisConfigError(
                rec, f"read_arrays takes Number and Bool points, not {config.kind}"
            )
        if span is not None and not isinstance(span, Span):
            raise TypeError(f"span must be a hx.Span or None, not {type(span).__name__}")
        lo, hi = span_ms(span) if span is not None else (None, None)
        rec_id = his._key_id(rec)
        backend = his._stored_backends([rec_id]).get(rec_id)
        if backend is None:
            return np.empty(0, np.int64), np.empty(0, np.float64)
        keys = backend.key_args(rec_id)
        raw = _Raw(his._folio.client, backend.server)
        summary = his._summaries.get(rec_id)
        raw.allow(summary.size if summary is not None else 0)
        failed = True
        try:
            if backend.name == "timeseries":
                start = "-" if lo is None else max(lo + OFFSET_MS, 0)
                stop = "+" if hi is None else hi + OFFSET_MS
                if hi is not None and hi + OFFSET_MS < 0:
                    failed = False
                    return np.empty(0, np.int64), np.empty(0, np.float64)
                zlo = "-inf" if lo is None else start
                zhi = "+inf" if hi is None else stop
                raw.send(
                    pack_command("MULTI")
                    + pack_command("TS.RANGE", keys[0], start, stop)
                    + pack_command("ZRANGEBYSCORE", keys[1], zlo, zhi)
                    + pack_command("EXEC")
                )
                errors = []
                for _ in range(3):
                    errors += raw.reply()[3]
                data, pos, _, exec_errors = raw.reply()
                if errors or exec_errors:
                    raise ServerError(
                        f"history read of @{rec_id} failed: {(errors or exec_errors)[0]}"
                    )
                pos = data.index(b"\r\n", pos) + 2  # the EXEC array header
                ts, vals, pos = wire.parse_ts_range(data, pos, OFFSET_MS)
                side_ts, side_vals, _ = wire.parse_members(data, pos)
                if len(side_ts):
                    at = np.searchsorted(ts, side_ts - OFFSET_MS)
                    vals[at] = side_vals
            else:
                zlo = "-inf" if lo is None else lo
                zhi = "+inf" if hi is None else hi
                raw.send(pack_command("ZRANGEBYSCORE", keys[0], zlo, zhi))
                data, pos, _, errors = raw.reply()
                if errors:
                    raise ServerError(f"history read of @{rec_id} failed: {errors[0]}")
                ts, vals, _ = wire.parse_members(data, pos)
            failed = False
        finally:
            raw.close(failed)
        return ts, vals


def _result(ts: npt.NDArray[np.int64], config: PointConfig) -> dict[str, Any]:
    """What ``post_his_write`` gets for a bulk write, as for ``his.write``."""
    first, last = (ms_datetime(int(t), config.zone) for t in (ts[0], ts[-1]))
    return {"count": Number(len(ts)), "span": Span(first, last)}


def stamps_arg(ts: npt.NDArray[np.int64]) -> bytes:
    """The ``prepare`` script's argument for strictly increasing ``ts``: ``r`` and runs of
    (start, step, count) when that is shorter (regular data: one run), else ``s`` and each
    timestamp; int64 little-endian."""
    if len(ts) > 1:
        step = np.diff(ts)
        starts = np.concatenate(([0], np.flatnonzero(step[1:] != step[:-1]) + 1))
        if 3 * len(starts) < len(ts):
            counts = np.diff(np.append(starts, len(ts)))
            return (
                b"r" + np.stack([ts[starts], step[starts], counts], axis=1).astype("<i8").tobytes()
            )
    return b"s" + ts.astype("<i8").tobytes()


def _chunks(n: int) -> int:
    return (n + CHUNK - 1) // CHUNK


def _exec_ends(data: bytes, start: int) -> tuple[int, int]:
    """Positions of the first and the last element of the EXEC array at ``start``."""
    eol = data.index(b"\r\n", start)
    count = int(data[start + 1 : eol])
    pos = first = eol + 2
    last = pos
    for _ in range(count):
        last = pos
        pos = wire.skip_reply(data, pos)[0]
    return first, last


def _small(data: bytes, pos: int) -> Any:
    """A short reply (a script's) as Python values."""
    eol = data.index(b"\r\n", pos)
    kind, head = data[pos : pos + 1], data[pos + 1 : eol]
    if kind in (b"+", b"-", b","):
        return head
    if kind == b"_":
        return None
    if kind == b":":
        return int(head)
    if kind == b"$":
        n = int(head)
        return None if n < 0 else data[eol + 2 : eol + 2 + n]
    items = []
    pos = eol + 2
    for _ in range(int(head)):
        items.append(_small(data, pos))
        pos = wire.skip_reply(data, pos)[0]
    return items


def _normalize(
    rec: Mapping[str, Any], config: PointConfig, ts: Any, values: Any
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Checked, floored, sorted, de-duplicated (last wins) ``(ts, values)``."""
    ms = _epoch_ms(np.asarray(ts))
    vals = np.asarray(values)
    if ms.ndim != 1 or vals.ndim != 1 or len(ms) != len(vals):
        raise ValueError(
            f"ts and values must be 1-D arrays of one length, not {ms.shape} and {vals.shape}"
        )
    if vals.dtype == np.bool_:
        if config.kind != "Bool":
            raise HisWriteError(
                rec, f'Mismatched value type, rec kind "{config.kind}" != item type "Bool"'
            )
        vals = vals.astype(np.float64)
    elif vals.dtype.kind in "iuf":
        vals = vals.astype(np.float64, copy=False)
        if config.kind == "Bool" and not np.isin(vals, (0.0, 1.0)).all():
            raise HisWriteError(rec, "Bool point takes bool values (or 0 and 1)")
    else:
        raise TypeError(f"values must be a float or bool array, not {vals.dtype}")
    if len(ms) == 0:
        return ms, vals
    floor = epoch_ms(datetime(1950, 1, 1, tzinfo=config.zone))
    if ms.min() < floor:
        bad = int(ms[ms < floor][0])
        raise HisWriteError(rec, f"Timestamps before 1950 not supported: {bad} ms")
    p = config.precision_ms
    if p != 1:
        ms = ms // p * p
    if (ms[1:] > ms[:-1]).all():  # strictly increasing already: nothing to sort or drop
        return np.ascontiguousarray(ms), np.ascontiguousarray(vals)
    order = np.argsort(ms, kind="stable")
    ms, vals = ms[order], vals[order]
    keep = np.ones(len(ms), dtype=bool)
    keep[:-1] = ms[1:] != ms[:-1]
    return np.ascontiguousarray(ms[keep]), np.ascontiguousarray(vals[keep])


_PER_MS = {
    "ms": (1, 1),
    "s": (1000, 1),
    "m": (60_000, 1),
    "h": (3_600_000, 1),
    "D": (86_400_000, 1),
    "us": (1, 1000),
    "ns": (1, 1_000_000),
}


def _epoch_ms(ts: np.ndarray) -> npt.NDArray[np.int64]:
    if ts.dtype.kind == "M":
        unit, count = np.datetime_data(ts.dtype)
        if unit not in _PER_MS:
            raise TypeError(f"unsupported datetime64 unit {unit!r}")
        if np.isnat(ts).any():
            raise ValueError("ts contains NaT")
        mul, div = _PER_MS[unit]
        raw = ts.view(np.int64)
        return raw * (mul * count) if div == 1 else raw * count // div
    if ts.dtype.kind in "iu":
        return ts.astype(np.int64, copy=False)
    raise TypeError(f"ts must be int64 epoch ms or datetime64, not {ts.dtype}")
