"""The history commands of ``hxredis`` end to end, in subprocesses against the test servers:
``his write`` / ``his read``, ``his import``, backup with history, the demo."""

from __future__ import annotations

import json
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from test_cli import TRIO, ok, run

import hxredis as hx
from hxredis.server import RedisServer

NY = hx.tz("New_York")
DAY = datetime(2024, 3, 1, tzinfo=NY)

POINTS = """\
id: @cli-bool
point
his
kind: "Bool"
tz: New_York
---
id: @cli-str
point
his
kind: "Str"
tz: UTC
"""


def setup_db(server: RedisServer, name: str) -> tuple[str, ...]:
    """The TRIO records and POINTS in database ``name``; the common arguments."""
    args = ("--uri", server.url, "--name", name)
    ok(*args, "import", "--format", "trio", "-", stdin=TRIO + "---\n" + POINTS)
    return args


def test_his_write_then_read(redis_server: RedisServer, db_name: str) -> None:
    args = setup_db(redis_server, db_name)
    rows = [(DAY + timedelta(minutes=15 * i), 20.0 + i) for i in range(96 * 3)]
    csv_text = "ts,val\n" + "".join(f"{ts.isoformat()},{v}\n" for ts, v in rows)
    out = ok(*args, "his", "write", "@cli-pt", "-", stdin=csv_text)
    assert "wrote 288 samples to @cli-pt" in out

    got = ok(*args, "his", "read", "cli-pt").splitlines()
    assert got[0] == "ts,val"
    assert got[1:] == [f"{ts.isoformat()},{v!r}" for ts, v in rows]

    # a day: its 96 samples, the one before and up to two after (hisRead's rule)
    day = ok(*args, "his", "read", "cli-pt", "--span", "2024-03-02").splitlines()[1:]
    assert day[0] == f"{rows[95][0].isoformat()},{rows[95][1]!r}"
    assert len(day) == 1 + 96 + 2
    two = ok(*args, "his", "read", "cli-pt", "--span", "2024-03-01,2024-03-02").splitlines()
    assert len(two) == 1 + 192 + 2

    zinc_out = ok(*args, "his", "read", "cli-pt", "--span", "2024-03-03", "--format", "zinc")
    grid = hx.zinc.loads(zinc_out)
    assert grid.meta["id"] == hx.Ref("cli-pt")
    assert [r["val"] for r in grid.rows][:2] == [hx.Number(20.0 + 191, "°F"), hx.Number(212, "°F")]
    doc = json.loads(ok(*args, "his", "read", "cli-pt", "--span", "today", "--format", "json"))
    assert doc["_kind"] == "grid"

    bools = "\n".join(f"{(DAY + timedelta(hours=i)).isoformat()},{i % 2 == 0}" for i in range(5))
    ok(*args, "his", "write", "cli-bool", "-", stdin=bools)
    text = '2024-03-01T12:00:00Z,"hello, world"\n1709298000000,second\n'  # epoch ms: 13:00Z
    ok(*args, "his", "write", "cli-str", "-", stdin=text)
    with hx.open(redis_server.url, name=db_name) as db:
        assert [v for _, v in db.his.read("cli-bool")] == [True, False, True, False, True]
        assert [v for _, v in db.his.read("cli-str")] == ["hello, world", "second"]


def test_his_write_refuses_bad_input_with_one_line(plain_server: RedisServer, db_name: str) -> None:
    args = setup_db(plain_server, db_name)
    bad = run(*args, "his", "write", "cli-pt", "-", stdin="2024-03-01T00:00:00Z,warm\n")
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == [
        "hxredis: error: - line 1: could not convert string to float: 'warm'"
    ]
    span = run(*args, "his", "read", "cli-pt", "--span", "last week")
    assert span.returncode == 2
    assert "malformed span 'last week'" in span.stderr
    missing = run(*args, "his", "read", "nowhere")
    assert missing.returncode == 1


