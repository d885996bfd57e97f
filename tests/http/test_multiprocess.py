"""Two ``hxredis serve`` processes on one database (the second with two uvicorn workers):
a commit through one shows in a watch poll and a read on the other; logins and tokens work
across processes."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from http_util import PASSWORDS, Served, api, eventually, login
from phable import HaxallClient, Marker, Number

import hxredis as hx
from hxredis.server import RedisServer


def test_commit_on_one_shows_on_the_other(
    served: Served, serve_factory: Callable[..., Served]
) -> None:
    other = serve_factory(served.redis, served.name, workers=2)
    a = HaxallClient.open(served.uri, "admin", PASSWORDS["admin"])
    rec = a.commit_add([{"dis": "Shared", "site": Marker(), "n": Number(1)}]).rows[0]
    ref = hx.Ref(rec["id"].val)

    token = login(other)  # the handshake's three steps may reach different workers
    with api(other, token) as b:

        def read_n() -> hx.Grid:
            return hx.zinc.loads(b.get("read", params={"id": f"@{ref.id}"}).text)

        assert eventually(read_n, lambda g: g.rows).rows[0]["dis"] == "Shared"
        sub = hx.Grid({"watchDis": "other"}, ["id"], [{"id": ref}])
        watch = hx.zinc.loads(b.post("watchSub", content=hx.zinc.dumps_grid(sub)).text)
        poll_req = hx.zinc.dumps_grid(hx.Grid({"watchId": watch.meta["watchId"]}, ["empty"], []))

        def poll() -> hx.Grid:
            return hx.zinc.loads(b.post("watchPoll", content=poll_req).text)

        assert len(poll().rows) == 1  # the first poll answers everything
        a.commit_update([{"id": rec["id"], "mod": rec["mod"], "n": Number(2)}])
        changed = eventually(poll, lambda g: g.rows)
        assert changed.rows[0]["n"] == hx.Number(2)
        assert eventually(read_n, lambda g: g.rows[0]["n"] == hx.Number(2)).rows[0]["n"] == (
            hx.Number(2)
        )
        for _ in range(6):  # a token from one process works on the other's workers
            assert b.get("about").status_code == 200
    with api(served, token) as a_raw:
        assert a_raw.get("about").status_code == 200
    a.close()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_tls(
    redis_server: RedisServer, serve_factory: Callable[..., Served], tmp_path: Path
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    served = serve_factory(
        redis_server, None, "--tls-cert", str(cert), "--tls-key", str(key), scheme="https"
    )
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False
    client = HaxallClient.open(served.uri, "viewer", PASSWORDS["viewer"], ssl_context=context)
    assert client.about()["productName"] == "hxredis"
    client.close()


def test_read_right_after_a_commit_elsewhere(served: Served) -> None:
    """No waiting: each request catches up with the change stream before it reads (here the
    last of a batch of new points, which the server's follower may not have applied yet)."""
    with served.open_db() as db, api(served, login(served)) as client:
        for n in range(5):
            diffs = [
                hx.Diff.make_add({"dis": f"Fresh {n}.{i}", "point": hx.MARKER, "his": hx.MARKER,
                                  "kind": "Number", "tz": "UTC"})
                for i in range(500)
            ]  # fmt: skip
            ref = db.commit_all(diffs)[-1].new_rec["id"]
            read = hx.zinc.loads(client.get("read", params={"id": f"@{ref.id}"}).text)
            assert read.rows and read.rows[0]["dis"] == f"Fresh {n}.499"
            rng = {"id": f"@{ref.id}", "range": "today"}
            assert "err" not in hx.zinc.loads(client.get("hisRead", params=rng).text).meta
