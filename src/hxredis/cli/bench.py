"""``hxredis bench``: the history ingest and read comparison of ``bench/bench_his.py`` against
one server (the embedded one, or ``--uri``), printed as a table.

Each figure is measured against a baseline on the same server in the same run: ``write_many``
against the same commands pre-built and sent from memory (the server's limit), against
redis-py in batches of 10,000 and against one ``ZADD`` round trip per sample (extrapolated);
``read_arrays`` against redis-py plus numpy; a one-day ``his.read`` from a big point against
the same read from a one-day point.  Only the backend the server gives Number points is
measured (``timeseries`` with RedisTimeSeries, else ``zset``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import click
import numpy as np

from ..diff import Diff
from ..folio import Folio
from ..his import wire
from ..his.bulk import CHUNK
from ..his.timeseries import OFFSET_MS
from ..redis_errors import redis_failures
from ..timezones import UTC
from ..values import MARKER, Ref, Span
from .app import Context
from .demo import clear, database

__all__ = ["bench"]

T0 = 1_500_000_000_000
MINUTE = 60_000
BATCH = 10_000  # redis-py baseline batch size
SMALL = 1445  # one day of minutes and the items around it


def sample_arrays(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    ts = T0 + np.arange(n, dtype=np.int64) * MINUTE
    return ts, np.random.default_rng(seed).normal(20.0, 5.0, n)


def make_points(db: Folio, n: int) -> list[Ref]:
    tags = {"point": MARKER, "his": MARKER, "kind": "Number", "tz": "UTC"}
    return [d.new_rec["id"] for d in db.commit_all([Diff.make_add(dict(tags)) for _ in range(n)])]


def drop_history(db: Folio, ids: list[Ref]) -> None:
    keys = [k for i in ids for k in (db._keys.his(i.id), db._keys.his_side(i.id))]
    for k in range(0, len(keys), 1000):
        db.client.delete(*keys[k : k + 1000])


def _best(fn: Callable[[], Any], rounds: int, setup: Callable[[], Any] | None = None) -> float:
    """The best time of ``rounds`` calls of ``fn`` (``setup`` before each, not timed)."""
    best = math.inf
    for _ in range(rounds):
        if setup is not None:
            setup()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def blast(db: Folio, buffers: list[bytes]) -> None:
    """Send pre-built commands on one connection and scan every reply: the server's limit."""
    pool = db.client.connection_pool
    conn = pool.get_connection()
    try:
        conn.connect()
        sock = conn._sock
        for buf in buffers:
            sock.sendall(buf)
        data, pos, n = b"", 0, len(buffers)
        while n:
            end, _ = wire.skip_reply(data, pos)
            if end < 0:
                data, pos = data[pos:] + sock.recv(1 << 20), 0
                continue
            pos, n = end, n - 1
    finally:
        conn.disconnect()
        pool.release(conn)


class _Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []

    def add(self, what: str, hxredis: str, baseline: str, ratio: str) -> None:
        self.rows.append((what, hxredis, baseline, ratio))

    def print(self) -> None:
        head = ("measurement", "hxredis", "baseline", "hxredis is")
        widths = [max(len(r[i]) for r in [head, *self.rows]) for i in range(4)]
        for row in [head, *self.rows]:
            click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _ingest(db: Folio, backend: str, points: int, samples: int, table: _Table) -> list[Ref]:
    ids = make_points(db, points)
    data = {ids[p]: sample_arrays(samples, p) for p in range(points)}
    n = points * samples
    t = _best(lambda: db.his.write_many(data), 2, lambda: drop_history(db, ids))
    what = f"write_many {points} x {samples:,} ({backend})"
    rate = f"{t:.2f} s ({n / t / 1e6:.2f} M/s)"

    # the points' own history keys: every command is byte for byte what write_many sends
    keys = [db._keys.his(pid.id) for pid in ids]
    buffers = []
    for p, key in enumerate(keys):
        ts, vals = data[ids[p]]
        for i in range(0, samples, CHUNK):
            chunk = (key.encode(), ts[i : i + CHUNK], vals[i : i + CHUNK])
            make = wire.ts_madd if backend == "timeseries" else wire.zadd
            buffers.append(make(*chunk, OFFSET_MS if backend == "timeseries" else 0))

    def fresh_keys() -> None:
        db.client.delete(*keys)
        if backend == "timeseries":
            for key in keys:
                db.client.execute_command("TS.CREATE", key, "DUPLICATE_POLICY", "LAST")

    raw = _best(lambda: blast(db, buffers), 2, fresh_keys)
    table.add(what, rate, f"pre-built commands {raw:.2f} s", f"{raw / t:.2f}x the limit")

    def redis_py() -> None:
        for p, key in enumerate(keys):
            ts, vals = data[ids[p]]
            for i in range(0, samples, BATCH):
                pairs = zip(ts[i : i + BATCH].tolist(), vals[i : i + BATCH].tolist(), strict=True)
                if backend == "timeseries":
                    db.client.ts().madd([(key, a, b) for a, b in pairs])
                else:
                    db.client.zadd(key, {f"{a}:{b!r}": a for a, b in pairs})

    py = _best(redis_py, 1, fresh_keys)
    table.add(what, rate, f"redis-py batches {py:.2f} s", f"{py / t:.1f}x faster")
    drop_history(db, ids)
    db.his.write_many(data)  # the points' history again, for the reads

    v1_n = min(20_000, n)
    ts, vals = data[ids[0]]
    start = time.perf_counter()
    for a, b in zip(ts[:v1_n].tolist(), vals[:v1_n].tolist(), strict=True):
        db.client.zadd(f"{db._keys.prefix}:bench:v1", {f"{a}:{b}": a})
    v1 = (time.perf_counter() - start) / v1_n * n
    db.client.delete(f"{db._keys.prefix}:bench:v1")
    table.add(what, rate, f"one ZADD per sample {v1:.0f} s*", f"{v1 / t:.0f}x faster")
    return ids


