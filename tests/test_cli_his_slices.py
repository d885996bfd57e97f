"""History read in slices (``his read``, ``backup``, ``restore``): the same samples and the
same output as reading a point's history whole, with small slices so that every path runs;
and archives of version 1 (one entry per point) still restore."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_cli import ok, run
from test_cli_his import history, setup_db

import hxredis as hx
from hxredis import zinc
from hxredis.cli.his import _val_text, _write_items
from hxredis.cli.his_archive import history_points, read_history, write_history
from hxredis.cli.his_slices import array_slices, item_slices
from hxredis.cli.records import ImportReport, import_records, persistent_recs
from hxredis.his.point import epoch_ms
from hxredis.server import RedisServer
from hxredis.values import Grid

NY = hx.tz("New_York")
T0 = datetime(2024, 3, 1, tzinfo=NY)
MS = timedelta(milliseconds=1)
SEC = timedelta(seconds=1)


def _add_point(db: hx.Folio, pid: str, kind: str, **tags: Any) -> hx.Ref:
    changes = {"point": hx.MARKER, "his": hx.MARKER, "kind": kind, "tz": "New_York", **tags}
    return db.commit(hx.Diff.make_add(changes, hx.Ref(pid))).new_rec["id"]


def _numbers(db: hx.Folio) -> hx.Ref:
    """A Number point: a sparse start, a burst of one sample a second, NA and NaN samples."""
    ref = _add_point(db, "num", "Number", unit="°F")
    times = [T0 + timedelta(hours=h) for h in range(10)]
    times += [T0 + timedelta(days=1) + n * SEC for n in range(40)]
    times += [T0 + timedelta(days=30 + d) for d in range(5)]
    items = [hx.HisItem(t, hx.Number(n / 4, "°F")) for n, t in enumerate(times)]
    items[12] = hx.HisItem(times[12], hx.NA)
    items[20] = hx.HisItem(times[20], hx.Number(float("nan"), "°F"))
    db.his.write(ref, items)
    return ref


def _text(items: list[Any]) -> list[tuple[datetime, str]]:
    """Items comparable with NaN among them."""
    return [(t, zinc.dumps(v)) for t, v in items]


def _joined(slices: Any) -> list[Any]:
    return [item for items in slices for item in items]


SPANS = [
    None,
    (T0 - timedelta(days=1), T0 + timedelta(days=100)),
    (T0 + timedelta(minutes=30), T0 + timedelta(days=1) + 20 * SEC),
    (T0 + timedelta(days=1) + 5 * SEC, T0 + timedelta(days=1) + 6 * SEC),
    (T0 + timedelta(days=1) + 5 * SEC + MS, T0 + timedelta(days=1) + 6 * SEC + MS),
    (T0 + timedelta(days=2), T0 + timedelta(days=3)),  # no samples in it
    (T0 + timedelta(days=1), T0 + timedelta(days=1)),  # empty
    (T0 + timedelta(days=40), T0 + timedelta(days=41)),  # after the last sample
    (T0 - timedelta(days=2), T0 - timedelta(days=1)),  # before the first
]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
def test_item_slices_are_what_his_read_returns(db: hx.Folio, size: int) -> None:
    ref = _numbers(db)
    for bounds in SPANS:
        span = hx.Span(*bounds) if bounds is not None else None
        slices = list(item_slices(db, ref, span, size))
        assert all(len(items) <= size + 3 for items in slices)
        assert _text(_joined(slices)) == _text(db.his.read(ref, span)), bounds


def test_item_slices_of_a_point_without_history(db: hx.Folio) -> None:
    ref = _add_point(db, "empty", "Str")
    assert list(item_slices(db, ref, None, 3)) == []
    assert list(item_slices(db, ref, hx.Span(T0, T0 + MS), 3)) == []
    with pytest.raises(ValueError, match="size must be at least 1"):
        list(item_slices(db, ref, None, 0))


@pytest.mark.parametrize("size", [1, 4, 25, 10_000])
def test_array_slices_are_what_read_arrays_returns(db: hx.Folio, size: int) -> None:
    ref = _numbers(db)
    slices = list(array_slices(db, ref, size))
    ts = np.concatenate([s[1] for s in slices])
    val = np.concatenate([s[2] for s in slices])
    all_ts, all_val = db.his.read_arrays(ref)
    assert np.array_equal(ts, all_ts)
    assert np.array_equal(val, all_val, equal_nan=True)
    for window, part, _ in slices:
        assert epoch_ms(window.start) <= part[0] and part[-1] < epoch_ms(window.end)
    if size == 1:
        assert len(slices) >= 5


def _copy_records(source: hx.Folio, target: hx.Folio) -> None:
    report = ImportReport()
    import_records(target, persistent_recs(source, hx.Filter.parse("id")), report)
    assert not report.refused


def test_history_section_in_small_slices_restores_identical_reads(
    db: hx.Folio, open_db: Callable[..., hx.Folio], db_name: str, tmp_path: Path
) -> None:
    _numbers(db)
    flags = _add_point(db, "flag", "Bool")
    db.his.write(flags, [hx.HisItem(T0 + timedelta(minutes=m), m % 3 == 0) for m in range(30)])
    notes = _add_point(db, "note", "Str")
    db.his.write(notes, [hx.HisItem(T0 + timedelta(hours=h), f"note {h}") for h in range(11)])
    path = tmp_path / "history.zip"
    ticks: list[int] = []
    with zipfile.ZipFile(path, "w") as archive:
        total = write_history(db, archive, history_points(db), ticks.append, size=4)
    assert total == sum(ticks) == 55 + 30 + 11
    with zipfile.ZipFile(path) as archive:
        index = json.loads(archive.read("history.json"))
        assert all(len(row["entries"]) >= 2 for row in index)
        target = open_db(name=db_name + "-copy")
        _copy_records(db, target)
        assert read_history(target, archive, lambda n: None) == (3, 96, [])
    for pid in ("num", "flag", "note"):
        assert _text(target.his.read(pid)) == _text(db.his.read(pid))
    assert target.his.read("num")[12].val is hx.NA


def _old_his_read(items: list[Any], fmt: str, ref: hx.Ref, span: hx.Span | None) -> str:
    """What ``his read`` wrote before it read in slices."""
    out = io.StringIO()
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["ts", "val"])
        writer.writerows((ts.isoformat(), _val_text(val)) for ts, val in items)
        return out.getvalue()
    meta: dict[str, Any] = {"id": ref}
    if span is not None:
        meta.update(hisStart=span.start, hisEnd=span.end)
    grid = Grid(meta, ["ts", "val"], [{"ts": ts, "val": val} for ts, val in items])
    return zinc.dumps_grid(grid) if fmt == "zinc" else hx.json.dumps(grid) + "\n"


@pytest.mark.parametrize("fmt", ["csv", "zinc", "json"])
def test_his_read_output_in_slices_is_the_output_of_the_whole(db: hx.Folio, fmt: str) -> None:
    ref = _numbers(db)
    for bounds in SPANS:
        span = hx.Span(*bounds) if bounds is not None else None
        out = io.StringIO()
        _write_items(out, fmt, ref, span, item_slices(db, ref, span, 3))
        assert out.getvalue() == _old_his_read(db.his.read(ref, span), fmt, ref, span)


def test_version_1_archive_still_restores(
    stack_server: RedisServer, plain_server: RedisServer, db_name: str, tmp_path: Path
) -> None:
    args = setup_db(stack_server, db_name)
    with hx.open(stack_server.url, name=db_name) as db:
        ts = np.int64(1_709_269_200_000) + np.arange(500, dtype=np.int64) * 60_000
        db.his.write_many({"cli-pt": (ts, np.linspace(50.0, 80.0, len(ts)))})
        db.his.write("cli-pt", [hx.HisItem(T0 + timedelta(days=9), hx.NA)])
        db.his.write("cli-str", [hx.HisItem(T0.astimezone(hx.UTC), "on")])
        ts_all, val_all = db.his.read_arrays("cli-pt")
        na = np.array([epoch_ms(T0 + timedelta(days=9))], dtype=np.int64)
    archive = tmp_path / "new.hxbackup"
    ok(*args, "backup", str(archive))
    old = tmp_path / "v1.hxbackup"  # as version 1 wrote it: one entry per point
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(old, "w") as dst:
        manifest = json.loads(src.read("manifest.json"))
        manifest["version"] = 1
        dst.writestr("manifest.json", json.dumps(manifest))
        dst.writestr("records.trio", src.read("records.trio"))
        buf = io.BytesIO()
        np.savez(buf, ts=ts_all, val=val_all, na=na)
        dst.writestr("history/0.npz", buf.getvalue())
        doc = {"ts": [epoch_ms(T0)], "val": ["on"]}
        dst.writestr("history/1.json", json.dumps(doc))
        index = [
            {"id": "cli-pt", "entry": "history/0.npz", "samples": len(ts_all)},
            {"id": "cli-str", "entry": "history/1.json", "samples": 1},
        ]
        dst.writestr("history.json", json.dumps(index))
    out = ok("--uri", plain_server.url, "--name", db_name, "restore", str(old))
    assert "history: 502 samples of 2 points" in out
    original, restored = history(stack_server, db_name), history(plain_server, db_name)
    assert {pid: _text(items) for pid, items in restored.items()} == {
        pid: _text(items) for pid, items in original.items()
    }


def test_an_archive_of_an_unknown_version_is_refused(
    plain_server: RedisServer, db_name: str, tmp_path: Path
) -> None:
    future = tmp_path / "v3.hxbackup"
    with zipfile.ZipFile(future, "w") as dst:
        dst.writestr("manifest.json", json.dumps({"format": "hxredis-backup", "version": 3}))
    result = run("--uri", plain_server.url, "--name", db_name, "restore", str(future))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"hxredis: error: {future} is a version 3 backup; this hxredis reads versions 1, 2"
    ]
