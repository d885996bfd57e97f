"""Filter queries through the planner over an in-memory record map vs a naive scan.

The v1.0 query benchmark (``building.v1_dataset``: 4 sites, 40 equips, 280 points): the
filters ``id``, ``site``, ``equip``, ``point`` returning every matching record, and a count
over ``id``.  v1.0 published averages: 0.228 ms (Fantom on the JVM), 21.96 ms (its Python
transpilation); the goal here is at most 0.05 ms.  Then selective queries on 100,000 records.

Also the id prefix rewrite of a filter of n Ref terms (``id == @r1 or ...``), which v1 of
this library did in quadratic time (1,000 terms 0.63 s, 8,000 terms 84.9 s), against parsing
the same text.

``python bench/bench_filter.py`` prints a report; under pytest-benchmark the figures go to the
ratio report of ``make bench``.
"""

from __future__ import annotations

import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from building import v1_dataset

from hxredis import filter as filter_module
from hxredis.filter import Filter
from hxredis.query_plan import TagIndex, count, execute
from hxredis.values import MARKER, Ref

V1_JVM_MS = 0.228
V1_PYTHON_MS = 21.96
GOAL_MS = 0.05
QUERIES = ["id", "site", "equip", "point"]
SELECTIVE = ["site", "equip and siteRef == @s7"]
REF_TERMS = [1_000, 8_000]
ID_PREFIX = "p:demo:r:"
Recs = dict[str, dict[str, Any]]
Ops = list[Callable[[], object]]


def by_id(recs: list[dict[str, Any]]) -> Recs:
    """Records keyed by id string, as the Folio keeps them."""
    return {rec["id"].id: rec for rec in recs}


def big_dataset(sites: int = 250) -> Recs:
    """About 100,000 records: per site 1 site, 20 equips, 19 points per equip."""
    recs: Recs = {}
    for s in range(sites):
        site = f"s{s}"
        recs[site] = {"id": Ref(site), "dis": f"Site {s}", "site": MARKER}
        for e in range(20):
            equip = f"e{s}-{e}"
            recs[equip] = {"id": Ref(equip), "equip": MARKER, "siteRef": Ref(site)}
            for p in range(19):
                point = f"p{s}-{e}-{p}"
                recs[point] = {"id": Ref(point), "point": MARKER, "equipRef": Ref(equip)}
    return recs


def indexed(recs: Recs) -> TagIndex:
    index = TagIndex()
    for rec_id, rec in recs.items():
        index.add(rec_id, rec)
    return index


def planner_ops(recs: Recs, index: TagIndex) -> Ops:
    """The five v1.0 operations answered through the planner."""
    ops: Ops = [(lambda q=q: [recs[i] for i in execute(q, index, recs)]) for q in QUERIES]
    ops.append(lambda: count("id", index, recs))
    return ops


def scan_ops(recs: Recs) -> Ops:
    """The same operations as a naive ``[r for r in recs if pred(r)]`` scan."""
    preds = [Filter.parse(q).compile() for q in QUERIES]  # type: ignore[union-attr]
    ops: Ops = [(lambda p=p: [r for r in recs.values() if p(r)]) for p in preds]
    ops.append(lambda p=preds[0]: sum(1 for r in recs.values() if p(r)))
    return ops


def run_all(ops: Ops) -> None:
    for op in ops:
        op()


def average_ms(ops: Ops, number: int, repeat: int = 5) -> float:
    """Mean time of one operation in ms (best of ``repeat`` runs of ``number`` rounds)."""
    best = min(timeit.timeit(lambda: run_all(ops), number=number) for _ in range(repeat))
    return best / number / len(ops) * 1000


