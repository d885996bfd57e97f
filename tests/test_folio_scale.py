"""A 100,000-record database opens (one bulk cold load) and answers queries without any cap
(v1.0 silently stopped at 10,000 records)."""

from __future__ import annotations

import random

from helpers.folio_util import rec_state

import hxredis as hx

M = hx.MARKER
SITES, EQUIPS, POINTS = 10, 990, 99_000
BATCH = 1000


def test_hundred_thousand_records(open_db) -> None:
    db = open_db()
    site_ids = [hx.Ref(f"site-{i}") for i in range(SITES)]
    equip_ids = [hx.Ref(f"equip-{i}") for i in range(EQUIPS)]
    diffs = [
        hx.Diff.make_add({"dis": f"Site {i}", "site": M, "area": hx.Number(1000 * i, "ft²")}, ref)
        for i, ref in enumerate(site_ids)
    ]
    diffs += [
        hx.Diff.make_add(
            {
                "navName": f"AHU-{i}",
                "disMacro": "$siteRef $navName",
                "equip": M,
                "siteRef": site_ids[i % SITES],
            },
            ref,
        )
        for i, ref in enumerate(equip_ids)
    ]
    diffs += [
        hx.Diff.make_add(
            {
                "dis": f"Point {i}",
                "point": M,
                "his": M,
                "kind": "Number",
                "n": hx.Number(i),
                "equipRef": equip_ids[i % EQUIPS],
                "note": "multi\nline " * (i % 3),
            },
            hx.Ref(f"pt-{i}"),
        )
        for i in range(POINTS)
    ]
    for start in range(0, len(diffs), BATCH):
        db.commit_all(diffs[start : start + BATCH])
    total = SITES + EQUIPS + POINTS
    assert db.cur_ver == total // BATCH

    big = open_db(follow=False)
    assert big.skipped_records == 0
    assert big.cur_ver == db.cur_ver
    assert big.read_count("id") == total
    assert len(big.read_all("id")) == total
    assert len(big.read_all("point")) == POINTS
    assert big.read_count("point") == POINTS
    assert big.read_count("point and n >= 50000") == POINTS - 50_000
    assert len(big.read_all("point and n < 12345")) == 12_345
    assert big.read_count("equip") == EQUIPS
    assert big.read_count("equipRef->siteRef->area >= 5000ft²") == POINTS // 2
    assert big.read_count(f"siteRef == @{site_ids[3].id}") == EQUIPS // SITES
    assert len(big.read_all("point", limit=20_000)) == 20_000
    assert big.read_count("point", limit=15_000) == 15_000
    assert [r.dis for r in big.read_all('dis == "Point 98998"')] == ["Point 98998"]
    assert len(big.read_all("point", search="point 9899")) == 11  # 9899 and 98990..98999
    assert big.read_by_id("equip-7").dis == "Site 7 AHU-7"
    assert big.read_by_id("pt-1007")["equipRef"].dis == "Site 7 AHU-17"

    rng = random.Random(7)
    sample = rng.sample(range(POINTS), 200)
    for i in sample:
        assert rec_state(big.read_by_id(f"pt-{i}")) == rec_state(db.read_by_id(f"pt-{i}"))

    # the big database takes commits as usual, and the first Folio follows
    rec = big.read_by_id("pt-5")
    big.commit(hx.Diff(rec, {"n": hx.Number(-5)}))
    db.sync()
    assert db.read_by_id("pt-5")["n"] == hx.Number(-5)
    assert big.read_count("point and n < 0") == 1
