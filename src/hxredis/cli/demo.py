"""``hxredis demo`` (and ``make demo``): a building model in a fresh database, a year of
15-minute history for every point through the bulk path, a few queries and span reads, a
short report.  The server is --uri / HXREDIS_URI, else an embedded Redis Stack started
through the same path as :func:`hxredis.open` in a temporary data directory."""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
import numpy as np

from ..diff import Diff
from ..folio import Folio
from ..folio import open as open_folio
from ..timezones import tz as zone_of
from ..values import MARKER, Coord, Number, Ref, Span
from .app import Context, progress

__all__ = ["building", "clear", "database", "demo", "history"]

STEP_MS = 15 * 60 * 1000
HIS_BATCH = 32  # points per write_many call

CITIES = [
    ("Richmond", "New_York", Coord(37.5407, -77.4360)),
    ("Chicago", "Chicago", Coord(41.8781, -87.6298)),
    ("Denver", "Denver", Coord(39.7392, -104.9903)),
    ("San Diego", "Los_Angeles", Coord(32.7157, -117.1611)),
    ("London", "London", Coord(51.5072, -0.1276)),
    ("Berlin", "Berlin", Coord(52.5200, 13.4050)),
]

# (navName, kind, unit, tags) of each equip's points
AHU_POINTS = [
    ("DischargeTemp", "Number", "°F", ("discharge", "air", "temp", "sensor")),
    ("ReturnTemp", "Number", "°F", ("return", "air", "temp", "sensor")),
    ("DischargeTempSp", "Number", "°F", ("discharge", "air", "temp", "sp")),
    ("FanCmd", "Bool", None, ("discharge", "fan", "run", "cmd")),
    ("FanSpeed", "Number", "%", ("discharge", "fan", "speed", "cmd")),
    ("OutsideDamper", "Number", "%", ("outside", "damper", "cmd")),
]
VAV_POINTS = [
    ("ZoneTemp", "Number", "°F", ("zone", "air", "temp", "sensor")),
    ("ZoneTempSp", "Number", "°F", ("zone", "air", "temp", "sp")),
    ("Airflow", "Number", "cfm", ("discharge", "air", "flow", "sensor")),
    ("Damper", "Number", "%", ("damper", "cmd")),
]
METER_POINTS = [
    ("Power", "Number", "kW", ("elec", "power", "sensor")),
    ("Energy", "Number", "kWh", ("elec", "energy", "sensor")),
]

QUERIES = [
    "site",
    "ahu",
    "point and temp and sensor",
    "point and zone and temp and sp",
    'equip and siteRef->geoCity == "Chicago"',
    'point and unit == "kW"',
    "vav and equipRef->ahu",
]


def building(sites: int, ahus: int, vavs: int, seed: int = 1) -> Iterator[list[Diff]]:
    """A building model, one batch of add Diffs per site: the site (geo, area, tz), its
    electric meter, ``ahus`` air handlers each feeding ``vavs`` VAV boxes, and their points
    (kind, unit, tz, his)."""
    rnd = random.Random(seed)
    for s in range(sites):
        city, tz, coord = CITIES[s % len(CITIES)]
        site = Ref(f"site-{s + 1}")
        batch = [
            Diff.make_add(
                {
                    "dis": f"{city} Office {s // len(CITIES) + 1}",
                    "site": MARKER,
                    "geoCity": city,
                    "geoCoord": coord,
                    "area": Number(rnd.randrange(20_000, 200_000, 1000), "ft²"),
                    "tz": tz,
                },
                site,
            )
        ]

        meter = Ref(f"site-{s + 1}-meter")
        _equip(batch, site, tz, meter, "Main Meter", ("elec", "meter", "siteMeter"), METER_POINTS)
        for a in range(ahus):
            ahu = Ref(f"site-{s + 1}-ahu-{a + 1}")
            _equip(batch, site, tz, ahu, f"AHU-{a + 1}", ("ahu",), AHU_POINTS)
            for v in range(vavs):
                vav = Ref(f"site-{s + 1}-vav-{a + 1}-{v + 1}")
                name = f"VAV-{a + 1}-{v + 1}"
                _equip(batch, site, tz, vav, name, ("vav",), VAV_POINTS, equipRef=ahu)
        yield batch


def _equip(
    batch: list[Diff],
    site: Ref,
    tz: str,
    ref: Ref,
    name: str,
    markers: tuple[str, ...],
    points: list[Any],
    **extra: Any,
) -> None:
    """Add an equip and its points to ``batch``."""
    tags: dict[str, Any] = {"navName": name, "disMacro": "$siteRef $navName"}
    tags.update({m: MARKER for m in ("equip", *markers)})
    batch.append(Diff.make_add({**tags, "siteRef": site, **extra}, ref))
    for nav, kind, unit, point_markers in points:
        pt: dict[str, Any] = {"navName": nav, "disMacro": "$equipRef $navName"}
        pt.update({m: MARKER for m in ("point", "his", *point_markers)})
        pt.update({"kind": kind, "tz": tz, "siteRef": site, "equipRef": ref})
        if unit is not None:
            pt["unit"] = unit
        batch.append(Diff.make_add(pt))


