"""A second OS process for the multi-process Folio tests; prints one JSON document on stdout.

Usage: ``python folio_worker.py MODE URI NAME TAG START_AT DURATION IDS [--no-follow]``

- ``update``: until ``START_AT + DURATION`` (epoch seconds), read records ``IDS`` (comma
  separated) from this process's cache and commit ``n + 1`` to them in turn.  Every success
  and every ConcurrentChangeError is recorded.
- ``add``: add each id of ``IDS`` in order with ``owner: TAG``; record which adds won and
  which got CommitError.
- ``once``: add one record with id ``IDS`` and ``dis: TAG`` right away, then exit.

``update`` and ``add`` then wait until every worker sharing ``NAME`` is done (a counter in
Redis) and until this Folio's cache has caught up with the database version by itself (the
change stream follower, no ``sync()``), and report the records as this process sees them.
Any other exception is reported in ``errors`` and makes the exit status 1.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from typing import Any

import hxredis as hx
from hxredis.keys import KeySchema


def main(argv: list[str]) -> int:
    mode, uri, name, tag, start_at, duration, id_list = argv[:7]
    follow = "--no-follow" not in argv
    ids = id_list.split(",")
    out: dict[str, Any] = {"errors": [], "successes": [], "conflicts": 0, "won": [], "lost": []}
    db = hx.open(uri, name=name, follow=follow)
    keys = KeySchema("hx", name)
    try:
        if mode == "once":
            db.commit(hx.Diff.make_add({"dis": tag}, hx.Ref(ids[0])))
            return 0
        while time.time() < float(start_at):
            time.sleep(0.001)
        deadline = float(start_at) + float(duration)
        if mode == "update":
            _update(db, ids, tag, deadline, out)
        elif mode == "add":
            _add(db, ids, tag, out)
        else:
            raise ValueError(f"unknown mode {mode}")
        done_key = f"hxtest:{name}:done"
        db.client.incr(done_key)
        _wait(lambda: int(db.client.get(done_key) or 0) >= int(db.client.get(done_key + ":n")))
        _wait(lambda: db.cur_ver == int(db.client.get(keys.ver)))
        out["cur_ver"] = db.cur_ver
        out["final"] = {
            rec["id"].id: [_num(rec.get("n")), hx.zinc.dumps(rec["mod"]), rec.get("by")]
            for rec in db.read_all("id")
        }
    except Exception:
        out["errors"].append(traceback.format_exc())
    finally:
        db.close()
        print(json.dumps(out))
    return 1 if out["errors"] else 0


def _update(db: hx.Folio, ids: list[str], tag: str, deadline: float, out: dict) -> None:
    i = 0
    while time.time() < deadline:
        rec_id = ids[i % len(ids)]
        i += 1
        rec = db.read_by_id(rec_id)
        new = hx.Number(rec["n"].val + 1)
        try:
            db.commit(hx.Diff(rec, {"n": new, "by": tag}))
        except hx.ConcurrentChangeError:
            out["conflicts"] += 1
            continue
        out["successes"].append([rec_id, int(new.val)])


def _add(db: hx.Folio, ids: list[str], tag: str, out: dict) -> None:
    for rec_id in ids:
        try:
            db.commit(hx.Diff.make_add({"owner": tag, "by": tag}, hx.Ref(rec_id)))
        except hx.CommitError as exc:
            if type(exc) is not hx.CommitError:
                raise
            out["lost"].append(rec_id)
            continue
        out["won"].append(rec_id)


def _num(val: Any) -> float | None:
    return val.val if isinstance(val, hx.Number) else None


def _wait(predicate: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("worker gave up waiting")
        time.sleep(0.005)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
