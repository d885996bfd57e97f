"""Folio benchmarks: cold open, commits, the v1.0 query benchmark, selective queries.

Each figure comes with a baseline measured in the same run; see the ratio report at the
end of ``make bench``.
"""

from __future__ import annotations

import time

import pytest
from building import add_diffs, building_model, v1_dataset

import hxredis as hx

V1_FILTERS = ["id", "site", "equip", "point"]
V1_JVM_MS = 0.228
V1_PYTHON_MS = 21.96
N_POINTS = 100_000


def _fill(url: str, name: str, recs) -> None:
    with hx.open(url, name=name, follow=False) as db:
        diffs = add_diffs(recs)
        for i in range(0, len(diffs), 1000):
            db.commit_all(diffs[i : i + 1000])


@pytest.fixture(scope="module")
def big_db_name(plain_server) -> str:
    name = "bench-100k"
    _fill(plain_server.url, name, building_model(N_POINTS))
    return name


def test_cold_open_100k(benchmark, plain_server, big_db_name, report) -> None:
    client = plain_server.client()
    key = f"hx:{{{big_db_name}}}:recs"
    n = client.hlen(key)

    def raw_scan() -> int:
        return sum(len(items) for _, items in _hscan_all(client, key))

    opened: list[hx.Folio] = []

    def cold_open() -> int:
        db = hx.open(plain_server.url, name=big_db_name, follow=False)
        opened.append(db)
        return db.read_count("id")

    def close() -> None:  # closing and freeing the cache is not part of opening
        opened.pop().close()

    start = time.perf_counter()
    assert raw_scan() == n
    raw = time.perf_counter() - start
    assert benchmark.pedantic(cold_open, teardown=close, rounds=5, iterations=1) == n
    t = report.median(benchmark)
    report.add(
        f"cold open of {n:,} records: {t:.2f} s = {n / t:,.0f} records/s (goal 100,000/s); "
        f"raw HSCAN of the same records {raw:.2f} s, open/raw = {t / raw:.1f}x"
    )


def _hscan_all(client, key):
    cursor = 0
    while True:
        cursor, items = client.hscan(key, cursor, count=5000)
        yield cursor, items
        if cursor == 0:
            return


@pytest.fixture
def small_db(plain_server):
    name = "bench-small"
    with hx.open(plain_server.url, name=name, follow=False) as db:
        if db.read_count("id") == 0:
            db.commit_all(add_diffs(v1_dataset()))
        yield db


def test_commit_single_update(benchmark, small_db, report) -> None:
    rec = small_db.read("site")
    state = {"rec": rec, "n": 0}

    def update() -> None:
        state["n"] += 1
        state["rec"] = small_db.commit(hx.Diff(state["rec"], {"n": hx.Number(state["n"])})).new_rec

    benchmark(update)
    t = report.median(benchmark)
    report.add(f"commit of one single-record update: {t * 1000:.3f} ms = {1 / t:,.0f} commits/s")


def test_commit_batch_1000_updates(benchmark, plain_server, report) -> None:
    recs = building_model(1000)[:1000]
    with hx.open(plain_server.url, name="bench-batch", follow=False) as db:
        if db.read_count("id") == 0:
            db.commit_all(add_diffs(recs))
        state = {"n": 0}

        def batch() -> None:
            state["n"] += 1
            current = db.read_all("id")
            db.commit_all([hx.Diff(r, {"n": hx.Number(state["n"])}) for r in current])

        benchmark.pedantic(batch, rounds=10, iterations=1)
    t = report.median(benchmark)
    rate = 1000 / t
    report.add(f"commit of a 1,000-record update batch: {t * 1000:.1f} ms = {rate:,.0f} records/s")


@pytest.mark.parametrize("query", [*V1_FILTERS, "count id"])
def test_v1_query(benchmark, small_db, report, query) -> None:
    if query == "count id":
        benchmark(small_db.read_count, "id")
    else:
        benchmark(small_db.read_all, query)
    report.v1 = getattr(report, "v1", {})
    report.v1[query] = report.median(benchmark)
    if len(report.v1) == len(V1_FILTERS) + 1:
        avg_ms = sum(report.v1.values()) / len(report.v1) * 1000
        report.add(
            f"v1.0 query benchmark through db.read_all/read_count: average {avg_ms:.4f} ms "
            f"(goal 0.05 ms); v1.0 JVM {V1_JVM_MS} ms = {V1_JVM_MS / avg_ms:.0f}x slower, "
            f"v1.0 Python {V1_PYTHON_MS} ms = {V1_PYTHON_MS / avg_ms:,.0f}x slower"
        )


def test_v1_query_naive_scan(benchmark, small_db, report) -> None:
    recs = small_db.read_all("id")

    def naive() -> int:
        return sum(len([r for r in recs if tag in r]) for tag in V1_FILTERS) + len(recs)

    benchmark(naive)
    avg_ms = report.median(benchmark) / 5 * 1000
    report.add(f"naive [r for r in recs if tag in r] over the same records: {avg_ms:.4f} ms avg")


def test_selective_read_all_100k(benchmark, plain_server, big_db_name, report) -> None:
    with hx.open(plain_server.url, name=big_db_name, follow=False) as db:
        site = db.read("site")["id"]
        query = f"equip and siteRef==@{site.id}"
        expected = [r for r in db.read_all("id") if "equip" in r and r.get("siteRef") == site]
        assert db.read_all(query) == expected
        benchmark(db.read_all, query)
        selective = report.median(benchmark)
        start = time.perf_counter()
        naive = [r for r in db.read_all("id") if "equip" in r and r.get("siteRef") == site]
        scan = time.perf_counter() - start
        assert naive == expected
    report.add(
        f"read_all({query!r}) over {N_POINTS * 11 // 10:,} records: {selective * 1000:.3f} ms "
        f"({len(expected)} matches); naive scan {scan * 1000:.1f} ms "
        f"= {scan / selective:,.0f}x slower"
    )