def history(ts: np.ndarray, kind: str, seed: int) -> np.ndarray:
    """Plausible values of a point at epoch-ms timestamps ``ts``: a daily cycle, occupied
    hours and noise (bool for a Bool point)."""
    rnd = np.random.default_rng(seed)
    hour = (ts // 3_600_000) % 24
    occupied = (hour >= 7) & (hour < 19)
    if kind == "Bool":
        return occupied
    daily = np.sin((ts % 86_400_000) / 86_400_000 * 2 * np.pi)
    base = 40.0 + 30.0 * rnd.random()
    return base + 10.0 * daily + 5.0 * occupied + rnd.normal(0.0, 1.0, len(ts))


def _ingest(db: Folio, points: list[Any], days: int, end_ms: int) -> int:
    """Write ``days`` of 15-minute history to every point through ``write_many``, with a
    progress bar; the number of samples."""
    per_point = days * 86_400_000 // STEP_MS
    ts = end_ms - per_point * STEP_MS + np.arange(per_point, dtype=np.int64) * STEP_MS
    written = 0
    with progress(per_point * len(points), "history") as tick:
        for i in range(0, len(points), HIS_BATCH):
            batch = points[i : i + HIS_BATCH]
            data = {pt["id"]: (ts, history(ts, pt["kind"], i + n)) for n, pt in enumerate(batch)}
            count = db.his.write_many(data)
            written += count
            tick(count)
    return written


def _his_reads(db: Folio, point: Any) -> None:
    """A few span reads of one point, with their median latencies."""
    zone = zone_of(point["tz"])
    end = db.read_by_id(point["id"])["hisEnd"].astimezone(zone)
    last = end.replace(hour=0, minute=0, second=0, microsecond=0)
    reads = [
        (
            "his.read, one day",
            lambda: db.his.read(point["id"], Span(last - timedelta(days=1), last)),
        ),
        (
            "his.read, one week",
            lambda: db.his.read(point["id"], Span(last - timedelta(days=7), last)),
        ),
        ("read_arrays, all", lambda: db.his.read_arrays(point["id"])),
    ]
    click.echo(f"\nhistory reads of {point.dis} (median of 20):")
    for label, fn in reads:
        got = fn()
        n = len(got[0]) if isinstance(got, tuple) else len(got)
        click.echo(f"  {n:6d}  {_median_ms(fn):8.3f} ms  {label}")


@contextmanager
def database(ctx: Context, name: str) -> Iterator[Folio]:
    """Database ``name`` on --uri / $HXREDIS_URI, else on an embedded Redis in a temporary
    data directory removed afterwards."""
    uri = ctx.effective_uri
    if uri is not None:
        with open_folio(uri, name=name) as db:
            yield db
        return
    with (
        tempfile.TemporaryDirectory(prefix="hxredis-demo-") as data_dir,
        open_folio(None, name=name, data_dir=Path(data_dir)) as db,
    ):
        yield db


def clear(db: Folio) -> None:
    """Remove every record of ``db`` (and so its history)."""
    for rec in db.read_all("id"):
        db.commit(Diff(rec, None, Diff.REMOVE | Diff.FORCE))


def _median_ms(fn: Any, repeat: int = 20) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


@click.command()
@click.option("--sites", default=6, show_default=True, type=click.IntRange(1, 10_000))
@click.option(
    "--ahus", default=4, show_default=True, type=click.IntRange(0, 1000), help="Per site."
)
@click.option("--vavs", default=8, show_default=True, type=click.IntRange(0, 1000), help="Per AHU.")
@click.option(
    "--days",
    default=365,
    show_default=True,
    type=click.IntRange(0, 36_500),
    help="Days of 15-minute history per point (0: none).",
)
@click.pass_obj
def demo(ctx: Context, sites: int, ahus: int, vavs: int, days: int) -> None:
    """Build a building model in a fresh database, write a year of 15-minute history to
    every point through the bulk path, query it and report.

    Uses --uri / $HXREDIS_URI (database "hxredis-demo", emptied first and at the end), else an
    embedded Redis in a temporary directory that is removed afterwards.
    """
    started = time.perf_counter()
    with database(ctx, "hxredis-demo") as db:
        client = db.client
        version = client.info("server")["redis_version"]
        where = (
            "embedded" if ctx.effective_uri is None else "at " + ctx.effective_uri.split("@")[-1]
        )
        click.echo(f"Redis {version} ({where})")
        backend = "RedisTimeSeries" if db.has_timeseries else "sorted sets (no TimeSeries module)"
        click.echo(f"history backend: {backend}")
        clear(db)
        start = time.perf_counter()
        for batch in building(sites, ahus, vavs):
            db.commit_all(batch)
        elapsed = time.perf_counter() - start
        total = db.read_count("id")
        points = db.read_count("point")
        click.echo(
            f"\nbuilt {total} records ({sites} sites, {db.read_count('equip')} equips, "
            f"{points} points) in {elapsed:.2f} s ({total / elapsed:,.0f} records/s)"
        )
        click.echo("\nqueries (median of 20):")
        for text in QUERIES:
            n = db.read_count(text)
            ms = _median_ms(lambda t=text: db.read_all(t))
            click.echo(f"  {n:6d}  {ms:8.3f} ms  {text}")
        point = db.read("point and zone and temp and sensor and siteRef==@site-2", checked=False)
        if point is not None:
            click.echo(f"\na point: {point.dis}  unit {point['unit']}, tz {point['tz']}")
        if days:
            pts = db.read_all("point and his")
            start = time.perf_counter()
            samples = _ingest(db, pts, days, int(time.time() // 900 * 900_000))
            elapsed = time.perf_counter() - start
            click.echo(
                f"\nhistory: {samples:,} samples ({days} days of 15 minutes x {len(pts)} points) "
                f"into {db.his.backend_of(pts[0]['id'])} in {elapsed:.2f} s "
                f"({samples / elapsed:,.0f} samples/s, write_many)"
            )
            _his_reads(db, point or pts[0])
        if ctx.effective_uri is not None:
            clear(db)
    click.echo(f"\ndone in {time.perf_counter() - started:.1f} s")