def main() -> None:
    recs = by_id(v1_dataset())
    planner = average_ms(planner_ops(recs, indexed(recs)), 2000)
    scan = average_ms(scan_ops(recs), 500)
    print(f"v1.0 dataset ({len(recs)} records), average of id/site/equip/point + count(id):")
    print(f"  planner over an in-memory map  {planner:8.4f} ms  (goal {GOAL_MS} ms)")
    print(f"  naive scan, same run           {scan:8.4f} ms")
    print(f"  v1.0 Fantom/JVM (published)    {V1_JVM_MS:8.4f} ms")
    print(f"  v1.0 Python (published)        {V1_PYTHON_MS:8.4f} ms")
    big = big_dataset()
    index = indexed(big)
    print(f"{len(big)} records:")
    for q in SELECTIVE:
        pred = Filter.parse(q).compile()  # type: ignore[union-attr]
        planned = average_ms([lambda q=q: [big[i] for i in execute(q, index, big)]], 200)
        scanned = average_ms([lambda p=pred: [r for r in big.values() if p(r)]], 2, repeat=3)
        print(f"  {q:26s} planner {planned:8.4f} ms   naive scan {scanned:8.2f} ms")
    print(f"id prefix rewrite of n Ref terms (prefix {ID_PREFIX!r}):")
    for n in REF_TERMS:
        text = ref_filter_text(n)
        parse = average_ms([lambda text=text: filter_module._parse(text)], 3, repeat=3)
        f = Filter.parse(text)
        rewrite = average_ms([lambda f=f: filter_module._abs_refs(f, ID_PREFIX)], 3, repeat=3)
        print(f"  {n:6d} terms: rewrite {rewrite:8.2f} ms   parse {parse:8.2f} ms")


def ref_filter_text(n: int) -> str:
    """``id == @r0 or id == @r1 or ...`` with ``n`` terms."""
    return " or ".join(f"id == @r{i}" for i in range(n))


# -- pytest-benchmark (make bench) ------------------------------------------------------------


@pytest.fixture(scope="module")
def v1_recs() -> Recs:
    return by_id(v1_dataset())


@pytest.fixture(scope="module")
def big() -> tuple[Recs, TagIndex]:
    recs = big_dataset()
    return recs, indexed(recs)


def test_filter_v1_naive_scan(benchmark: Any, v1_recs: Recs, report: Any) -> None:
    benchmark(run_all, scan_ops(v1_recs))
    report.filter_scan_ms = report.median(benchmark) / (len(QUERIES) + 1) * 1000


def test_filter_v1_planner(benchmark: Any, v1_recs: Recs, report: Any) -> None:
    benchmark(run_all, planner_ops(v1_recs, indexed(v1_recs)))
    avg_ms = report.median(benchmark) / (len(QUERIES) + 1) * 1000
    scan = getattr(report, "filter_scan_ms", None)
    versus = f"naive scan {scan:.4f} ms, " if scan is not None else ""
    report.add(
        f"filter planner, v1.0 queries in memory: {avg_ms:.4f} ms avg (goal {GOAL_MS} ms; "
        f"{versus}v1.0 JVM {V1_JVM_MS} ms, v1.0 Python {V1_PYTHON_MS} ms)"
    )


@pytest.mark.parametrize("query", SELECTIVE)
def test_filter_100k_selective(
    benchmark: Any, big: tuple[Recs, TagIndex], report: Any, query: str
) -> None:
    recs, index = big
    benchmark(lambda: [recs[i] for i in execute(query, index, recs)])
    pred = Filter.parse(query).compile()  # type: ignore[union-attr]
    start = time.perf_counter()
    expected = [r for r in recs.values() if pred(r)]
    scan_ms = (time.perf_counter() - start) * 1000
    assert [recs[i] for i in execute(query, index, recs)] == expected
    report.add(
        f"filter planner on {len(recs):,} records, {query!r}: "
        f"{report.median(benchmark) * 1000:.4f} ms (naive scan {scan_ms:.1f} ms)"
    )


@pytest.mark.parametrize("n", REF_TERMS)
def test_filter_abs_refs_rewrite(benchmark: Any, report: Any, n: int) -> None:
    """The rewrite itself (uncached) against parsing the same text, in the same run."""
    text = ref_filter_text(n)
    f = Filter.parse(text)
    start = time.perf_counter()
    filter_module._parse(text)
    parse_ms = (time.perf_counter() - start) * 1000
    found = benchmark(filter_module._abs_refs, f, ID_PREFIX)
    assert found == Filter.parse(text.replace("@r", f"@{ID_PREFIX}r"))
    rewrite_ms = report.median(benchmark) * 1000
    report.add(
        f"id prefix rewrite, {n:,} Ref terms: {rewrite_ms:.2f} ms "
        f"({rewrite_ms / parse_ms:.2f} x parsing the text, {parse_ms:.1f} ms)"
    )


if __name__ == "__main__":
    main()
