"""A realistic building model for benchmarks: sites, AHUs and points with 8 to 15 tags
(Refs, Numbers with units, DateTimes, Strs, markers, disMacro display names)."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

import hxredis as hx

POINT_KINDS = [
    ("discharge air temp sensor", "°F"),
    ("return air temp sensor", "°F"),
    ("zone air humidity sensor", "%RH"),
    ("fan run cmd", None),
    ("outside damper cmd", "%"),
    ("duct static pressure sp", "inH₂O"),
]


def building_model(n_points: int, seed: int = 1) -> list[dict[str, Any]]:
    """About ``n_points * 1.1`` records: one site per 1,000 points, one AHU per 10 points."""
    rnd = random.Random(seed)
    ny = hx.tz("New_York")
    n_sites = max(1, n_points // 1000)
    n_equips = max(1, n_points // 10)
    recs: list[dict[str, Any]] = []
    sites = [hx.Ref(f"s{s:05d}") for s in range(n_sites)]
    for s, ref in enumerate(sites):
        recs.append(
            {
                "id": ref,
                "dis": f"Site {s}",
                "site": hx.MARKER,
                "area": hx.Number(rnd.randint(1000, 90000), "ft²"),
                "tz": "New_York",
                "geoCity": "Richmond",
                "geoCoord": hx.Coord(37.5 + s / 1000, -77.4),
                "yearBuilt": hx.Number(1990 + s % 30),
            }
        )
    equips = [hx.Ref(f"e{e:06d}") for e in range(n_equips)]
    for e, ref in enumerate(equips):
        recs.append(
            {
                "id": ref,
                "navName": f"AHU-{e}",
                "disMacro": "$siteRef $navName",
                "equip": hx.MARKER,
                "ahu": hx.MARKER,
                "siteRef": sites[e % n_sites],
                "tz": "New_York",
            }
        )
    for p in range(n_points):
        tags, unit = POINT_KINDS[p % len(POINT_KINDS)]
        equip = p % n_equips
        rec: dict[str, Any] = {
            "id": hx.Ref(f"p{p:07d}"),
            "navName": f"Pt {p}",
            "disMacro": "$equipRef $navName",
            "point": hx.MARKER,
            "his": hx.MARKER,
            "equipRef": equips[equip],
            "siteRef": sites[equip % n_sites],
            "kind": "Number" if unit else "Bool",
            "tz": "New_York",
            "hisCollectInterval": hx.Number(15, "min"),
            "created": datetime(2024, 1, 1 + p % 28, 12, p % 60, tzinfo=ny),
        }
        rec.update(dict.fromkeys(tags.split(), hx.MARKER))
        if unit:
            rec["unit"] = unit
            rec["minVal"] = hx.Number(round(rnd.uniform(0, 50), 2), unit)
        recs.append(rec)
    return recs


def v1_dataset() -> list[dict[str, Any]]:
    """hxRedis v1.0's query benchmark: 4 sites, 40 equips, 280 points."""
    recs: list[dict[str, Any]] = []
    for s in range(4):
        site = hx.Ref(f"site-{s}")
        recs.append({"id": site, "dis": f"Site {s}", "site": hx.MARKER})
        for i in range(10):
            equip = hx.Ref(f"equip-{s}-{i}")
            recs.append(
                {
                    "id": equip,
                    "dis": f"Equip {s}-{i}",
                    "equip": hx.MARKER,
                    "siteRef": site,
                    "ahu": hx.MARKER,
                }
            )
            for k in range(7):
                recs.append(
                    {
                        "id": hx.Ref(f"point-{s}-{i}-{k}"),
                        "dis": f"Point {s * 10 + i}-{k}",
                        "point": hx.MARKER,
                        "equipRef": equip,
                        "temp": hx.MARKER,
                        "sensor": hx.MARKER,
                        "his": hx.MARKER,
                    }
                )
    return recs


def add_diffs(recs: list[dict[str, Any]]) -> list[hx.Diff]:
    """One add Diff per record, keeping its id."""
    return [
        hx.Diff.make_add({k: v for k, v in rec.items() if k != "id"}, rec["id"]) for rec in recs
    ]
