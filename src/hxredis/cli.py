"""Command line: ``python -m hxredis.cli demo`` (the README's ``make demo``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .server import ServerUnavailableError, start_server

__all__ = ["main"]


def demo() -> int:
    """Start the embedded Redis servers, report their versions and modules, stop them."""
    for label, timeseries in (("Redis Stack", True), ("plain Redis", False)):
        try:
            with start_server(timeseries=timeseries) as server:
                modules = ", ".join(f"{n} {v}" for n, v in sorted(server.modules.items()))
                print(f"{label}: redis {server.version} on {server.url}")
                print(f"  modules: {modules or 'none'}")
                print(f"  TimeSeries: {'present' if server.has_timeseries else 'absent'}")
        except ServerUnavailableError as exc:
            print(f"{label}: unavailable: {exc}", file=sys.stderr)
            return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hxredis`` command."""
    parser = argparse.ArgumentParser(prog="hxredis", description="hxredis command line")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help=demo.__doc__)
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo()
    return 2


if __name__ == "__main__":
    sys.exit(main())
