"""Random write sequences: each backend reads exactly what a small pure-Python model says."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hxredis as hx
from hxredis.his.point import float32_round

BASE = datetime(1969, 12, 31, 23, 59, 40, tzinfo=hx.tz("UTC"))  # the epoch is at 20 s

values = st.one_of(
    st.integers(-(10**12), 10**12).map(hx.Number),
    st.floats(allow_nan=True, allow_infinity=True).map(hx.Number),
    st.just(hx.NA),
    st.just(hx.REMOVE),
)
items = st.lists(st.tuples(st.integers(0, 40), values), max_size=12)
spans = st.none() | st.tuples(st.integers(-5, 45), st.integers(0, 10))
writes = st.lists(st.tuples(items, spans, st.booleans()), min_size=1, max_size=5)
reads = st.tuples(spans, st.none() | st.integers(1, 8))


def _at(sec: int) -> datetime:
    return BASE + timedelta(seconds=sec)


def _model_write(model: dict[int, object], batch, clear, clear_all: bool) -> None:
    if clear_all:
        model.clear()
    if clear is not None:
        lo, width = clear
        for sec in [s for s in model if lo <= s < lo + width]:
            del model[sec]
    for sec, val in sorted(batch, key=lambda p: p[0]):  # stable: the last of a second wins
        if val is hx.REMOVE:
            model.pop(sec, None)
        elif isinstance(val, hx.Number):
            model[sec] = hx.Number(float32_round(val.val))
        else:
            model[sec] = val


def _model_read(model: dict[int, object], span, limit) -> list[tuple[int, object]]:
    secs = sorted(model)
    if span is None:
        picked = secs
    else:
        lo, hi = span[0], span[0] + span[1]
        before = [s for s in secs if s < lo][-1:]
        picked = before + [s for s in secs if lo <= s < hi] + [s for s in secs if s >= hi][:2]
    picked = picked[:limit] if limit is not None else picked
    return [(s, model[s]) for s in picked]


def _same(a: object, b: object) -> bool:
    if isinstance(a, hx.Number) and isinstance(b, hx.Number):
        if math.isnan(a.val) or math.isnan(b.val):
            return a == b  # NaN equals NaN; its sign bit is not kept
        return a == b and math.copysign(1, a.val) == math.copysign(1, b.val)
    return a == b


@pytest.mark.usefixtures("redis_server")
@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(writes=writes, checks=st.lists(reads, min_size=1, max_size=4))
def test_backends_agree_with_the_model(db: hx.Folio, make_point, writes, checks) -> None:
    rec = make_point(tz="UTC")
    model: dict[int, object] = {}
    for batch, clear, clear_all in writes:
        span = None if clear is None else hx.Span(_at(clear[0]), _at(clear[0] + clear[1]))
        db.his.write(
            rec["id"], [hx.HisItem(_at(s), v) for s, v in batch], clear=span, clear_all=clear_all
        )
        _model_write(model, batch, clear, clear_all)
    for span, limit in checks:
        expected = _model_read(model, span, limit)
        hx_span = None if span is None else hx.Span(_at(span[0]), _at(span[0] + span[1]))
        got = db.his.read(rec["id"], hx_span, limit=limit)
        assert [i.ts for i in got] == [_at(s) for s, _ in expected]
        assert all(_same(i.val, v) for i, (_, v) in zip(got, expected, strict=True))
    tags = db.read_by_id(rec["id"])
    if model:
        assert tags["hisSize"] == hx.Number(len(model))
        assert tags["hisStart"] == _at(min(model)) and tags["hisEnd"] == _at(max(model))
    else:
        assert "hisSize" not in tags
