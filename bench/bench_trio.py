"""Trio codec benchmarks: the native codec against the pure-Python reference and rusty-haystack.

Records are those of the realistic building model (sites, AHUs, points with 8 to 15 tags:
Refs, Numbers with units, DateTimes, Strs), one Trio text per record as the Folio stores them
in Redis.  The pytest-benchmark figures are the native codec's; the reference (and
rusty-haystack when installed) are timed in the same test, and the ratio report at the end of
``make bench`` gives records/s and native/reference (goal: at least 10x both ways), each
from the fastest of the same number of rounds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from building import building_model

from hxredis import trio

try:
    import rusty_haystack as rusty
except ImportError:  # optional: pip install rusty-haystack
    rusty = None

N_POINTS = 5_000
ROUNDS = 5


@pytest.fixture(scope="module")
def model() -> tuple[list[dict[str, Any]], list[str]]:
    """The records and, for each, its Trio text."""
    recs = building_model(N_POINTS)
    return recs, [trio.py_dumps(rec) for rec in recs]


def _best(fn: Callable[[], Any], rounds: int = ROUNDS) -> float:
    """Fastest of ``rounds`` runs, in seconds."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _line(what: str, n: int, native: float, ref: float, other: float | None) -> str:
    mode = "native" if trio.NATIVE else "reference (extension not built)"
    text = (
        f"trio {what} of {n:,} records: {mode} {n / native:,.0f} records/s, "
        f"pure-Python reference {n / ref:,.0f} records/s, native/reference = {ref / native:.1f}x "
        "(goal 10x)"
    )
    if other is not None:
        text += f"; rusty-haystack {n / other:,.0f} records/s, native/rusty = {other / native:.2f}x"
    return text


@pytest.mark.benchmark(group="trio")
def test_trio_loads(benchmark, model, report) -> None:
    recs, texts = model
    loads = trio.loads

    def run() -> list[list[dict[str, Any]]]:
        return [loads(text) for text in texts]

    assert benchmark.pedantic(run, rounds=ROUNDS, iterations=1) == [[rec] for rec in recs]
    ref = _best(lambda: [trio.py_loads(text) for text in texts])
    other = None
    if rusty is not None:
        decode = rusty.decode_grid
        other = _best(lambda: [decode("text/trio", text) for text in texts])
    report.add(_line("loads", len(texts), benchmark.stats.stats.min, ref, other))


@pytest.mark.benchmark(group="trio")
def test_trio_dumps(benchmark, model, report) -> None:
    recs, texts = model
    dumps = trio.dumps

    def run() -> list[str]:
        return [dumps(rec) for rec in recs]

    assert benchmark.pedantic(run, rounds=ROUNDS, iterations=1) == texts
    ref = _best(lambda: [trio.py_dumps(rec) for rec in recs])
    other = None
    if rusty is not None:
        grids = [rusty.decode_grid("text/trio", text) for text in texts]
        encode = rusty.encode_grid
        other = _best(lambda: [encode("text/trio", grid) for grid in grids])
    report.add(_line("dumps", len(recs), benchmark.stats.stats.min, ref, other))