def test_his_import_long_file_and_directory(
    redis_server: RedisServer, db_name: str, tmp_path: Path
) -> None:
    args = setup_db(redis_server, db_name)
    ts = DAY + timedelta(minutes=1)
    long_file = tmp_path / "long.csv"
    lines = ["id,ts,val"]
    for i in range(500):
        stamp = (ts + timedelta(minutes=i)).isoformat()
        lines += [f"@cli-pt,{stamp},{i / 4}", f"cli-bool,{stamp},{i % 3 == 0}"]
    lines.append(f"cli-str,{ts.isoformat()},a note")
    lines.append(f"cli-pt,{(ts + timedelta(minutes=600)).isoformat()},NA")
    long_file.write_text("\n".join(lines) + "\n")
    out = ok(*args, "his", "import", str(long_file))
    assert "imported 1,002 samples into 3 points" in out
    assert "samples/s" in out

    folder = tmp_path / "points"
    folder.mkdir()
    later = [ts + timedelta(days=1, minutes=i) for i in range(10)]
    (folder / "cli-pt.csv").write_text(
        "".join(f"{t.isoformat()},{i}\n" for i, t in enumerate(later))
    )
    out = ok(*args, "his", "import", str(folder))
    assert "imported 10 samples into 1 points" in out

    with hx.open(redis_server.url, name=db_name) as db:
        got_ts, got_vals = db.his.read_arrays("cli-pt")
        assert len(got_ts) == 511
        assert np.array_equal(got_vals[:500], np.arange(500) / 4)
        assert db.his.read("cli-pt")[500].val is hx.NA
        assert [v for _, v in db.his.read("cli-bool")][:4] == [True, False, False, True]
        assert db.his.read("cli-str")[0].val == "a note"


def history(server: RedisServer, name: str) -> dict[str, list]:
    """Every point's ``his.read`` by id."""
    with hx.open(server.url, name=name) as db:
        return {pid: db.his.read(pid) for pid in sorted(db.his.point_ids())}


def test_backup_with_history_restores_identical_reads_on_the_other_server(
    stack_server: RedisServer, plain_server: RedisServer, db_name: str, tmp_path: Path
) -> None:
    args = setup_db(stack_server, db_name)
    with hx.open(stack_server.url, name=db_name) as db:
        ts = np.int64(1_709_269_200_000) + np.arange(20_000, dtype=np.int64) * 900_000
        vals = np.random.default_rng(3).normal(70.0, 4.0, len(ts))  # float64, not float32-exact
        db.his.write_many({"cli-pt": (ts, vals), "cli-bool": (ts[:100], vals[:100] > 70)})
        day = DAY + timedelta(days=400)
        db.his.write(
            "cli-pt",
            [
                hx.HisItem(day, hx.NA),
                hx.HisItem(day + timedelta(hours=1), hx.Number(float("nan"), "°F")),
            ],
        )
        db.his.write(
            "cli-str",
            [hx.HisItem(DAY.astimezone(hx.UTC), "on"), hx.HisItem(day.astimezone(hx.UTC), "off")],
        )
    original = history(stack_server, db_name)
    assert len(original) == 3
    info = ok(*args, "info")
    assert (
        "his:       3 points with history; "
        "timeseries 2 points 20,102 samples, zset 1 point 2 samples" in info
    )
    archive = tmp_path / "with-history.hxbackup"
    out = ok(*args, "backup", str(archive))
    assert "20,104 history samples of 3 points" in out

    out = ok("--uri", plain_server.url, "--name", db_name, "restore", str(archive))
    assert "history: 20,104 samples of 3 points" in out
    restored = history(plain_server, db_name)
    info = ok("--uri", plain_server.url, "--name", db_name, "info")
    assert "his:       3 points with history; zset 3 points 20,104 samples" in info
    assert list(restored) == list(original)
    for pid, items in original.items():  # NaN != NaN: compare the Zinc of each sample
        assert [(t, hx.zinc.dumps(v)) for t, v in restored[pid]] == [
            (t, hx.zinc.dumps(v)) for t, v in items
        ]
    with hx.open(plain_server.url, name=db_name) as db:
        assert db.his.backend_of("cli-pt") == "zset"
        assert np.array_equal(db.his.read_arrays("cli-pt")[1][:20_000], vals)


