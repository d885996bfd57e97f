"""History written by several OS processes at once; removal racing writes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

import hxredis as hx
from hxredis.keys import KeySchema

WORKER = Path(__file__).parent / "his_worker.py"
FIRST = 1_600_000_000  # 2020-09-13


def _start(server, db_name: str, rec_id: str, first: int, count: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(WORKER), server.url, db_name, rec_id, str(first), str(count)],
        stdout=subprocess.PIPE,
        text=True,
    )


def _result(proc: subprocess.Popen) -> dict:
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0
    return json.loads(out)


def test_two_processes_write_one_point(redis_server, db_name: str, db: hx.Folio, point) -> None:
    rec_id = point["id"].id
    procs = [_start(redis_server, db_name, rec_id, FIRST + k * 1000, 200) for k in range(2)]
    results = [_result(p) for p in procs]
    assert [r["written"] for r in results] == [200, 200]
    items = db.his.read(rec_id)
    assert len(items) == 400
    assert [int(i.ts.timestamp()) for i in items] == [
        FIRST + k * 1000 + i for k in range(2) for i in range(200)
    ]
    db.sync()
    assert db.read_by_id(rec_id)["hisSize"] == hx.Number(400)


def test_remove_during_writes_leaves_no_history(
    redis_server, db_name: str, db: hx.Folio, point
) -> None:
    rec_id = point["id"].id
    proc = _start(redis_server, db_name, rec_id, FIRST, 100_000)
    keys = KeySchema("hx", db_name)
    deadline = time.monotonic() + 30
    while not db.client.exists(keys.his(rec_id)) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    db.commit(hx.Diff(db.read_by_id(rec_id), None, hx.Diff.REMOVE))
    result = _result(proc)
    assert result["gone"] and 0 < result["written"] < 100_000
    db.commit(hx.Diff.make_add({"dis": "x"}))  # a later commit retries any deferred clean-up
    assert db.client.keys(f"hx:his:{{{db_name}:*") == []
    assert db.client.hlen(keys.his_sums) == 0
    assert db.client.scard(keys.his_gc) == 0


@pytest.mark.usefixtures("redis_server")
def test_write_to_a_record_removed_elsewhere(open_db, db: hx.Folio, point) -> None:
    other = open_db(follow=False)
    other.sync()
    db.commit(hx.Diff(point, None, hx.Diff.REMOVE))
    item = hx.HisItem(point["mod"].astimezone(hx.tz("New_York")), hx.Number(1))
    with pytest.raises(hx.UnknownRecError):
        other.his.write(point["id"], [item])
    assert db.client.keys(f"hx:his:{{{db.name}:*") == []
