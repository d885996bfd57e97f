"""The HTTP API over real HTTP: ``hxredis serve`` processes on Redis Stack, timed by an httpx
client with keep-alive, next to an empty endpoint of the same stack (Starlette on uvicorn).

Per request: read by id, read of 1,000 records, hisRead of 1,000 and of 100,000 items,
hisWrite of 100 items.  Throughput: requests/s and p50 with 50 concurrent clients (asyncio,
httpx) against one and two workers, reading by id, next to the empty endpoint.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pytest
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

import hxredis as hx
from hxredis.http.auth import UserStore

NAME = "benchhttp"
CLIENTS = 50
LOAD_SECONDS = 4.0


def empty_app() -> Starlette:
    """The empty endpoint: Starlette on uvicorn, the same stack without hxredis."""

    async def empty(request) -> Response:
        return Response(b"", 200, media_type="text/zinc")

    return Starlette(routes=[Route("/api/{op}", empty, methods=["GET", "POST"])])


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args: list[str], url: str, ok: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == ok:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{args} did not start")


def _serve(redis_url: str, workers: int) -> tuple[str, subprocess.Popen[bytes]]:
    port = _port()
    args = [sys.executable, "-m", "hxredis", "--uri", redis_url, "--name", NAME, "serve"]
    args += ["--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    uri = f"http://127.0.0.1:{port}/api"
    return uri, _start(args, uri + "/about", 401)


def _serve_empty(workers: int) -> tuple[str, subprocess.Popen[bytes]]:
    port = _port()
    args = [sys.executable, "-m", "uvicorn", "--factory", "bench_http:empty_app", "--port",
            str(port), "--workers", str(workers), "--log-level", "warning"]  # fmt: skip
    uri = f"http://127.0.0.1:{port}/api"
    return uri, _start(args, uri + "/about", 200)


class Setup:
    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url
        self.procs: list[subprocess.Popen[bytes]] = []
        with hx.open(redis_url, name=NAME) as db:
            UserStore(db.client, "hx", NAME).add("bench", "bench-password", "admin")
            diffs = [
                hx.Diff.make_add(
                    {
                        "dis": f"Equip {i}",
                        "equip": hx.MARKER,
                        "bench": hx.MARKER,
                        "area": hx.Number(i, "ft²"),
                    }
                )
                for i in range(1000)
            ]
            self.one_id = db.commit_all(diffs)[0].new_rec["id"]
            self.points = {}
            for n in (1_000, 100_000, 0):
                rec = db.commit(
                    hx.Diff.make_add(
                        {
                            "dis": f"P{n}",
                            "point": hx.MARKER,
                            "his": hx.MARKER,
                            "kind": "Number",
                            "tz": "UTC",
                            "unit": "kW",
                        }
                    )
                ).new_rec
                if n:
                    start = int(datetime(2024, 1, 1, tzinfo=hx.UTC).timestamp() * 1000)
                    ts = start + np.arange(n, dtype=np.int64) * 60_000
                    db.his.write_arrays(rec["id"], ts, np.arange(n, dtype=np.float64))
                self.points[n] = rec["id"]

    def start(self, workers: int) -> str:
        uri, proc = _serve(self.redis_url, workers)
        self.procs.append(proc)
        return uri

    def start_empty(self, workers: int) -> str:
        uri, proc = _serve_empty(workers)
        self.procs.append(proc)
        return uri

    def close(self) -> None:
        for proc in self.procs:
            proc.terminate()
            proc.wait(timeout=30)


@pytest.fixture(scope="module")
def setup(stack_server) -> Iterator[Setup]:
    s = Setup(stack_server.url)
    yield s
    s.close()


def _token(uri: str) -> str:
    from phable import HaystackClient

    return HaystackClient.open(uri, "bench", "bench-password")._auth_token


@pytest.fixture(scope="module")
def api(setup: Setup) -> Iterator[httpx.Client]:
    uri = setup.start(1)
    headers = {"Authorization": f"BEARER authToken={_token(uri)}", "Content-Type": "text/zinc"}
    with httpx.Client(base_url=uri + "/", headers=headers) as client:
        yield client


@pytest.fixture(scope="module")
def empty(setup: Setup) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=setup.start_empty(1) + "/") as client:
        yield client


def _zinc(grid: hx.Grid) -> str:
    return hx.zinc.dumps_grid(grid)


def test_empty_endpoint(benchmark, empty, report) -> None:
    benchmark(lambda: empty.get("about"))
    report.add(f"http empty endpoint: {report.median(benchmark) * 1e6:.0f} us")
    report.empty = report.median(benchmark)


def _check(resp: httpx.Response) -> httpx.Response:
    assert resp.status_code == 200 and " err " not in resp.text.split("\n", 1)[0], resp.text[:300]
    return resp


def _case(benchmark, report, label: str, fn) -> None:
    benchmark(fn)
    median = report.median(benchmark)
    ratio = median / report.empty if getattr(report, "empty", None) else float("nan")
    report.add(f"http {label}: {median * 1e6:.0f} us ({ratio:.1f}x the empty endpoint)")


def test_read_by_id(benchmark, setup, api, report) -> None:
    body = _zinc(hx.Grid({}, ["id"], [{"id": setup.one_id}]))
    _case(benchmark, report, "read by id", lambda: _check(api.post("read", content=body)))


def test_read_1000(benchmark, api, report) -> None:
    body = _zinc(hx.Grid({}, ["filter"], [{"filter": "bench"}]))

    def run() -> None:
        assert _check(api.post("read", content=body)).text.count("\n") >= 1001

    _case(benchmark, report, "read of 1,000 records", run)


@pytest.mark.parametrize("n", [1_000, 100_000])
def test_his_read(benchmark, setup, api, report, n: int) -> None:
    ref = setup.points[n]
    start = datetime(2024, 1, 1, tzinfo=hx.UTC)
    rng = f"{hx.zinc.dumps(start)},{hx.zinc.dumps(start + timedelta(minutes=n))}"
    body = _zinc(hx.Grid({}, ["id", "range"], [{"id": ref, "range": rng}]))

    def run() -> None:
        assert _check(api.post("hisRead", content=body)).text.count("\n") >= n + 2

    _case(benchmark, report, f"hisRead of {n:,} items", run)


def test_his_write_100(benchmark, setup, api, report) -> None:
    ref = setup.points[0]
    start = datetime(2024, 1, 1, tzinfo=hx.UTC)
    counter = iter(range(10**9))

    def run() -> None:
        base = start + timedelta(days=next(counter))
        rows = [{"ts": base + timedelta(minutes=i), "val": hx.Number(i, "kW")} for i in range(100)]
        body = _zinc(hx.Grid({"id": ref}, ["ts", "val"], rows))
        _check(api.post("hisWrite", content=body))

    _case(benchmark, report, "hisWrite of 100 items (incl. client-side encoding)", run)


async def _load(
    uri: str, headers: dict[str, str], method: str, body: str | None
) -> tuple[float, float]:
    """Requests/s and p50 (s) of CLIENTS concurrent clients for LOAD_SECONDS."""
    latencies: list[float] = []
    stop = time.perf_counter() + LOAD_SECONDS

    async def client() -> None:
        async with httpx.AsyncClient(base_url=uri + "/", headers=headers, timeout=60) as c:
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                resp = await c.request(method, "read", content=body)
                assert resp.status_code == 200
                latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return len(latencies) / (time.perf_counter() - t0), statistics.median(latencies)


@pytest.mark.parametrize("workers", [1, 2])
def test_concurrent_clients(benchmark, setup, report, workers: int) -> None:
    uri = setup.start(workers)
    headers = {"Authorization": f"BEARER authToken={_token(uri)}", "Content-Type": "text/zinc"}
    body = _zinc(hx.Grid({}, ["id"], [{"id": setup.one_id}]))
    rps, p50 = benchmark.pedantic(
        lambda: asyncio.run(_load(uri, headers, "POST", body)), rounds=1, iterations=1
    )
    empty_rps, empty_p50 = asyncio.run(_load(setup.start_empty(workers), {}, "POST", body))
    report.add(
        f"http {CLIENTS} clients, {workers} worker(s): read by id {rps:,.0f} req/s "
        f"(p50 {p50 * 1e3:.1f} ms); empty endpoint {empty_rps:,.0f} req/s "
        f"(p50 {empty_p50 * 1e3:.1f} ms); ratio {rps / empty_rps:.2f}"
    )
