"""Stress tests of every public native function (``hxredis._fastcore``) while its inputs change
under it: from a ``gc.callbacks`` hook that replaces dict values and list items during the call
(collections forced with ``gc.set_threshold(1)``) and from another thread (with
``sys.setswitchinterval(1e-6)``).  The result must be valid output or a clear error, never a
crash: each case runs in a subprocess, so a crash fails its test instead of killing pytest.

Each case runs for about STRESS_SECONDS (LONG_STRESS_SECONDS in the ``slow`` runs of
``make fuzz``).  The first test is the reproduction of the original
use-after-free in ``trio.dumps`` (exit code 139 before the fix, every run).
"""

from __future__ import annotations

import gc
import itertools
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hxredis import trio
from hxredis.errors import ParseError
from hxredis.record import Rec
from hxredis.values import MARKER, Number, Ref

fastcore = {
    name: pytest.importorskip(f"hxredis._fastcore.{name}")
    for name in ("trio", "codec", "index", "dis", "resp")
}

STRESS_SECONDS = 1.0
LONG_STRESS_SECONDS = 15.0
_TESTS = Path(__file__).parent

# ------------------------------------------------------------------------------------------------
# Running a case in a subprocess
# ------------------------------------------------------------------------------------------------


def run_isolated(code: str) -> None:
    """Run ``code`` (with this module imported as ``t``) in a fresh interpreter: exit code 0."""
    script = f"import sys; sys.path.insert(0, {str(_TESTS)!r}); import test_native_stress as t\n"
    proc = subprocess.run(
        [sys.executable, "-c", script + code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONFAULTHANDLER": "1"},
    )
    assert proc.returncode == 0, f"exit code {proc.returncode}\n{proc.stderr[-3000:]}"


@contextmanager
def gc_hook(mutate: Callable[[], None]) -> Iterator[None]:
    """Call ``mutate`` at the start of every garbage collection; collect at every allocation."""

    def hook(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            mutate()

    threshold = gc.get_threshold()
    gc.callbacks.append(hook)
    gc.set_threshold(1)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.callbacks.remove(hook)


@contextmanager
def mutator_thread(mutate: Callable[[], None]) -> Iterator[None]:
    """Call ``mutate`` in a loop in another thread, switching threads as often as possible."""
    stop = threading.Event()
    interval = sys.getswitchinterval()

    def loop() -> None:
        while not stop.is_set():
            mutate()

    sys.setswitchinterval(1e-6)
    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(interval)


# ------------------------------------------------------------------------------------------------
# Cases: a call, a mutation of its inputs, a check of its result
# ------------------------------------------------------------------------------------------------


@dataclass
class Case:
    call: Callable[[], Any]  # one call of the native function (building fresh inputs if needed)
    mutate: Callable[[], None]  # replace parts of the inputs (must not raise)
    check: Callable[[Any], None]  # assert the result is valid output
    allowed: tuple[type[BaseException], ...] = ()  # clear errors the call may raise instead


_counter = itertools.count()


def fresh() -> Any:
    """A new value whose only reference will be the container it is put in."""
    i = next(_counter)
    kind = i % 6
    if kind == 0:
        return Number(i + 0.5, "kW")
    if kind == 1:
        return f"text {i} " * (i % 7 + 1)
    if kind == 2:
        return [Ref(f"r{i}"), Number(i)]
    if kind == 3:
        return Ref(f"id{i}", f"dis {i}")
    if kind == 4:
        return {"n": Number(i), "s": f"s{i}"}
    return MARKER


def replace_values(d: dict[Any, Any]) -> None:
    for key in list(d):
        d[key] = fresh()


def check_trio(text: Any) -> None:
    assert type(text) is str
    trio.py_loads(text)  # valid Trio


def _new_rec(tags: int) -> dict[str, Any]:
    i = next(_counter)
    rec: dict[str, Any] = {"id": Ref(f"r{i}"), "dis": f"rec {i}"}
    for j in range(tags):
        rec[f"t{i % 997}x{j}"] = fresh()  # new key sets: the tag order cache misses
    return rec


def case_dumps(tags: int, many: bool, dump: Callable[[Any], str]) -> Case:
    state: dict[str, Any] = {"recs": []}

    def call() -> str:
        recs = state["recs"] = [_new_rec(tags) for _ in range(3 if many else 1)]
        return dump(recs if many else recs[0])

    def mutate() -> None:
        recs = state["recs"]
        for rec in list(recs):
            replace_values(rec)
            rec.pop(next(iter(rec), None), None)  # tags come and go too
            rec[f"n{next(_counter)}"] = fresh()
        if many and recs:
            recs[0] = _new_rec(tags)

    # a thread adding or removing tags while the reference path sorts them: as py_dumps does
    return Case(call, mutate, check_trio, (RuntimeError, KeyError))


def case_loads(load: Callable[[Any], Any]) -> Case:
    texts = [trio.py_dumps(_new_rec(8)).encode() for _ in range(4)]
    buf = bytearray(texts[0])

    def call() -> Any:
        return load(buf)

    def mutate() -> None:
        buf[:] = texts[next(_counter) % len(texts)]

    def check(out: Any) -> None:
        assert isinstance(out, (list, dict))

    return Case(call, mutate, check, (ParseError,))


def case_decode_record() -> Case:
    refs: dict[str, Ref] = {}
    text = trio.py_dumps(
        {"id": Ref("a"), "b": Ref("b"), "l": [Ref("c"), Ref("d")], "x": {"r": Ref("e")}}
    )

    def mutate() -> None:
        for key in list(refs):
            refs[key] = Ref(key)
        if len(refs) > 3:
            refs.pop(next(iter(refs)), None)

    def check(out: Any) -> None:
        assert isinstance(out, Rec) and out["id"] == Ref("a")

    return Case(lambda: fastcore["codec"].decode_record("a", text, refs), mutate, check)


def case_decode_records() -> Case:
    chunk: dict[bytes, bytes] = {}
    refs: dict[str, Ref] = {}

    def call() -> Any:
        chunk.clear()
        for i in range(20):
            chunk[f"r{i}".encode()] = trio.py_dumps({"id": Ref(f"r{i}"), "v": fresh()}).encode()
        return fastcore["codec"].decode_records(chunk, refs, {})

    def mutate() -> None:
        for key in list(chunk):
            chunk[key] = f"id:@{key.decode()}\nv:{next(_counter)}\n".encode()
        for key in list(refs):
            refs[key] = Ref(key)

    def check(failed: Any) -> None:
        assert failed == []

    return Case(call, mutate, check)


def case_add_many() -> Case:
    state: dict[str, Any] = {"recs": [], "tags": {}}

    def call() -> Any:
        recs = state["recs"] = [
            (
                f"r{next(_counter)}",
                {"site": MARKER, "siteRef": Ref("s"), "v": fresh(), "l": [Ref("a")]},
            )
            for _ in range(20)
        ]
        tags = state["tags"] = {"site": ["x"], "v": {"y": None}}
        return fastcore["index"].add_many({}, 0, tags, {}, recs)

    def mutate() -> None:
        for _, rec in list(state["recs"]):
            replace_values(rec)
        tags = state["tags"]
        for key in list(tags):
            tags[key] = (
                [f"z{next(_counter)}"] if next(_counter) % 2 else {f"z{next(_counter)}": None}
            )

    def check(next_seq: Any) -> None:
        assert next_seq == 20

    return Case(call, mutate, check)


def _views() -> dict[str, dict[str, Any]]:
    views: dict[str, dict[str, Any]] = {}
    for i in range(20):
        views[f"r{i}"] = (
            {"dis": f"rec {i}"}
            if i % 2
            else {"disMacro": "$s - $n", "s": Ref(f"r{i + 1}"), "n": f"n{i}"}
        )
    return views


def case_dis(compute_all: bool) -> Case:
    views, refs = _views(), {f"r{i}": Ref(f"r{i}") for i in range(20)}
    depends_on: dict[str, tuple[str, ...]] = {}
    dependents: dict[str, set[str]] = {}
    native = fastcore["dis"]

    def call() -> None:
        if compute_all:
            native.compute_all(list(views), views, refs, depends_on)
        else:
            native.rebuild(views, refs, depends_on, dependents)

    def mutate() -> None:
        fresh_views = _views()
        for key in list(views):
            views[key] = fresh_views[key]
        for key in list(refs):
            refs[key] = Ref(key)
        for key in list(dependents):
            dependents[key] = {f"r{next(_counter) % 20}"}

    def check(out: Any) -> None:
        assert out is None

    return Case(call, mutate, check)


def case_pack(many: bool) -> Case:
    arg = bytearray(b"value" * 10)
    commands: list[Any] = [("SET", "k", arg), ("HSET", "h", "f", bytearray(b"x"))]
    resp = fastcore["resp"]

    def call() -> bytes:
        return resp.pack_commands(commands) if many else resp.pack_command("SET", "k", arg)

    def mutate() -> None:
        arg[:] = b"v" * (next(_counter) % 100)
        commands[next(_counter) % 2] = ("SET", f"k{next(_counter)}", bytearray(b"y" * 10))

    def check(out: Any) -> None:
        assert type(out) is bytes and out.startswith(b"*")

    return Case(call, mutate, check)


CASES: dict[str, Callable[[], Case]] = {
    "trio.dumps": lambda: case_dumps(10, False, fastcore["trio"].dumps),
    "trio.dumps-many": lambda: case_dumps(10, True, fastcore["trio"].dumps),
    "trio.dumps-70-tags": lambda: case_dumps(70, False, fastcore["trio"].dumps),
    "trio.dump_rec": lambda: case_dumps(10, False, fastcore["trio"].dump_rec),
    "trio.loads": lambda: case_loads(fastcore["trio"].loads),
    "trio.load_rec": lambda: case_loads(fastcore["trio"].load_rec),
    "codec.decode_record": case_decode_record,
    "codec.decode_records": case_decode_records,
    "index.add_many": case_add_many,
    "dis.rebuild": lambda: case_dis(False),
    "dis.compute_all": lambda: case_dis(True),
    "resp.pack_command": lambda: case_pack(False),
    "resp.pack_commands": lambda: case_pack(True),
}


def stress(case_name: str, how: str, seconds: float = STRESS_SECONDS) -> None:
    """Call the case's function for ``seconds`` while ``how`` ("gc" or "thread") mutates."""
    case = CASES[case_name]()
    mutating = gc_hook if how == "gc" else mutator_thread
    calls = 0
    deadline = time.monotonic() + seconds
    with mutating(case.mutate):
        while time.monotonic() < deadline:
            try:
                out = case.call()
            except case.allowed:
                continue
            finally:
                calls += 1
            case.check(out)
    assert calls > 0


@pytest.mark.parametrize("how", ["gc", "thread"])
@pytest.mark.parametrize("case_name", CASES)
def test_stress(case_name: str, how: str) -> None:
    run_isolated(f"t.stress({case_name!r}, {how!r})")


@pytest.mark.slow
@pytest.mark.parametrize("how", ["gc", "thread"])
@pytest.mark.parametrize("case_name", CASES)
def test_stress_long(case_name: str, how: str) -> None:
    """The same for LONG_STRESS_SECONDS each (``make fuzz``): races that take a while to hit."""
    run_isolated(f"t.stress({case_name!r}, {how!r}, {LONG_STRESS_SECONDS})")


# ------------------------------------------------------------------------------------------------
# The original crash
# ------------------------------------------------------------------------------------------------


def dumps_while_gc_replaces_values() -> None:
    """Single-threaded: a gc callback replaces every value of the dict ``dumps`` is writing
    (their last references go) while the writer sorts the tag names."""
    rec: dict[str, Any] = {}

    def replace(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            for key in list(rec):
                rec[key] = [key]

    gc.callbacks.append(replace)
    gc.set_threshold(1)
    for i in range(2000):
        rec.clear()
        for j in range(10):
            rec[f"t{i}x{j}"] = Number(i * 100 + j + 0.5, "kW")
        check_trio(fastcore["trio"].dumps(rec))


def test_dumps_while_gc_replaces_values() -> None:
    run_isolated("t.dumps_while_gc_replaces_values()")
