"""A bad day for an operator, compressed (``make faults``; deselected in ``make test``): threads
committing and reading, writer processes in other OS processes (one of them SIGKILLed
mid-way), the server paused again and again longer than the socket timeout.  Afterwards every
cache equals Redis and no counter was incremented twice by one successful commit.

``HXREDIS_SOAK_SECONDS`` sets the length of the disturbed phase (default 20)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from helpers.folio_util import rec_state

import hxredis as hx
from hxredis.server import RedisServer, start_server

pytestmark = pytest.mark.soak

SECONDS = float(os.environ.get("HXREDIS_SOAK_SECONDS", "20"))

#: Failures a caller may see while the server is paused or other writers interfere.
EXPECTED = (hx.ConcurrentChangeError, hx.TimeoutError, hx.CommitOutcomeUnknownError)

WRITER = """
import json, sys, time
import hxredis as hx
uri, name, tag, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
db = hx.open(uri, name=name, socket_timeout=0.5)
ids = [r["id"] for r in db.read_all(f"owner == \\"{tag}\\"")]
done, unknown, errors = 0, 0, []
deadline = time.time() + seconds
while time.time() < deadline:
    for ref in ids:
        try:
            rec = db.read_by_id(ref)
            db.commit(hx.Diff(rec, {"n": hx.Number(rec["n"].val + 1)}))
            done += 1
        except hx.CommitOutcomeUnknownError:
            unknown += 1
        except (hx.ConcurrentChangeError, hx.TimeoutError):
            pass
        except Exception as exc:
            errors.append(repr(exc))
db.close()
print(json.dumps({"done": done, "unknown": unknown, "errors": errors}))
"""


@pytest.fixture(params=[True, False], ids=["stack", "plain"])
def server(request: pytest.FixtureRequest) -> Iterator[RedisServer]:
    srv = start_server(timeseries=request.param)
    yield srv
    with contextlib.suppress(ProcessLookupError):
        os.kill(srv.pid, signal.SIGCONT)
    srv.stop()


def _writer(server: RedisServer, name: str, tag: str, seconds: float) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, server.url, name, tag, str(seconds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_bad_day(server: RedisServer, db_name: str) -> None:
    db = hx.open(server.url, name=db_name, socket_timeout=0.5)
    try:
        for owner in ("threads", "survivor", "victim"):
            db.commit_all(
                [hx.Diff.make_add({"owner": owner, "n": hx.Number(0)}) for _ in range(10)]
            )
        shared = [r["id"] for r in db.read_all('owner == "threads"')]
        survivor = _writer(server, db_name, "survivor", SECONDS)
        victim = _writer(server, db_name, "victim", SECONDS)
        stop = threading.Event()
        counts: Counter[str] = Counter()
        unexpected: list[BaseException] = []
        lock = threading.Lock()

        def work(seed: int) -> None:
            i = seed
            while not stop.is_set():
                i += 1
                ref = shared[i % len(shared)]
                try:
                    db.read_all("owner")
                    rec = db.read_by_id(ref)
                    db.commit(hx.Diff(rec, {"n": hx.Number(rec["n"].val + 1)}))
                    outcome = "done"
                except hx.CommitOutcomeUnknownError:
                    outcome = "unknown"
                except EXPECTED:
                    outcome = "refused"
                except BaseException as exc:  # anything else is a defect
                    with lock:
                        unexpected.append(exc)
                    outcome = "unexpected"
                with lock:
                    counts[outcome] += 1

        def disturb() -> None:
            killed = False
            started = time.monotonic()
            while not stop.wait(1.2):
                os.kill(server.pid, signal.SIGSTOP)
                stop.wait(0.8)
                os.kill(server.pid, signal.SIGCONT)
                if not killed and time.monotonic() - started > SECONDS / 2:
                    victim.kill()
                    killed = True

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        threads.append(threading.Thread(target=disturb))
        for t in threads:
            t.start()
        time.sleep(SECONDS)
        stop.set()
        for t in threads:
            t.join()
        os.kill(server.pid, signal.SIGCONT)
        out, err = survivor.communicate(timeout=120)
        victim.wait(timeout=60)
        report = json.loads(out)

        assert unexpected == []
        assert report["errors"] == [], err
        assert counts["done"] > 0
        db.sync()
        with hx.open(server.url, name=db_name, follow=False) as fresh:
            truth = {r["id"].id: rec_state(r) for r in fresh.read_all("id")}
            n_threads = sum(r["n"].val for r in fresh.read_all('owner == "threads"'))
            n_survivor = sum(r["n"].val for r in fresh.read_all('owner == "survivor"'))
        assert {r["id"].id: rec_state(r) for r in db.read_all("id")} == truth
        # every successful increment applied once; an unknown one at most once
        assert counts["done"] <= n_threads <= counts["done"] + counts["unknown"]
        assert report["done"] <= n_survivor <= report["done"] + report["unknown"]
    finally:
        db.close()
