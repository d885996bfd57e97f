"""Command line: ``python -m hxredis.cli demo`` (the README's ``make demo``)."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence

from . import Diff, Filter, Folio, Ref, open
from .server import RedisServer, ServerUnavailableError, start_server
from .server import main as server_main
from .values import MARKER, Number

__all__ = ["main"]


def _report_server(label: str, server: RedisServer) -> None:
    modules = ", ".join(f"{n} {v}" for n, v in sorted(server.modules.items()))
    print(f"{label}: redis {server.version} on {server.url}")
    print(f"  modules: {modules or 'none'}")
    print(f"  TimeSeries: {'present' if server.has_timeseries else 'absent'}")


def _building(db: Folio, sites: int, equips_per_site: int, points_per_equip: int) -> int:
    """Add a small building model in one atomic batch per site; the number of records."""
    added = 0
    for s in range(sites):
        site = Ref(f"demo-site-{s}")
        batch = [Diff.make_add({"dis": f"Site {s}", "site": MARKER, "tz": "New_York"}, site)]
        for e in range(equips_per_site):
            equip = Ref(f"demo-ahu-{s}-{e}")
            batch.append(
                Diff.make_add(
                    {
                        "disMacro": "$siteRef $navName",
                        "navName": f"AHU-{e}",
                        "equip": MARKER,
                        "ahu": MARKER,
                        "siteRef": site,
                    },
                    equip,
                )
            )
            for p in range(points_per_equip):
                batch.append(
                    Diff.make_add(
                        {
                            "disMacro": "$equipRef $navName",
                            "navName": f"Temp {p}",
                            "point": MARKER,
                            "his": MARKER,
                            "temp": MARKER,
                            "sensor": MARKER,
                            "kind": "Number",
                            "unit": "°F",
                            "tz": "New_York",
                            "equipRef": equip,
                            "siteRef": site,
                            "maxVal": Number(90 + p, "°F"),
                        },
                    )
                )
        db.commit_all(batch)
        added += len(batch)
    return added


def demo() -> int:
    """Start the embedded Redis servers, build a small Folio database, query it, stop."""
    try:
        with start_server(timeseries=False) as plain:
            _report_server("plain Redis", plain)
        with (
            tempfile.TemporaryDirectory(prefix="hxredis-demo-") as data_dir,
            start_server(timeseries=True, persistence=True, data_dir=data_dir) as server,
        ):
            _report_server("Redis Stack", server)
            _demo_folio(server)
    except ServerUnavailableError as exc:
        print(f"unavailable: {exc}", file=sys.stderr)
        return 1
    return 0


def _demo_folio(server: RedisServer) -> None:
    print("\nFolio database 'demo':")
    with open(server.url, name="demo") as db, open(server.url, name="demo") as other:
        start = time.perf_counter()
        count = _building(db, sites=3, equips_per_site=10, points_per_equip=20)
        elapsed = time.perf_counter() - start
        print(f"  committed {count} records in {elapsed * 1000:.0f} ms (version {db.cur_ver})")
        for text in ["site", "equip and siteRef==@demo-site-1", "point and maxVal > 105°F"]:
            query = Filter.parse(text)
            print(f"  read_count({str(query)!r}) = {db.read_count(query)}")
        point = db.read('point and navName=="Temp 3" and siteRef==@demo-site-2')
        print(f"  a point's display name: {point.dis!r}")
        before = point.dis
        db.commit(Diff(db.read_by_id("demo-site-2"), {"dis": "Headquarters"}))
        start = time.perf_counter()
        while other.read_by_id(point["id"]).dis == before and time.perf_counter() - start < 2:
            time.sleep(0.001)
        shown = other.read_by_id(point["id"]).dis
        waited = (time.perf_counter() - start) * 1000
        print(f"  site renamed; another Folio shows {shown!r} after {waited:.1f} ms")
    with open(server.url, name="demo") as reopened:
        print(f"  reopened: {reopened.read_count('id')} records, version {reopened.cur_ver}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hxredis`` command."""
    parser = argparse.ArgumentParser(prog="hxredis", description="hxredis command line")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help=demo.__doc__)
    for name in ("provision", "check"):
        sub.add_parser(name, help=f"Redis binaries: see `python -m hxredis.server {name} -h`")
    args, rest = parser.parse_known_args(argv)
    if args.command == "demo":
        return demo()
    return server_main([args.command, *rest])


if __name__ == "__main__":
    sys.exit(main())