def test_archive_without_history_section_still_restores(
    plain_server: RedisServer, db_name: str, tmp_path: Path
) -> None:
    args = setup_db(plain_server, db_name)
    archive = tmp_path / "new.hxbackup"
    ok(*args, "backup", str(archive))
    old = tmp_path / "old.hxbackup"  # as written before the history section existed
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(old, "w") as dst:
        manifest = json.loads(src.read("manifest.json"))
        manifest["sections"] = ["records"]
        del manifest["history"]
        dst.writestr("manifest.json", json.dumps(manifest))
        dst.writestr("records.trio", src.read("records.trio"))
    out = ok("--uri", plain_server.url, "--name", db_name + "-old", "restore", str(old))
    assert "added 5" in out and "no history in the archive" in out


def test_demo_against_plain_redis_with_a_small_size(plain_server: RedisServer) -> None:
    out = ok(
        "--uri",
        plain_server.url,
        "demo",
        "--sites",
        "1",
        "--ahus",
        "1",
        "--vavs",
        "1",
        "--days",
        "3",
    )
    assert "history backend: sorted sets (no TimeSeries module)" in out
    assert "built 16 records (1 sites, 3 equips, 12 points)" in out
    assert "history: 3,456 samples (3 days of 15 minutes x 12 points) into zset" in out
    assert "his.read, one day" in out and "read_arrays, all" in out
    with hx.open(plain_server.url, name="hxredis-demo") as db:  # emptied at the end
        assert db.read_count("id") == 0
        assert db.his.point_ids() == []


def test_bench_against_plain_redis_with_small_sizes(plain_server: RedisServer) -> None:
    args = ("--points", "2", "--samples", "3000", "--big", "5000")
    out = ok("--uri", plain_server.url, "bench", *args)
    assert "history in zset" in out
    for row in ("write_many 2 x 3,000 (zset)", "read_arrays of 3,000 (zset)", "from 5,000 samples"):
        assert row in out
    with hx.open(plain_server.url, name="hxredis-bench") as db:  # emptied at the end
        assert db.read_count("id") == 0


def test_span_syntax() -> None:
    from hxredis.cli.his import parse_span

    now = datetime(2024, 3, 10, 15, 30, tzinfo=NY)
    midnight = datetime(2024, 3, 10, tzinfo=NY)
    day = timedelta(days=1)
    assert parse_span("today", NY, now) == hx.Span(midnight, midnight + day)
    assert parse_span("Yesterday", NY, now) == hx.Span(midnight - day, midnight)
    assert parse_span("2024-03-01", NY) == hx.Span(DAY, DAY + day)
    assert parse_span("2024-03-01,2024-03-02", NY) == hx.Span(DAY, DAY + 2 * day)
    start = parse_span("2024-03-01T06:00:00Z", NY).start
    assert start == datetime(2024, 3, 1, 1, tzinfo=NY) and start.tzinfo is NY
    zinc_form = "2024-03-01T01:00:00-05:00 New_York,2024-03-01T02:00:00-05:00 New_York"
    assert parse_span(zinc_form, NY) == hx.Span(DAY + timedelta(hours=1), DAY + 2 * day / 24)
    assert parse_span("2024-03-01T01:00:00,2024-03-02", NY).end == DAY + 2 * day
    for bad in ("last week", "2024-03-03,2024-03-01", "2024-13-01", ""):
        with pytest.raises(ValueError, match="malformed span"):
            parse_span(bad, NY)
