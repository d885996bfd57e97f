"""Benchmark fixtures: real Redis servers started by hxredis's launcher for the session."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hxredis.server import RedisServer, start_server

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def stack_server() -> Iterator[RedisServer]:
    """Redis Stack with RedisTimeSeries."""
    with start_server(timeseries=True) as server:
        yield server


@pytest.fixture(scope="session")
def plain_server() -> Iterator[RedisServer]:
    """Redis without modules."""
    with start_server(timeseries=False) as server:
        yield server


class Report:
    """Median timings collected by the benchmarks, printed as ratios at the end of the run."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def median(self, benchmark) -> float:
        """The median time in seconds of a finished pytest-benchmark fixture."""
        return float(benchmark.stats.stats.median)

    def add(self, line: str) -> None:
        self.lines.append(line)


_REPORT = Report()


@pytest.fixture(scope="session")
def report() -> Report:
    """Collects lines for the ratio report printed after the benchmarks."""
    return _REPORT


def pytest_terminal_summary(terminalreporter) -> None:
    if _REPORT.lines:
        terminalreporter.section("hxredis ratios (medians, same run)")
        for line in _REPORT.lines:
            terminalreporter.write_line(line)
