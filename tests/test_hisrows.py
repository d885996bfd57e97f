"""The fast hisRead rows (``hxredis._fastcore.hisrows``) against their reference
(``hxredis.http.hisrows.py_rows``) and against the grid writers, across DST changes."""

from __future__ import annotations

from datetime import datetime, timedelta
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hxredis as hx
from hxredis.his.spans import SpanArrays
from hxredis.http import hisrows
from hxredis.http.formats import encode_response

native = pytest.mark.skipif(not hisrows.NATIVE, reason="native hisrows not built")

ZONES = ["UTC", "New_York", "London", "Kolkata", "Kathmandu", "Lord_Howe", "Sydney", "GMT+5"]
LO = int(datetime(1950, 1, 1, tzinfo=hx.UTC).timestamp() * 1000)
HI = int(datetime(2100, 1, 1, tzinfo=hx.UTC).timestamp() * 1000)
SPECIAL = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    1e-3,
    9.99e-4,
    1e7,
    9999999.5,
    1e12,
    1e12 + 1,
    -1e12,
    2.0**53,
    2.0**53 - 1,
    2.0**53 + 2,
    1e16,
    1.5e300,
    5e-324,
    0.1 + 0.2,
    72.25,
    float("nan"),
    float("inf"),
    float("-inf"),
]


def _arrays(ms: list[int], vals: list[float], na: list[bool], kind: str, unit, zone) -> SpanArrays:
    order = np.argsort(np.array(ms, dtype=np.int64), kind="stable")
    return SpanArrays(
        np.array(ms, dtype=np.int64)[order],
        np.array(vals, dtype=np.float64)[order],
        np.array(na, dtype=np.bool_)[order],
        kind,
        unit,
        hx.tz(zone),
    )


def _expected_grid(data: SpanArrays) -> hx.Grid:
    """The grid today's path builds from ``his.read`` items."""
    rows = []
    for t, v, is_na in zip(data.ms.tolist(), data.vals.tolist(), data.na.tolist(), strict=True):
        ts = (datetime(1970, 1, 1, tzinfo=hx.UTC) + timedelta(milliseconds=t)).astimezone(data.zone)
        if is_na:
            val = hx.NA
        elif data.kind == "Bool":
            val = v != 0 and v == v
        else:
            val = hx.Number(v, data.unit)
        rows.append({"ts": ts, "val": val})
    ref = hx.Ref("p1", "Point 1")
    start = datetime(2020, 1, 1, tzinfo=data.zone)
    meta = {"id": ref, "hisStart": start, "hisEnd": start + timedelta(days=1)}
    return hx.Grid(meta, [("ts", {}), ("val", {"id": ref})], rows)


samples = st.lists(
    st.tuples(
        st.integers(LO, HI),
        st.one_of(st.sampled_from(SPECIAL), st.floats(allow_nan=True, allow_infinity=True)),
        st.booleans(),
    ),
    max_size=40,
)


@given(
    samples,
    st.sampled_from(["Number", "Bool"]),
    st.sampled_from([None, "kW", "°F", "%", "m³/h"]),
    st.sampled_from(ZONES),
    st.sampled_from(hisrows.FORMATS),
)
@settings(max_examples=300, deadline=None)
def test_body_is_the_writers_bytes(samples, kind, unit, zone, fmt) -> None:
    data = _arrays(
        [s[0] for s in samples], [s[1] for s in samples], [s[2] for s in samples], kind, unit, zone
    )
    grid = _expected_grid(data)
    head = hx.Grid(grid.meta, [(c.name, c.meta) for c in grid.cols], [])
    expected = encode_response(grid, fmt)
    assert hisrows.encode_his_read(head, data, fmt) == expected
    with mock.patch.object(hisrows, "_native", None):  # the pure-Python path
        assert hisrows.encode_his_read(head, data, fmt) == expected


@native
@given(samples, st.booleans(), st.sampled_from([None, "kW"]), st.sampled_from(ZONES))
@settings(max_examples=200, deadline=None)
def test_native_matches_reference(samples, is_bool, unit, zone) -> None:
    data = _arrays(
        [s[0] for s in samples],
        [s[1] for s in samples],
        [s[2] for s in samples],
        "Bool" if is_bool else "Number",
        unit,
        zone,
    )
    for fmt in hisrows.FORMATS:
        expected = hisrows.py_rows(fmt, data.ms, data.vals, data.na, is_bool, unit, data.zone)
        assert hisrows.rows(fmt, data) == expected


@pytest.mark.parametrize("zone", ["New_York", "Lord_Howe", "Kathmandu", "UTC"])
def test_offsets_across_dst_changes(zone: str) -> None:
    """Every minute around both 2024 changes, and a sample each hour of 2023-2025."""
    tzone = hx.tz(zone)
    starts = [datetime(2024, m, d, tzinfo=hx.UTC) for m, d in ((3, 9), (11, 2), (4, 6), (10, 5))]
    parts = [int(s.timestamp() * 1000) + np.arange(0, 3 * 86_400_000, 60_000) for s in starts]
    parts.append(
        int(datetime(2023, 1, 1, tzinfo=hx.UTC).timestamp() * 1000)
        + np.arange(0, 3 * 365 * 86_400_000, 3_600_000)
        + 7
    )
    ms = np.unique(np.concatenate(parts)).astype(np.int64)
    epoch = datetime(1970, 1, 1, tzinfo=hx.UTC)
    expected = [
        (epoch + timedelta(milliseconds=t)).astimezone(tzone).utcoffset().total_seconds()
        for t in ms.tolist()
    ]
    assert hisrows.utc_offsets(ms, tzone).tolist() == expected


@native
def test_rows_refuses_bad_input() -> None:
    from hxredis._fastcore import hisrows as fast

    ms = np.zeros(2, np.int64)
    with pytest.raises(ValueError, match="one length"):
        fast.rows(
            "zinc",
            ms,
            np.zeros(1, np.int32),
            np.zeros(2),
            np.zeros(2, np.uint8),
            False,
            None,
            "UTC",
        )
    with pytest.raises(ValueError, match="format"):
        fast.rows(
            "trio",
            ms,
            np.zeros(2, np.int32),
            np.zeros(2),
            np.zeros(2, np.uint8),
            False,
            None,
            "UTC",
        )
