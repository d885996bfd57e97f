"""fork() with open Folios: the child's inherited Folio acts as closed (never deadlocks on a
lock a parent thread held), the child can open the database again, the parent goes on."""

from __future__ import annotations

import os
import signal
import threading
import time
import warnings

import pytest
from helpers.folio_util import add_rec

import hxredis as hx
from hxredis.server import RedisServer

CHILDREN = 40
CHILD_TIMEOUT = 30.0  # seconds for all children together; a hung child is killed

# child exit codes
OK, READ_WORKED, WRONG_MESSAGE, COMMIT_WORKED, REOPEN_FAILED, CRASHED = range(6)


def _child(db: hx.Folio, url: str, name: str) -> int:
    """What a forked child does with the parent's Folio and a new one; its exit code."""
    try:
        try:
            db.read_all("dis")
            return READ_WORKED
        except hx.ShutdownError as exc:
            if "before fork()" not in str(exc) or str(os.getppid()) not in str(exc):
                return WRONG_MESSAGE
        try:
            db.commit(hx.Diff.make_add({"dis": "from a child"}))
            return COMMIT_WORKED
        except hx.ShutdownError:
            pass
        db.close()  # a no-op: the parent's connections and server stay untouched
        with hx.open(url, name=name, follow=False) as again:
            if again.read_count("counter") != 1:
                return REOPEN_FAILED
        return OK
    except BaseException:
        return CRASHED


def _fork(db: hx.Folio, url: str, name: str) -> int:
    with warnings.catch_warnings():  # Python 3.12+ warns about fork() with threads
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:
        code = CRASHED
        try:
            code = _child(db, url, name)
        finally:
            os._exit(code)
    return pid


def _reap(pids: list[int], timeout: float) -> dict[int, int | None]:
    """Exit codes by pid; None for a child still running at the deadline (then killed)."""
    codes: dict[int, int | None] = {}
    deadline = time.monotonic() + timeout
    while len(codes) < len(pids) and time.monotonic() < deadline:
        for pid in pids:
            if pid not in codes:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    codes[pid] = os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    for pid in pids:
        if pid not in codes:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            codes[pid] = None
    return codes


def test_fork_while_the_follower_is_busy(plain_server: RedisServer, db_name: str) -> None:
    url = plain_server.url
    with hx.open(url, name=db_name) as db, hx.open(url, name=db_name) as other:
        rec = add_rec(other, {"dis": "Counter", "counter": hx.Number(0)})
        stop = threading.Event()

        def commit_in_a_loop() -> None:  # keeps db's follower applying changes
            current = rec
            while not stop.is_set():
                n = current["counter"].val + 1
                current = other.commit(hx.Diff(current, {"counter": hx.Number(n)})).new_rec

        writer = threading.Thread(target=commit_in_a_loop, daemon=True)
        writer.start()
        try:
            pids = []
            for _ in range(CHILDREN):
                _wait_for_a_change(db)
                pids.append(_fork(db, url, db_name))
            codes = _reap(pids, CHILD_TIMEOUT)
        finally:
            stop.set()
            writer.join(10)
        assert sorted(codes.values(), key=str) == [OK] * CHILDREN, codes
        # the parent's Folio still works and follows
        assert db.sync().read_by_id(rec["id"])["counter"] == other.read_by_id(rec["id"])["counter"]
        assert db.cur_ver == other.cur_ver


def _wait_for_a_change(db: hx.Folio) -> None:
    """Until the follower applied another commit (so forks land while it works)."""
    ver = db.cur_ver
    deadline = time.monotonic() + 10
    while db.cur_ver == ver and time.monotonic() < deadline:
        time.sleep(0.001)


def test_a_closed_folio_in_the_parent_still_says_closed(open_db) -> None:
    db = open_db()
    db.close()
    with pytest.raises(hx.ShutdownError, match=r"^Cannot read, folio is closed$"):
        db.read_all("dis")
    with pytest.raises(hx.ShutdownError, match=r"^Cannot write, folio is closed$"):
        db.commit(hx.Diff.make_add({"dis": "x"}))
