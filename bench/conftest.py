"""Benchmark fixtures: real Redis servers (the hxredis.testing plugin) and the ratio report."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
pytest_plugins = ["hxredis.testing"]


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
