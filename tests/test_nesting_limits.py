"""The nesting limit of the readers (``zinc.MAX_DEPTH`` levels of List, Dict and Grid) and what
a deeply nested stored record does to a Folio: a ParseError naming the depth, never a
RecursionError, so the record is a LoadError naming its key (or skipped and counted with
``skip_bad_records``) at open and when it arrives through the change stream."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from helpers.folio_util import add_rec, keys_of, wait_for
from hypothesis import given, settings
from hypothesis import strategies as st

import hxredis as hx
from hxredis import codec, trio, zinc
from hxredis.errors import ParseError
from hxredis.values import MARKER, Grid

MAX = zinc.MAX_DEPTH
DEPTHS = [1, MAX - 1, MAX, MAX + 1, 400]
LOADS = [trio.py_loads, trio.loads]
TOO_DEEP = "Values nested too deeply"


def zinc_lists(n: int) -> str:
    return "[" * n + "]" * n


def zinc_dicts(n: int) -> str:
    return "{a:" * (n - 1) + "{a}" + "}" * (n - 1)


def zinc_grids(n: int) -> str:
    """A grid document holding nested grids: ``n`` grids in all."""
    text = 'ver:"3.0"\nv\nM\n'
    for _ in range(n - 1):
        text = 'ver:"3.0"\nv\n<<' + text + ">>\n"
    return text


def trio_blocks(n: int) -> str:
    """A record whose tag ``a`` is a ``Trio:`` block nesting ``n`` Dicts."""
    lines = ["id:@deep"] + ["  " * i + "a:Trio:" for i in range(n)] + ["  " * n + "x"]
    return "\n".join(lines) + "\n"


def trio_zinc(text: str) -> str:
    """A record whose tag ``a`` is a ``Zinc:`` block of ``text``."""
    return "id:@deep\na:Zinc:\n" + "".join(f"  {line}\n" for line in text.split("\n"))


def nested_value(n: int) -> Any:
    """The value of n levels built by the writers below: Lists in a List ... around a Marker."""
    val: Any = MARKER
    for _ in range(n):
        val = [val]
    return val


def outcome(fn: Callable[[str], Any], text: str) -> tuple[str, Any]:
    try:
        return "ok", fn(text)
    except ParseError as e:
        return "ParseError", str(e)


@pytest.mark.parametrize("n", [*DEPTHS, 20_000])
@pytest.mark.parametrize("make", [zinc_lists, zinc_dicts, zinc_grids], ids=["list", "dict", "grid"])
def test_zinc_depth_limit(make: Callable[[int], str], n: int) -> None:
    text = make(n)
    if n <= MAX:
        zinc.loads(text)
    else:
        with pytest.raises(ParseError, match=f"{TOO_DEEP}: level {MAX + 1} .* at most {MAX}"):
            zinc.loads(text)


def test_zinc_depth_counts_levels_open_around_the_text() -> None:
    zinc.loads("[[M]]", MAX - 2)
    with pytest.raises(ParseError, match=TOO_DEEP):
        zinc.loads("[[M]]", MAX - 1)
    with pytest.raises(ParseError, match=TOO_DEEP):
        zinc.loads('ver:"3.0"\na\nM\n', MAX)  # a grid document is one level too


@pytest.mark.parametrize("n", DEPTHS)
@pytest.mark.parametrize(
    "make",
    [
        trio_blocks,
        lambda n: f"id:@deep\na:{zinc_lists(n)}\n",
        lambda n: trio_zinc(zinc_lists(n)),
        lambda n: trio_zinc(zinc_grids(n)),
        lambda n: f"id:@deep\na:[\n  {zinc_lists(n - 1)}\n  ]\n",  # an indented list
    ],
    ids=["trio-blocks", "zinc-list", "zinc-block-list", "zinc-block-grids", "indented-list"],
)
def test_trio_depth_limit_native_and_reference_agree(make: Callable[[int], str], n: int) -> None:
    text = make(n)
    ref, nat = outcome(trio.py_loads, text), outcome(trio.loads, text)
    assert ref[0] == nat[0]
    if n <= MAX:
        assert ref[0] == "ok"
        assert ref[1] == nat[1]
    else:
        assert ref[0] == "ParseError"
        assert TOO_DEEP in ref[1] and f"level {MAX + 1}" in ref[1]
        assert ref[1] == nat[1]
        assert ref[1].count(TOO_DEEP) == 1  # one error, not one per level


def test_trio_blocks_mixed_with_zinc_count_together() -> None:
    # MAX - 1 Trio: Dicts, then a List inside the innermost: MAX levels; one more List is over
    inner = "  " * (MAX - 1)
    lines = ["id:@deep"] + ["  " * i + "a:Trio:" for i in range(MAX - 1)]
    for f in LOADS:
        rec = f("\n".join([*lines, inner + "x:[M]"]) + "\n")[0]
        for _ in range(MAX - 1):
            rec = rec["a"]
        assert rec == {"x": [MARKER]}
        with pytest.raises(ParseError, match=TOO_DEEP):
            f("\n".join([*lines, inner + "x:[[M]]"]) + "\n")


_CLOSE = {"[": "]", "{a:": "}", '<<ver:"3.0"\nv\n': "\n>>", "[M,": "]"}


@settings(max_examples=60)
@given(st.lists(st.sampled_from(sorted(_CLOSE)), min_size=MAX - 10, max_size=MAX + 10))
def test_fuzz_mixed_nesting(opens: list[str]) -> None:
    text = "".join(opens) + "M" + "".join(_CLOSE[o] for o in reversed(opens))
    expected = "ok" if len(opens) <= MAX else "ParseError"
    assert outcome(zinc.loads, text)[0] == expected
    rec_text = trio_zinc(text)
    ref, nat = outcome(trio.py_loads, rec_text), outcome(trio.loads, rec_text)
    assert ref[0] == nat[0] == expected, ref
    assert ref[1] == nat[1]


@pytest.mark.parametrize("n", [MAX, MAX + 1])
def test_writer_output_at_the_limit_reads_back(n: int) -> None:
    rec = {"id": hx.Ref("deep"), "a": nested_value(n)}
    grid_rec = {"id": hx.Ref("deep"), "g": Grid({}, ["v"], [[nested_value(n - 1)]])}
    for r in (rec, grid_rec):
        text = trio.dumps(r)
        if n <= MAX:
            assert trio.loads(text) == trio.py_loads(text) == [r]
        else:
            for f in LOADS:
                with pytest.raises(ParseError, match=TOO_DEEP):
                    f(text)


@contextmanager
def stack_nearly_full(headroom: int) -> Iterator[None]:
    """Let only ``headroom`` more Python frames run in the block."""
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + headroom)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


@pytest.mark.parametrize("decode", [codec.decode_record, codec.py_decode_record])
def test_any_reader_failure_is_a_parse_error(decode: Callable[..., Any]) -> None:
    """A RecursionError (here from a nearly full stack) comes out as ParseError."""
    text = trio_zinc(zinc_lists(MAX))
    decode("deep", text, {})  # fine with room enough
    with stack_nearly_full(60), pytest.raises(ParseError, match="RecursionError"):
        decode("deep", text, {})


# ------------------------------------------------------------------------------------------------
# A deeply nested record stored in Redis
# ------------------------------------------------------------------------------------------------

DEEP_TEXT = trio_blocks(400).replace("@deep", "@{id}")


def test_deep_record_at_open(open_db, caplog) -> None:
    db = open_db()
    good = add_rec(db, {"dis": "good"})
    bad = add_rec(db, {"dis": "bad"})  # its mod is in the mods hash: only the text is bad
    bad_id = bad["id"].id
    db.client.hset(keys_of(db).recs, bad_id, DEEP_TEXT.format(id=bad_id))
    with pytest.raises(hx.LoadError, match=f"{bad_id}.*{TOO_DEEP}"):
        open_db()
    caplog.set_level(logging.WARNING)
    skipping = open_db(skip_bad_records=True)
    assert skipping.skipped_records == 1
    assert bad_id in caplog.text
    assert skipping.read_by_id(good["id"])["dis"] == "good"
    assert skipping.read_by_id(bad["id"], False) is None


def _announce_deep(db: hx.Folio, rec_id: str) -> None:
    """Act as another writer that stores a deeply nested record and announces it."""
    keys = keys_of(db)
    db.client.hset(keys.recs, rec_id, DEEP_TEXT.format(id=rec_id))
    version = db.client.incr(keys.ver)
    db.client.xadd(keys.changes, {"v": version, "src": "another-writer", "ids": rec_id})


def test_deep_record_from_the_change_stream(open_db) -> None:
    db = open_db(follow=False)
    rec = add_rec(db, {"dis": "a"})
    _announce_deep(db, rec["id"].id)
    with pytest.raises(hx.LoadError, match=f"{rec['id'].id}.*{TOO_DEEP}"):
        db.sync()


def test_deep_record_from_the_change_stream_skipped(open_db) -> None:
    db = open_db(follow=False, skip_bad_records=True)
    rec = add_rec(db, {"dis": "a"})
    good = add_rec(db, {"dis": "good"})
    _announce_deep(db, rec["id"].id)
    db.sync()
    assert db.skipped_records == 1
    assert db.read_by_id(rec["id"], False) is None
    assert db.read_by_id(good["id"])["dis"] == "good"


def test_deep_record_reaches_the_follower(open_db) -> None:
    db = open_db(skip_bad_records=True)  # the background follower applies the change
    rec = add_rec(db, {"dis": "a"})
    _announce_deep(db, rec["id"].id)
    wait_for(lambda: db.skipped_records == 1, what="the follower skipping the deep record")
    later = add_rec(db, {"dis": "later"})  # the follower still applies changes
    commit_ver = open_db(follow=False, skip_bad_records=True).cur_ver
    wait_for(lambda: db.cur_ver >= commit_ver, what="the follower catching up")
    assert db.read_by_id(later["id"])["dis"] == "later"
    assert db.read_by_id(rec["id"], False) is None


@pytest.mark.parametrize(
    "text", ["[" * 100_000 + "]" * 100_000, '{"a":' * 5_000 + "1" + "}" * 5_000, "[" * 100_000]
)
def test_json_too_deep_is_a_parse_error(text: str) -> None:
    """Haystack JSON nested past the interpreter's stack: ParseError, not RecursionError,
    from the whole-text and the streaming reader."""
    import io

    with pytest.raises(ParseError, match="nested too deeply"):
        hx.json.loads(text)
    with pytest.raises(ParseError, match="nested too deeply"):
        list(hx.json.iter_rows(io.StringIO(text)))
