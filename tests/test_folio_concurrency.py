"""Coherence and optimistic concurrency across Folios and OS processes (architecture.md
"Concurrency and cache", the issue's items 4 and 5): every commit is checked inside Redis
against the stored mod, the change stream brings other processes' commits into this
process's cache, ``sync()`` catches up at once, transient tags stay in their process."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from helpers.folio_util import (
    add_rec,
    commit,
    keys_of,
    raises_exactly,
    rec_state,
    stored_trio,
    stored_version,
    wait_for,
)

import hxredis as hx
from hxredis.server import RedisServer

M = hx.MARKER
WORKER = Path(__file__).parent / "helpers" / "folio_worker.py"


def n(val: float) -> hx.Number:
    return hx.Number(val)


def snapshot(db: hx.Folio) -> dict:
    return {r["id"].id: rec_state(r) for r in db.read_all("id")}


# ------------------------------------------------------------------------------------------------
# two Folios in one process (each has its own cache, as two processes would)
# ------------------------------------------------------------------------------------------------


def test_other_folios_commits_show_without_sync(open_db) -> None:
    a, b = open_db(), open_db()
    rec = add_rec(a, {"dis": "x", "site": M, "v": n(1)})
    wait_for(lambda: b.read_by_id(rec["id"], False), what="add to show")
    assert rec_state(b.read_by_id(rec["id"])) == rec_state(rec)
    assert b.read_count("site") == 1
    rec = commit(a, rec, {"v": n(2), "site": hx.REMOVE, "equip": M})
    wait_for(lambda: b.read_by_id(rec["id"])["v"] == n(2), what="update to show")
    assert rec_state(b.read_by_id(rec["id"])) == rec_state(rec)
    assert b.read_all("site") == []
    assert [r["id"] for r in b.read_all("equip")] == [rec["id"]]
    rec = commit(a, rec, {"trash": M})
    wait_for(lambda: b.read_by_id(rec["id"], False) is None, what="trash to show")
    assert b.read_trash("equip")[0]["id"] == rec["id"]
    a.commit(hx.Diff(rec, None, hx.Diff.REMOVE))
    wait_for(lambda: b.read_by_id_trash(rec["id"], False) is None, what="remove to show")
    wait_for(lambda: b.cur_ver == a.cur_ver, what="version to follow")


def test_sync_catches_up_at_once(open_db) -> None:
    a = open_db()
    b = open_db(follow=False)
    rec = add_rec(a, {"dis": "x"})
    assert b.read_by_id(rec["id"], False) is None  # nobody follows the stream for b
    assert b.sync() is b
    assert rec_state(b.read_by_id(rec["id"])) == rec_state(rec)
    assert b.cur_ver == a.cur_ver
    rec = commit(a, rec, {"dis": "y"})
    a.commit(hx.Diff.make_add({"dis": "z"}))
    b.sync()
    assert snapshot(b) == snapshot(a)
    assert b.cur_ver == a.cur_ver == stored_version(a)


def test_commits_are_checked_in_redis_not_only_in_the_cache(open_db) -> None:
    a = open_db()
    b = open_db(follow=False)
    rec = add_rec(a, {"dis": "x", "v": n(0)})
    b.sync()
    b_rec = b.read_by_id(rec["id"])
    commit(a, rec, {"v": n(1)})
    # b's cache still holds the old record; Redis refuses b's commit anyway
    assert b.read_by_id(rec["id"])["v"] == n(0)
    raises_exactly(hx.ConcurrentChangeError, lambda: commit(b, b_rec, {"v": n(100)}))
    assert hx.trio.loads(stored_trio(a, rec["id"].id))[0]["v"] == n(1)
    b.sync()
    fresh = b.read_by_id(rec["id"])
    assert fresh["v"] == n(1)
    assert commit(b, fresh, {"v": n(2)})["v"] == n(2)
    a.sync()
    assert a.read_by_id(rec["id"])["v"] == n(2)


def test_duplicate_add_across_folios(open_db) -> None:
    a = open_db()
    b = open_db(follow=False)
    add_rec(a, {"dis": "from a"}, hx.Ref("dup-id"))
    ver = stored_version(a)
    raises_exactly(
        hx.CommitError, lambda: add_rec(b, {"dis": "from b"}, hx.Ref("dup-id")), "already exists"
    )
    assert stored_version(a) == ver
    b.sync()
    assert b.read_by_id("dup-id")["dis"] == "from a"
    assert a.read_by_id("dup-id")["dis"] == "from a"


def test_changes_to_records_removed_elsewhere(open_db) -> None:
    a = open_db()
    b = open_db(follow=False)
    rec = add_rec(a, {"dis": "x"})
    b.sync()
    b_rec = b.read_by_id(rec["id"])
    a.commit(hx.Diff(rec, None, hx.Diff.REMOVE))
    raises_exactly(hx.CommitError, lambda: commit(b, b_rec, {"y": M}), "not found")
    raises_exactly(hx.CommitError, lambda: commit(b, b_rec, {"y": M}, hx.Diff.FORCE), "not found")
    b.sync()
    assert b.read_by_id(rec["id"], False) is None


def test_remove_of_a_record_changed_elsewhere(open_db) -> None:
    a = open_db()
    b = open_db(follow=False)
    rec = add_rec(a, {"dis": "x"})
    b.sync()
    b_rec = b.read_by_id(rec["id"])
    commit(a, rec, {"dis": "y"})
    raises_exactly(hx.ConcurrentChangeError, lambda: b.commit(hx.Diff(b_rec, None, hx.Diff.REMOVE)))
    assert stored_trio(a, rec["id"].id) is not None


def test_stale_batch_applies_nothing(open_db) -> None:
    a = open_db()
    b = open_db(follow=False)
    x = add_rec(a, {"dis": "x", "v": n(0)})
    y = add_rec(a, {"dis": "y", "v": n(0)})
    b.sync()
    bx, by = b.read_by_id(x["id"]), b.read_by_id(y["id"])
    commit(a, y, {"v": n(1)})
    ver = stored_version(a)
    raises_exactly(
        hx.ConcurrentChangeError,
        lambda: b.commit_all(
            [
                hx.Diff(bx, {"v": n(9)}),
                hx.Diff.make_add({"dis": "new"}, hx.Ref("new-in-batch")),
                hx.Diff(by, {"v": n(9)}),
            ]
        ),
    )
    assert stored_version(a) == ver
    assert stored_trio(a, "new-in-batch") is None
    assert hx.trio.loads(stored_trio(a, x["id"].id))[0]["v"] == n(0)
    b.sync()
    assert b.read_by_id(x["id"])["v"] == n(0)
    assert b.read_by_id("new-in-batch", False) is None


def test_force_overrides_other_folios_change(open_db) -> None:
    a = open_db()
    b = open_db(follow=False)
    rec = add_rec(a, {"dis": "x", "v": n(0)})
    b.sync()
    b_rec = b.read_by_id(rec["id"])
    commit(a, rec, {"v": n(1), "w": M})
    forced = b.commit(hx.Diff(b_rec, {"v": n(5)}, hx.Diff.FORCE)).new_rec
    assert forced["v"] == n(5)
    assert forced["w"] is M  # the stored record, not b's stale copy, was the base
    a.sync()
    assert rec_state(a.read_by_id(rec["id"])) == rec_state(b.read_by_id(rec["id"]))


def test_transient_tags_belong_to_one_folio(open_db) -> None:
    a, b = open_db(), open_db()
    rec = add_rec(a, {"dis": "pt", "point": M})
    b.sync()
    a.commit(hx.Diff(rec, {"curVal": n(1), "curStatus": "ok"}, hx.Diff.TRANSIENT))
    b.commit(hx.Diff(b.read_by_id(rec["id"]), {"curVal": n(2)}, hx.Diff.TRANSIENT))
    b.sync()
    a.sync()
    assert a.read_by_id(rec["id"])["curVal"] == n(1)
    assert b.read_by_id(rec["id"])["curVal"] == n(2)
    assert "curStatus" not in b.read_by_id(rec["id"])
    # a persistent commit elsewhere keeps each Folio's transient tags
    commit(a, a.read_by_id(rec["id"]), {"dis": "pt2"})
    wait_for(lambda: b.read_by_id(rec["id"])["dis"] == "pt2", what="b to follow")
    assert b.read_by_id(rec["id"])["curVal"] == n(2)
    assert b.read("curVal == 2")["id"] == rec["id"]
    assert a.read_by_id(rec["id"])["curVal"] == n(1)
    # a fresh Folio sees none
    assert "curVal" not in open_db().read_by_id(rec["id"])


def test_version_counts_every_commit(open_db) -> None:
    a, b = open_db(), open_db()
    start = stored_version(a)
    for i in range(10):
        add_rec(a if i % 2 else b, {"i": n(i)})
    a.commit_all([hx.Diff.make_add({"j": n(j)}) for j in range(3)])
    assert stored_version(a) == start + 11
    a.sync()
    b.sync()
    assert a.cur_ver == b.cur_ver == start + 11


def test_trimmed_change_stream_reloads(open_db) -> None:
    """A Folio that missed change stream entries (trimmed away) reloads everything."""
    a = open_db()
    b = open_db(follow=False)
    keep = add_rec(a, {"dis": "keep", "v": n(0)})
    gone = add_rec(a, {"dis": "gone"})
    b.sync()
    commit(a, keep, {"v": n(1)})
    a.commit(hx.Diff(gone, None, hx.Diff.REMOVE))
    added = add_rec(a, {"dis": "added"})
    a.client.xtrim(keys_of(a).changes, maxlen=1, approximate=False)
    b.sync()
    assert snapshot(b) == snapshot(a)
    assert b.read_by_id(gone["id"], False) is None
    assert b.read_by_id(added["id"])["dis"] == "added"
    assert b.cur_ver == a.cur_ver


def test_threads_share_one_folio(db: hx.Folio) -> None:
    rec = add_rec(db, {"dis": "counter", "n": n(0)})
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(40):
                while True:
                    current = db.read_by_id(rec["id"])
                    try:
                        db.commit(hx.Diff(current, {"n": n(current["n"].val + 1)}))
                        break
                    except hx.ConcurrentChangeError:
                        continue
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert db.read_by_id(rec["id"])["n"] == n(160)
    assert hx.trio.loads(stored_trio(db, rec["id"].id))[0]["n"] == n(160)


# ------------------------------------------------------------------------------------------------
# OS processes
# ------------------------------------------------------------------------------------------------


def _spawn(mode: str, server: RedisServer, name: str, tag: str, start_at: float, ids, *extra):
    args = [sys.executable, "-X", "faulthandler", str(WORKER), mode, server.url, name, tag]
    args += [repr(start_at), "2.5"]
    args += [",".join(ids), *extra]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _results(procs: list[subprocess.Popen]) -> list[dict]:
    out = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, f"worker exit {proc.returncode}: {stdout[-1500:]}\n{stderr}"
        result = json.loads(stdout.strip().splitlines()[-1])
        assert result["errors"] == []
        out.append(result)
    return out


def test_another_process_commit_shows(redis_server: RedisServer, db: hx.Folio) -> None:
    proc = _spawn("once", redis_server, db.name, "from child", 0, ["child-rec"])
    _results([proc])
    rec = wait_for(lambda: db.read_by_id("child-rec", False), what="the child's record")
    assert rec["dis"] == "from child"


def test_two_processes_update_the_same_records(redis_server: RedisServer, db: hx.Folio) -> None:
    """No lost update: each success is visible, each loser got ConcurrentChangeError, the
    version counts every success, and every cache converges."""
    recs = [add_rec(db, {"dis": f"r{i}", "n": n(0)}) for i in range(3)]
    ids = [r["id"].id for r in recs]
    ver = stored_version(db)
    db.client.set(f"hxtest:{db.name}:done:n", 2)
    start_at = time.time() + 1.5
    procs = [_spawn("update", redis_server, db.name, tag, start_at, ids) for tag in ("p1", "p2")]
    results = _results(procs)

    successes = [s for r in results for s in r["successes"]]
    assert all(r["successes"] for r in results), "both processes made progress"
    assert sum(r["conflicts"] for r in results) > 0, "the processes raced"
    # no lost update: per record, the committed values are exactly 1..final
    with hx.open(redis_server.url, name=db.name) as other:
        fresh = {r["id"].id: r for r in other.read_all("id")}
    for rec_id in ids:
        values = sorted(v for i, v in successes if i == rec_id)
        assert values == list(range(1, len(values) + 1)), rec_id
        assert fresh[rec_id]["n"] == n(len(values))
    assert stored_version(db) == ver + len(successes)
    # every cache converged on the same records, by following the change stream
    expected = {
        rec_id: [rec["n"].val, hx.zinc.dumps(rec["mod"]), rec.get("by")]
        for rec_id, rec in fresh.items()
    }
    for result in results:
        assert result["final"] == expected
        assert result["cur_ver"] == ver + len(successes)
    wait_for(lambda: db.cur_ver == ver + len(successes), what="the test's own Folio")
    assert {r["id"].id: rec_state(r) for r in db.read_all("id")} == {
        rec_id: rec_state(rec) for rec_id, rec in fresh.items()
    }


def test_two_processes_add_the_same_ids(redis_server: RedisServer, db: hx.Folio) -> None:
    """Duplicate adds: exactly one process wins each id, the other gets CommitError."""
    ids = [f"dup-{i}" for i in range(300)]
    ver = stored_version(db)
    db.client.set(f"hxtest:{db.name}:done:n", 2)
    start_at = time.time() + 1.5
    procs = [
        _spawn("add", redis_server, db.name, "p1", start_at, ids),
        _spawn("add", redis_server, db.name, "p2", start_at, ids, "--no-follow"),
    ]
    p1, p2 = _results(procs)
    for result in (p1, p2):
        assert sorted(result["won"] + result["lost"]) == sorted(ids)
    assert set(p1["won"]).isdisjoint(p2["won"])
    assert set(p1["won"]) | set(p2["won"]) == set(ids)
    assert stored_version(db) == ver + len(ids)
    db.sync()
    for rec_id in ids:
        owner = db.read_by_id(rec_id)["owner"]
        assert rec_id in (p1["won"] if owner == "p1" else p2["won"])
