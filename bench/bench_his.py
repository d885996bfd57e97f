"""History benchmarks: bulk ingest and reads, each against a baseline measured in the same run
on the same server (ratios in the report at the end of ``make bench``).

Scale: ``HXREDIS_BENCH_HIS_POINTS`` x ``HXREDIS_BENCH_HIS_SAMPLES`` (default 100 x 100,000,
the figures the issue asks for) and ``HXREDIS_BENCH_HIS_BIG`` samples in the one big point of
the span-read benchmark (default 10,000,000).
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import datetime, timedelta

import numpy as np
import pytest

import hxredis as hx
from hxredis.cli.bench import T0, blast, drop_history, make_points, sample_arrays
from hxredis.his import wire
from hxredis.his.bulk import CHUNK
from hxredis.his.timeseries import OFFSET_MS
from hxredis.resp import pack_command

POINTS = int(os.environ.get("HXREDIS_BENCH_HIS_POINTS", 100))
SAMPLES = int(os.environ.get("HXREDIS_BENCH_HIS_SAMPLES", 100_000))
BIG = int(os.environ.get("HXREDIS_BENCH_HIS_BIG", 10_000_000))
GOALS = {"timeseries": "0.9x", "zset": "0.8x"}
SMALL = 1445  # one day of minutes and the items around it
V1_SAMPLES = 20_000  # one ZADD round trip per sample, measured on this many and extrapolated


def _memory(client) -> int:
    return int(client.info("memory")["used_memory"])


def _server_usec(client, command: str) -> tuple[int, int]:
    stats = client.info("commandstats").get(f"cmdstat_{command}", {})
    return int(stats.get("calls", 0)), int(stats.get("usec", 0))


@pytest.fixture(scope="module")
def data() -> dict[int, tuple[np.ndarray, np.ndarray]]:
    return {p: sample_arrays(SAMPLES, p) for p in range(POINTS)}


@pytest.mark.parametrize("backend", ["timeseries", "zset"])
def test_write_many(benchmark, stack_server, plain_server, data, report, backend) -> None:
    server = stack_server if backend == "timeseries" else plain_server
    n = POINTS * SAMPLES
    with hx.open(server.url, name=f"bench-his-{backend}", follow=False) as db:
        ids = make_points(db, POINTS)
        assert db.his.backend_of(ids[0]) == backend
        payload = {ids[p]: data[p] for p in range(POINTS)}
        before = _memory(db.client)
        benchmark.pedantic(
            db.his.write_many,
            args=(payload,),
            setup=lambda: drop_history(db, ids),
            rounds=2,
            iterations=1,
            warmup_rounds=1,  # what the previous test left running on the machine settles
        )
        per_sample = (_memory(db.client) - before) / n
        t = report.median(benchmark)

        # (a) the server's limit: the same commands pre-built, sent from memory; and the same
        # again with each point's commands in one MULTI ... EXEC (write_many's atomicity unit)
        # (the points' own history keys: every command is byte for byte what write_many sends)
        keys = [db._keys.his(ids[p].id) for p in range(POINTS)]
        points = []
        for p, key in enumerate(keys):
            ts, vals = data[p]
            commands = []
            for i in range(0, SAMPLES, CHUNK):
                chunk = (key.encode(), ts[i : i + CHUNK], vals[i : i + CHUNK])
                if backend == "timeseries":
                    commands.append(wire.ts_madd(*chunk, OFFSET_MS))
                else:
                    commands.append(wire.zadd(*chunk, 0))
            points.append(commands)
        bare = [command for commands in points for command in commands]
        atomic = [pack_command("MULTI") + b"".join(c) + pack_command("EXEC") for c in points]
        drop_history(db, ids)  # the same memory state as write_many started from
        times: dict[str, list[float]] = {"bare": [], "atomic": []}
        for _round in range(2):  # the median of two, as for write_many
            for kind, buffers in (("bare", bare), ("atomic", atomic)):
                db.client.delete(*keys)
                if backend == "timeseries":
                    for key in keys:
                        db.client.execute_command("TS.CREATE", key, "DUPLICATE_POLICY", "LAST")
                start = time.perf_counter()
                blast(db, buffers)
                times[kind].append(time.perf_counter() - start)
        drop_history(db, ids)
        raw, raw_atomic = statistics.median(times["bare"]), statistics.median(times["atomic"])
        line = (
            f"write_many {POINTS} points x {SAMPLES:,} samples into {backend}: {t:.2f} s = "
            f"{n / t / 1e6:.2f} M samples/s; pre-built buffers from memory {raw:.2f} s, "
            f"write_many/limit = {raw / t:.2f}x (goal {GOALS[backend]}); the same buffers in "
            f"one MULTI/EXEC per point {raw_atomic:.2f} s, write_many/that = "
            f"{raw_atomic / t:.2f}x; memory {per_sample:.1f} bytes/sample"
        )
        if backend == "timeseries":
            line += _redis_py_and_v1(db, keys, data, t, n)
        report.add(line)


def _redis_py_and_v1(db: hx.Folio, keys: list[str], data, t: float, n: int) -> str:
    """(b) redis-py ts().madd in batches of 10,000 (numpy to tuples included) into ``keys``;
    (c) v1.0: one ZADD round trip per sample, timed on a sample and extrapolated."""
    client = db.client
    for key in keys:
        client.execute_command("TS.CREATE", key, "DUPLICATE_POLICY", "LAST")
    start = time.perf_counter()
    for p, key in enumerate(keys):
        ts, vals = data[p]
        for i in range(0, SAMPLES, 10_000):
            batch = [
                (key, int(a), float(b))
                for a, b in zip(
                    ts[i : i + 10_000].tolist(), vals[i : i + 10_000].tolist(), strict=True
                )
            ]
            client.ts().madd(batch)
    redis_py = time.perf_counter() - start
    client.delete(*keys)
    ts, vals = data[0]
    start = time.perf_counter()
    for a, b in zip(ts[:V1_SAMPLES].tolist(), vals[:V1_SAMPLES].tolist(), strict=True):
        client.zadd("bench-his-v1", {f"{a}:{b}": a})
    v1 = (time.perf_counter() - start) / V1_SAMPLES * n
    client.delete("bench-his-v1")
    return (
        f"; redis-py ts().madd batches of 10,000 {redis_py:.2f} s, "
        f"speed-up {redis_py / t:.1f}x (goal 1.3x); v1.0 one ZADD per round trip "
        f"{v1:.0f} s (extrapolated from {V1_SAMPLES:,}), speed-up {v1 / t:.0f}x (goal 10x)"
    )


def test_read_arrays_100k(benchmark, stack_server, report) -> None:
    with hx.open(stack_server.url, name="bench-his-read", follow=False) as db:
        (pid,) = make_points(db, 1)
        ts, vals = sample_arrays(100_000)
        db.his.write_arrays(pid, ts, vals)
        before = _server_usec(db.client, "ts.range")
        got = benchmark(db.his.read_arrays, pid)
        after = _server_usec(db.client, "ts.range")
        assert np.array_equal(got[0], ts)
        t = report.median(benchmark)
        server = (after[1] - before[1]) / max(after[0] - before[0], 1) / 1e6
        key = db._keys.his(pid.id)

        def redis_py() -> tuple[np.ndarray, np.ndarray]:
            rows = db.client.ts().range(key, "-", "+")
            return (
                np.fromiter((r[0] for r in rows), np.int64, len(rows)) - OFFSET_MS,
                np.fromiter((r[1] for r in rows), np.float64, len(rows)),
            )

        start = time.perf_counter()
        for _ in range(5):
            ref = redis_py()
        py = (time.perf_counter() - start) / 5
        assert np.array_equal(ref[1], got[1])
        report.add(
            f"read_arrays of 100,000 samples (timeseries): {t * 1000:.1f} ms; redis-py "
            f"ts().range + numpy {py * 1000:.1f} ms, speed-up {py / t:.1f}x (goal 5x); "
            f"server time of TS.RANGE {server * 1000:.1f} ms = {server / t:.0%} of read_arrays"
        )
        drop_history(db, [pid])


@pytest.mark.parametrize("backend", ["timeseries", "zset"])
def test_day_read_from_a_big_point(benchmark, stack_server, plain_server, report, backend) -> None:
    server = stack_server if backend == "timeseries" else plain_server
    with hx.open(server.url, name=f"bench-his-big-{backend}", follow=False) as db:
        big, small = make_points(db, 2)
        for pid, n in ((big, BIG), (small, SMALL)):
            for i in range(0, n, 1_000_000):
                ts, vals = sample_arrays(min(1_000_000, n - i), i)
                db.his.write_arrays(pid, ts + i * 60_000, vals)
        before = _memory(db.client)
        day0 = datetime.fromtimestamp(T0 / 1000, hx.UTC) + timedelta(minutes=1)
        span = hx.Span(day0, day0 + timedelta(days=1))
        start = time.perf_counter()
        for _ in range(20):
            small_items = db.his.read(small, span)
        small_t = (time.perf_counter() - start) / 20
        items = benchmark(db.his.read, big, span)
        assert len(items) == len(small_items) == 1440 + 3
        t = report.median(benchmark)
        report.add(
            f"1-day span read (1,443 items) from a {BIG:,}-sample point ({backend}): "
            f"{t * 1000:.2f} ms; from a {SMALL:,}-sample point {small_t * 1000:.2f} ms "
            f"(ratio {t / small_t:.2f}x); Redis used_memory {before / 1e6:,.0f} MB"
        )
        drop_history(db, [big, small])