def _read_arrays(db: Folio, backend: str, pid: Ref, samples: int, table: _Table) -> None:
    reps = 5
    t = _best(lambda: db.his.read_arrays(pid), reps)
    key = db._keys.his(pid.id)

    def redis_py() -> tuple[np.ndarray, np.ndarray]:
        if backend == "timeseries":
            rows = db.client.ts().range(key, "-", "+")
            return (
                np.fromiter((r[0] for r in rows), np.int64, len(rows)) - OFFSET_MS,
                np.fromiter((r[1] for r in rows), np.float64, len(rows)),
            )
        members = [m.split(b":", 1) for m in db.client.zrange(key, 0, -1)]
        return (
            np.fromiter((int(a) for a, _ in members), np.int64, len(members)),
            np.fromiter((float(b) for _, b in members), np.float64, len(members)),
        )

    py = _best(redis_py, reps)
    table.add(
        f"read_arrays of {samples:,} ({backend})",
        f"{t * 1000:.1f} ms",
        f"redis-py + numpy {py * 1000:.1f} ms",
        f"{py / t:.1f}x faster",
    )


def _day_read(db: Folio, backend: str, big: int, table: _Table) -> None:
    big_id, small_id = make_points(db, 2)
    for pid, n in ((big_id, big), (small_id, SMALL)):
        for i in range(0, n, 1_000_000):
            ts, vals = sample_arrays(min(1_000_000, n - i), i)
            db.his.write_arrays(pid, ts + i * MINUTE, vals)
    day0 = datetime.fromtimestamp(T0 / 1000, UTC) + timedelta(minutes=1)
    span = Span(day0, day0 + timedelta(days=1))
    small = _best(lambda: db.his.read(small_id, span), 20)
    t = _best(lambda: db.his.read(big_id, span), 20)
    table.add(
        f"1-day his.read from {big:,} samples ({backend})",
        f"{t * 1000:.2f} ms",
        f"from {SMALL:,} samples {small * 1000:.2f} ms",
        f"{t / small:.2f}x the time",
    )


@click.command()
@click.option("--points", default=10, show_default=True, type=click.IntRange(1, 100_000))
@click.option(
    "--samples",
    default=100_000,
    show_default=True,
    type=click.IntRange(1, 100_000_000),
    help="Per point (the full run: --points 100 --samples 100000 --big 10000000).",
)
@click.option(
    "--big",
    default=1_000_000,
    show_default=True,
    type=click.IntRange(SMALL, 1_000_000_000),
    help="Samples of the big point of the span read.",
)
@click.pass_obj
def bench(ctx: Context, points: int, samples: int, big: int) -> None:
    """Measure history ingest and reads against baselines on the same server and print a
    table.  Uses --uri / $HXREDIS_URI (database "hxredis-bench", emptied first and at the
    end), else an embedded Redis in a temporary directory."""
    with database(ctx, "hxredis-bench") as db:
        with redis_failures(ctx.where):
            version = db.client.info("server")["redis_version"]
            clear(db)
            backend = "timeseries" if db.has_timeseries else "zset"
            click.echo(f"Redis {version}, history in {backend}\n")
            table = _Table()
            ids = _ingest(db, backend, points, samples, table)
            _read_arrays(db, backend, ids[0], samples, table)
            _day_read(db, backend, big, table)
            clear(db)
        table.print()
        click.echo("\n* extrapolated from 20,000 samples (or fewer); best of 2 runs for ingest")
