"""Nothing a commit accepts is unreadable: whatever :class:`~hxredis.diff.Diff` lets through is
written as Trio text (UTF-8) that reads back equal, with the native and the reference codec;
everything else is an InvalidTagValueError before anything reaches Redis."""

from __future__ import annotations

from typing import Any

import pytest
from helpers.folio_util import add_rec, keys_of
from hypothesis import given, settings
from hypothesis import strategies as st
from test_trio import same, st_scalar, st_tag

import hxredis as hx
from hxredis import trio, zinc
from hxredis.diff import Diff
from hxredis.errors import DiffError, InvalidTagValueError
from hxredis.values import MARKER, NA, REMOVE, Grid, GridCol, Uri, XStr

M = MARKER


def nested_list(levels: int) -> Any:
    val: Any = M
    for _ in range(levels):
        val = [val]
    return val


class Custom:
    """Not a Haystack kind."""


# values a caller might hand a commit: the readable kinds and the things that are not
st_odd_scalar = st.one_of(
    st.none(),
    st.integers(-5, 5),
    st.just(Custom()),
    st.sampled_from(["a\ud800", "\udfffb"]),
    st.builds(Uri, st.sampled_from(["a\ud800", "ok"])),
    st.builds(XStr, st.just("Foo"), st.sampled_from(["\ud800", "ok"])),
    st.integers(zinc.MAX_DEPTH - 3, zinc.MAX_DEPTH + 1).map(nested_list),
)


def rarely(bad: st.SearchStrategy[Any], good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly ``good``, one time in ten ``bad``: many examples get through the checks."""
    return st.tuples(st.integers(0, 9), good, bad).map(lambda t: t[2] if t[0] == 0 else t[1])


st_col_name = rarely(st.sampled_from(["Bad", "1x", "", "a b"]), st_tag)
st_meta_key = rarely(st.sampled_from(["Bad", "ver"]), st_tag)


def _grid(meta: dict[str, Any], cols: list[tuple[str, dict[str, Any]]], rows: list[Any]) -> Grid:
    """A Grid of rows given as dicts or as cell lists (cut to the columns)."""
    names = [name for name, _ in cols]
    return Grid(
        meta,
        [GridCol(name, col_meta) for name, col_meta in cols],
        [r if isinstance(r, dict) else dict(zip(names, r, strict=False)) for r in rows],
    )


def st_grid(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Grid]:
    tags = st.dictionaries(st_meta_key, st.one_of(inner, st.just(NA)), max_size=2)
    cols = rarely(st.just([]), st.lists(st.tuples(st_col_name, tags), min_size=1, max_size=3))
    rows = st.one_of(
        st.lists(st.lists(st.one_of(inner, st.just(NA)), max_size=3), max_size=3),
        st.lists(st.dictionaries(st_col_name, inner, max_size=2), max_size=2),
    )
    return st.builds(_grid, tags, cols, rows)


st_value = st.recursive(
    rarely(st_odd_scalar, st_scalar),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(rarely(st.just("Bad"), st_tag), inner, max_size=3),
        st_grid(inner),
    ),
    max_leaves=10,
)


@settings(max_examples=300)
@given(st.dictionaries(st_tag, st_value, max_size=4))
def test_what_a_diff_accepts_reads_back(changes: dict[str, Any]) -> None:
    try:
        diff = Diff(None, changes, Diff.ADD)
    except (InvalidTagValueError, DiffError):  # refused: nothing to read back
        return
    rec = {"id": hx.Ref("r"), **{k: v for k, v in diff.changes.items() if v is not REMOVE}}
    text = trio.dumps(rec)
    assert text == trio.py_dumps(rec)
    text.encode("utf-8")  # what Redis stores
    for loads in (trio.loads, trio.py_loads):
        back = loads(text)
        assert len(back) == 1 and same(back[0], rec), (back, rec)


# ------------------------------------------------------------------------------------------------
# Through db.commit against real Redis
# ------------------------------------------------------------------------------------------------

UNREADABLE = {
    "list-150-in-grid": Grid({}, ["a"], [[nested_list(150)]]),
    "custom-cell": Grid({}, ["a"], [[Custom()]]),
    "surrogate-cell": Grid({}, ["a"], [["x\ud800"]]),
    "surrogate-meta": Grid({"m": "x\ud800"}, ["a"], []),
    "int-in-col-meta": Grid({}, [("a", {"m": 1})], []),
    "bad-col-name": Grid({}, ["Bad Name"], []),
    "cell-outside-cols": Grid({}, ["a"], [{"b": M}]),
    "surrogate-uri": Uri("\ud800"),
}


@pytest.mark.parametrize("val", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_commit_refuses_what_cannot_be_read_back(open_db, val: Any) -> None:
    db = open_db()
    rec = add_rec(db, {"dis": "a"})
    with pytest.raises(InvalidTagValueError):
        db.commit(hx.Diff(rec, {"v": val}))
    with pytest.raises(InvalidTagValueError):
        add_rec(db, {"v": val})
    assert db.client.hlen(keys_of(db).recs) == 1
    other = open_db()  # the database still opens, and is unchanged
    assert other.read_count("dis") == 1
    assert "v" not in other.read_by_id(rec["id"])


def test_commit_at_the_nesting_limit_reads_back(open_db) -> None:
    db = open_db()
    deepest = Grid({}, ["a"], [[nested_list(zinc.MAX_DEPTH - 1)]])  # 100 levels
    rec = add_rec(db, {"dis": "deep", "v": deepest, "w": nested_list(zinc.MAX_DEPTH)})
    other = open_db()
    back = other.read_by_id(rec["id"])
    assert back["v"] == deepest
    assert back["w"] == nested_list(zinc.MAX_DEPTH)
