"""The native cache builders of a cold load against their pure-Python references.

* ``hxredis._fastcore.codec``: ``decode_record`` / ``decode_records`` vs
  :func:`hxredis.codec.py_decode_record` / :func:`hxredis.codec.py_decode_records`;
* ``hxredis._fastcore.index``: ``TagIndex.add_many`` vs :func:`hxredis.query_plan.py_add_many`
  (and :meth:`TagIndex.add` one record at a time);
* ``hxredis._fastcore.dis``: ``rebuild`` / ``compute_all`` vs :func:`hxredis.dis.py_rebuild` /
  :func:`hxredis.dis.py_compute_all`, plus the DisTest sequence of folio.md section 6.

Native and reference run on equal inputs (each on its own tables, since display strings are
set in place) and must give equal results; arbitrary input may only raise ``ParseError``.
No Redis is needed: everything here is in memory.
"""

from __future__ import annotations

import copy
import functools
import gc
import pickle
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_trio import same, st_number, st_rec, st_ref

from hxredis import codec, dis, query_plan, trio
from hxredis.errors import ParseError
from hxredis.query_plan import TagIndex, py_add_many
from hxredis.record import FrozenList, Rec
from hxredis.values import MARKER, Number, Ref

native_codec = pytest.importorskip("hxredis._fastcore.codec")
native_index = pytest.importorskip("hxredis._fastcore.index")
native_dis = pytest.importorskip("hxredis._fastcore.dis")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from building import building_model  # noqa: E402


def test_modules_use_native() -> None:
    assert codec.NATIVE and dis.NATIVE
    assert codec.decode_record is native_codec.decode_record
    assert codec.decode_records is native_codec.decode_records
    assert dis.rebuild is native_dis.rebuild
    assert dis.compute_all is native_dis.compute_all
    assert query_plan._native is native_index


@functools.cache
def building(n_points: int) -> tuple[dict[str, Any], ...]:
    return tuple(building_model(n_points))


# ================================================================================================
# codec: decode_record / decode_records
# ================================================================================================


def outcome(fn: Callable[..., Any], *args: Any) -> tuple[str, Any]:
    """("ok", result) or ("ParseError", message); any other exception propagates."""
    try:
        return "ok", fn(*args)
    except ParseError as exc:
        return "ParseError", str(exc)


def assert_same_value(a: Any, b: Any) -> None:
    """Equal kinds and values, Ref dis included, dict keys in the same order at every depth."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            assert_same_value(a[key], b[key])
    elif isinstance(a, list):
        assert len(a) == len(b), (a, b)
        for x, y in zip(a, b, strict=True):
            assert_same_value(x, y)
    else:
        assert same(a, b), (a, b)


def refs_in(val: Any) -> Iterator[Ref]:
    """Every Ref of a cached value outside Grids (Grids are kept as read)."""
    if isinstance(val, Ref):
        yield val
    elif isinstance(val, list):
        for item in val:
            yield from refs_in(item)
    elif isinstance(val, dict):
        for item in val.values():
            yield from refs_in(item)


def assert_cached(rec: Any, refs: dict[str, Ref]) -> None:
    """The cache's form: a Rec, Lists and Dicts frozen, each Ref the interned ``refs[id]``."""
    assert type(rec) is Rec

    def frozen(val: Any) -> None:
        if isinstance(val, list):
            assert type(val) is FrozenList
            for item in val:
                frozen(item)
        elif isinstance(val, dict):
            assert type(val) is Rec
            for item in val.values():
                frozen(item)

    for val in rec.values():
        frozen(val)
    for ref in refs_in(rec):
        assert ref is refs[ref.id]


def as_stored(val: Any) -> Any:
    """A value as its cached form reads, thawed: Refs without dis (outside Grids)."""
    if isinstance(val, Ref):
        return Ref(val.id)
    if isinstance(val, list):
        return [as_stored(v) for v in val]
    if isinstance(val, dict):
        return {k: as_stored(v) for k, v in val.items()}
    return val


def decode_both(key: str, text: bytes | str) -> tuple[Any, Any, dict[str, Ref], dict[str, Ref]]:
    """Native and reference outcomes, each interning into its own fresh table."""
    nat_refs: dict[str, Ref] = {}
    ref_refs: dict[str, Ref] = {}
    nat = outcome(native_codec.decode_record, key, text, nat_refs)
    ref = outcome(codec.py_decode_record, key, text, ref_refs)
    return nat, ref, nat_refs, ref_refs


def assert_decodes_alike(key: str, text: bytes | str) -> Rec | None:
    """Native and reference agree on ``text``: the same record (interned in each table) or
    the same ParseError message.  Returns the native record, if any."""
    nat, ref, nat_refs, ref_refs = decode_both(key, text)
    assert nat[0] == ref[0], (nat, ref)
    if nat[0] != "ok":
        assert nat[1] == ref[1]
        return None
    assert_same_value(nat[1], ref[1])
    assert nat_refs.keys() == ref_refs.keys()
    for refs, rec in ((nat_refs, nat[1]), (ref_refs, ref[1])):
        assert_cached(rec, refs)
        assert all(r.dis is None for r in refs.values())  # text dis is not carried
        assert rec["id"] is refs[key]
    return nat[1]


def utf8(text: str) -> list[bytes]:
    """``text`` as UTF-8, if it can be (a lone surrogate cannot)."""
    try:
        return [text.encode()]
    except UnicodeEncodeError:
        return []


def test_building_model_records() -> None:
    recs = building(400)
    for rec in recs:
        text = codec.encode_record(rec)
        key = rec["id"].id
        for data in (text, text.encode()):
            got = assert_decodes_alike(key, data)
            assert got is not None
            # the stored text's tag order, the source's values
            assert list(got) == list(trio.py_loads(text)[0])
            assert as_stored(got) == as_stored(rec)
            assert not gc.is_tracked(got)  # scalars only: out of the cyclic GC


def test_building_model_chunk_shares_refs() -> None:
    recs = building(400)
    chunk = {r["id"].id.encode(): codec.encode_record(r).encode() for r in recs}
    nat_refs: dict[str, Ref] = {}
    ref_refs: dict[str, Ref] = {}
    nat_out: dict[str, Rec] = {}
    ref_out: dict[str, Rec] = {}
    assert native_codec.decode_records(chunk, nat_refs, nat_out) == []
    assert codec.py_decode_records(chunk, ref_refs, ref_out) == []
    assert list(nat_out) == list(ref_out) == [r["id"].id for r in recs]
    assert nat_refs.keys() == ref_refs.keys()
    for refs, out in ((nat_refs, nat_out), (ref_refs, ref_out)):
        for rec_id, rec in out.items():
            assert_cached(rec, refs)
            assert rec["id"] is refs[rec_id]
        # a point's equipRef is the very Ref of the equip record's id
        point = next(r for r in out.values() if "point" in r)
        assert point["equipRef"] is out[point["equipRef"].id]["id"]
    for rec_id in nat_out:
        assert_same_value(nat_out[rec_id], ref_out[rec_id])


@given(rec=st_rec, rec_id=st_ref)
@settings(max_examples=150)
def test_generated_records(rec: dict[str, Any], rec_id: Ref) -> None:
    rec = {**rec, "id": rec_id}
    text = trio.dumps(rec)  # Ref dis kept in the text: decoding must drop them
    for data in (text, *utf8(text)):
        got = assert_decodes_alike(rec_id.id, data)
        assert got is not None
        assert_same_value(as_stored(got), as_stored(trio.py_loads(text)[0]))
    stored = codec.encode_record(rec)
    assert_decodes_alike(rec_id.id, stored)


def test_ref_dis_in_text_is_not_carried() -> None:
    text = 'id:@a "Alpha"\nx:[@b "Bee", 1, {y:@a "A again"}]\nz:@c "Sea"\n'
    for decode in (native_codec.decode_record, codec.py_decode_record):
        refs: dict[str, Ref] = {}
        rec = decode("a", text, refs)
        assert list(refs) == ["a", "b", "c"]
        assert all(r.dis is None for r in refs.values())
        assert rec["id"] is rec["x"][2]["y"] is refs["a"]
        assert rec["x"][0] is refs["b"] and rec["z"] is refs["c"]


def test_interning_is_shared_through_the_table() -> None:
    for decode in (native_codec.decode_record, codec.py_decode_record):
        refs: dict[str, Ref] = {}
        a = decode("a", "id:@a\nnext:@b\n", refs)
        refs["a"]._set_dis("Alpha")  # a live dis, as the display names set it
        b = decode("b", b'id:@b\nprev:@a "stale"\nboth:[@a,@b]\n', refs)
        assert b["prev"] is a["id"] is refs["a"] and refs["a"].dis == "Alpha"
        assert b["id"] is a["next"] is b["both"][1] is refs["b"]
        assert b["both"][0] is refs["a"]
        # another table gets its own instances
        other: dict[str, Ref] = {}
        b2 = decode("b", b'id:@b\nprev:@a "stale"\n', other)
        assert b2["prev"] is other["a"] is not refs["a"]
        assert other["a"].dis is None


def test_records_are_read_only() -> None:
    for decode in (native_codec.decode_record, codec.py_decode_record):
        rec = decode("a", "id:@a\nl:[1,@b]\nd:{x:@c}\n", {})
        with pytest.raises(TypeError):
            rec["n"] = 1
        with pytest.raises(TypeError):
            rec["l"].append(1)
        with pytest.raises(TypeError):
            rec["d"]["x"] = 1


def test_native_records_are_ordinary_recs() -> None:
    """A native record is a Rec in every respect (repr, pickling, copying, dis), and the
    reference it holds on the Rec type is given back when it goes."""
    text = 'id:@a\ndis:"A"\nn:1\nl:[@b]\n'
    rec = native_codec.decode_record("a", text, {})
    assert repr(rec) == repr(codec.py_decode_record("a", text, {}))
    assert rec.dis == "A"
    assert copy.copy(rec) is rec and copy.deepcopy(rec) is rec
    thawed = pickle.loads(pickle.dumps(rec))
    assert type(thawed) is Rec and thawed == rec
    gc.collect()
    before = sys.getrefcount(Rec)
    recs = [native_codec.decode_record("a", t, {}) for t in (text, "id:@a\n") * 500]
    assert sys.getrefcount(Rec) >= before + len(recs)
    del recs
    gc.collect()
    assert sys.getrefcount(Rec) == before


@pytest.mark.parametrize(
    ("text", "tracked"),
    [
        ('id:@a\ndis:"A"\nn:12kW\nm\nr:@b "B"\nd:2024-01-01\nu:`http://x`\n', False),
        ("id:@a\nt:2024-01-01T12:00:00-05:00 New_York\nc:C(1.5,2.5)\nb:T\nna:NA\n", False),
        ("id:@a\nl:[1,2]\n", True),
        ("id:@a\nl:[]\n", True),
        ("id:@a\nd:{x:@b}\n", True),
        ('id:@a\ng:Zinc:\n  ver:"3.0"\n  a\n  1\n', True),
    ],
)
def test_records_of_scalars_leave_the_cyclic_gc(text: str, tracked: bool) -> None:
    """The native docstring: a record holding only scalars is taken out of the cyclic GC;
    one holding a collection stays in it.  The reference gives an equal record."""
    got = assert_decodes_alike("a", text)
    assert got is not None
    assert gc.is_tracked(got) is tracked


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected one record, found 0"),
        ("// just a comment\n", "expected one record, found 0"),
        ("id:@a\n---\nid:@a\n", "expected one record, found 2"),
        ("x:1\n", "expected id @a, found None"),
        ('id:"a"\n', "expected id @a, found 'a'"),
        ("id:@b\n", "expected id @a, found Ref('b')"),
        ("id:@a:b\n", "expected id @a, found Ref('a:b')"),
        ("id\n", "expected id @a, found hx.MARKER"),
        ("id:12\n", "expected id @a, found Number(12.0)"),
        ("{{", None),  # not Trio: the Trio reader's message
        ("id:@a\nx:[1,\n", None),
    ],
)
def test_errors(text: str, message: str | None) -> None:
    for data in (text, text.encode()):
        nat, ref, _, _ = decode_both("a", data)
        assert nat[0] == ref[0] == "ParseError"
        assert nat[1] == ref[1]
        if message is not None:
            assert nat[1] == message


@pytest.mark.parametrize("data", [b"\xff", b"id:@a\nx:\xc3\n", b"id:@a\xed\xa0\x80\n"])
def test_invalid_utf8(data: bytes) -> None:
    nat, ref, _, _ = decode_both("a", data)
    assert nat[0] == ref[0] == "ParseError"
    assert nat[1] == ref[1]
    assert nat[1].startswith("not UTF-8 text: ")


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview, str])
def test_input_kinds(kind: type) -> None:
    text = "id:@a\nx:@b\n"
    data = text if kind is str else kind(text.encode())
    got = assert_decodes_alike("a", data)
    assert got is not None and list(got) == ["id", "x"]


_TRIO_PIECES = st.sampled_from(
    [
        "id:@a",
        "id:@b",
        'id:@a "A"',
        "id:",
        "id",
        "@a",
        '"a"',
        "x:[@a,@b]",
        "y:{z:@c}",
        "l:[",
        "m",
        "n:1kW",
        "\n",
        "---\n",
        " ",
        ":",
        "\u00e9",
        'g:Zinc:\n  ver:"3.0"\n  a\n  @a\n',
    ]
)
st_trio_like = st.lists(_TRIO_PIECES, max_size=10).map("".join)


@given(key=st.sampled_from(["a", "b"]), text=st_trio_like)
@example(key="a", text="id:@a\nx:[@a,@b]\n")
def test_fuzz_trio_like(key: str, text: str) -> None:
    assert_decodes_alike(key, text)
    assert_decodes_alike(key, text.encode())


@given(key=st.sampled_from(["a", "b"]), data=st.binary(max_size=40))
def test_fuzz_bytes(key: str, data: bytes) -> None:
    assert_decodes_alike(key, data)


@given(key=st.sampled_from(["a", "b"]), text=st.text(max_size=30))
def test_fuzz_text(key: str, text: str) -> None:
    assert_decodes_alike(key, text)


def decode_records_both(
    chunk: dict[bytes, bytes], out_before: Mapping[str, Rec] | None = None
) -> tuple[dict[str, Rec], dict[str, Rec]]:
    """Native and reference ``decode_records`` on ``chunk`` (each into its own tables), checked
    to agree on the records, their order and the failures; returns both ``out``."""
    results = []
    for decode in (native_codec.decode_records, codec.py_decode_records):
        refs: dict[str, Ref] = {}
        out = dict(out_before or {})
        failed = decode(chunk, refs, out)
        assert all(type(exc) is ParseError for _, exc in failed)
        results.append((out, [(rec_id, str(exc)) for rec_id, exc in failed], refs))
    (nat_out, nat_failed, nat_refs), (ref_out, ref_failed, ref_refs) = results
    assert nat_failed == ref_failed
    assert list(nat_out) == list(ref_out)
    for rec_id in nat_out:
        assert_same_value(nat_out[rec_id], ref_out[rec_id])
    for out, refs in ((nat_out, nat_refs), (ref_out, ref_refs)):
        for rec_id, rec in out.items():
            if out_before is None or rec_id not in out_before:
                assert_cached(rec, refs)
                assert rec["id"].id == rec_id
    failed_ids = {rec_id for rec_id, _ in nat_failed}
    decoded = [raw.decode(errors="backslashreplace") for raw in chunk]
    assert [i for i in decoded if i not in failed_ids] == [
        i for i in nat_out if out_before is None or i not in out_before
    ]
    return nat_out, ref_out


def test_decode_records_failures() -> None:
    chunk = {
        b"a": b"id:@a\nnext:@b\n",
        b"bad": b"{{",
        b"b": 'id:@b\ndis:"B\u00e9"\nl:[@a,@c]\n'.encode(),
        b"wrong": b"id:@a\n",
        b"utf": b"id:@utf\nx:\xff\n",
        b"\xffname": b"id:@a\n",  # a non-UTF-8 field name: a failure, not an exception
        b"none": b"",
        b"c": b"id:@c\n",
    }
    nat_out, _ = decode_records_both(chunk)
    assert list(nat_out) == ["a", "b", "c"]
    nat_failed = native_codec.decode_records(chunk, {}, {})
    assert [rec_id for rec_id, _ in nat_failed] == ["bad", "wrong", "utf", "\\xffname", "none"]
    assert str(nat_failed[1][1]) == "expected id @wrong, found Ref('a')"
    assert str(nat_failed[3][1]) == "expected id @\\xffname, found Ref('a')"
    assert str(nat_failed[4][1]) == "expected one record, found 0"


def test_decode_records_adds_to_out_and_keys_by_id() -> None:
    earlier = native_codec.decode_record("z", "id:@z\n", {})
    chunk = {b"a": b"id:@a\n", b"b": b"id:@b\nz:@z\n"}
    nat_out, ref_out = decode_records_both(chunk, {"z": earlier})
    assert list(nat_out) == list(ref_out) == ["z", "a", "b"]
    assert nat_out["z"] is earlier
    # native: keyed by the interned Ref's own id str, so the cache's tables share one str
    for key, rec in nat_out.items():
        if key != "z":
            assert key is rec["id"].id


_ST_CHUNK_TEXT = st.one_of(
    st.sampled_from(["id:@a\n", "id:@b\nx:@a\n", "id:@c\nl:[@a,@c]\n", "id:@a\n---\nid:@b\n"]),
    st_trio_like,
).map(str.encode) | st.binary(max_size=12)


@given(
    chunk=st.dictionaries(
        st.sampled_from([b"a", b"b", b"c", b"d", b"\xff", b"a\xc3"]) | st.binary(max_size=3),
        _ST_CHUNK_TEXT,
        max_size=6,
    )
)
def test_fuzz_decode_records(chunk: dict[bytes, bytes]) -> None:
    decode_records_both(chunk)


# ================================================================================================
# index: TagIndex.add_many (native) vs py_add_many vs add
# ================================================================================================


def ref_ids(val: Any) -> list[str]:
    if isinstance(val, Ref):
        return [val.id]
    if isinstance(val, list):
        return [v.id for v in val if isinstance(v, Ref)]
    return []


def questions(recs: list[Mapping[str, Any]]) -> tuple[list[str], list[tuple[str, str]]]:
    """The tags and (tag, Ref id) pairs of ``recs``, plus some no record has."""
    tags = sorted({tag for rec in recs for tag in rec} | {"absent", "id"})
    pairs = sorted(
        {(tag, rid) for rec in recs for tag, val in rec.items() for rid in ref_ids(val)}
        | {("absent", "a"), ("siteRef", "absent")}
    )
    return tags, pairs


def index_view(index: TagIndex, recs: list[Mapping[str, Any]]) -> tuple[Any, ...]:
    """Everything the index answers about the tags and Refs of ``recs``, ids in the index's
    order.  Makes every bucket a dict (first use)."""
    tags, pairs = questions(recs)
    return (
        len(index),
        list(index.all_ids),
        {tag: list(index.ids_with(tag)) for tag in tags},
        {pair: list(index.ids_with_ref(*pair)) for pair in pairs},
    )


def expected_view(
    current: dict[str, Mapping[str, Any]], recs: list[Mapping[str, Any]]
) -> tuple[Any, ...]:
    """:func:`index_view` from the contract alone: ``current`` maps the indexed ids, in
    indexing order, to their records."""
    tags, pairs = questions(recs)
    return (
        len(current),
        list(current),
        {tag: [i for i, rec in current.items() if rec.get(tag) is not None] for tag in tags},
        {
            (tag, rid): [
                i for i, rec in current.items() if tag != "id" and rid in ref_ids(rec.get(tag))
            ]
            for tag, rid in pairs
        },
    )


def add_each(index: TagIndex, recs: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
    for rec_id, rec in recs:
        index.add(rec_id, rec)


LOADERS: dict[str, Callable[[TagIndex, Iterable[tuple[str, Mapping[str, Any]]]], None]] = {
    "native": TagIndex.add_many,
    "reference": py_add_many,
    "add": add_each,
}


def test_building_model_index() -> None:
    recs = building(1000)
    pairs = [(r["id"].id, r) for r in recs]
    views = []
    for load in LOADERS.values():
        index = TagIndex()
        load(index, pairs)
        views.append(index_view(index, recs))
    assert views[0] == views[1] == views[2] == expected_view(dict(pairs), recs)
    sites = [r["id"].id for r in recs if "site" in r]
    assert views[0][2]["site"] == sites
    ahus = views[0][3][("siteRef", sites[0])]
    assert ahus[0].startswith("e") and ahus[-1].startswith("p")


def test_building_model_index_in_two_batches_then_changes() -> None:
    recs = building(1000)
    pairs = [(r["id"].id, r) for r in recs]
    half = len(pairs) // 2
    indexes = {name: TagIndex() for name in LOADERS}
    for name, load in LOADERS.items():
        load(indexes[name], pairs[:half])
        list(indexes[name].ids_with("point"))  # one bucket used: a dict from now on
        load(indexes[name], pairs[half:])
    assert type(indexes["native"]._tags["point"]) is dict  # the state under test
    assert type(indexes["native"]._tags["his"]) is list
    current = dict(pairs)
    moved = {**recs[-1], "equipRef": Ref("e000000"), "siteRef": None, "new": MARKER}
    for index in indexes.values():
        index.remove(recs[3]["id"].id, recs[3])
        index.update(recs[-1]["id"].id, recs[-1], moved)
    del current[recs[3]["id"].id]
    current[recs[-1]["id"].id] = moved
    expected = expected_view(current, [*recs, moved])
    for index in indexes.values():
        assert index_view(index, [*recs, moved]) == expected


_REF_IDS = ["a", "b", "c", "s1"]
st_index_ref = st.sampled_from(_REF_IDS).map(Ref)
st_index_value = st.one_of(
    st.none(),
    st.just(MARKER),
    st.text(max_size=2),
    st_index_ref,
    st.lists(st.one_of(st_index_ref, st.just(MARKER), st.none()), max_size=4),
    st.builds(lambda ref: Rec({"inner": ref}), st_index_ref),  # Refs in a Dict: not indexed
)
st_index_rec = st.dictionaries(
    st.sampled_from(["id", "site", "siteRef", "equipRef", "refs", "m", "s"]),
    st_index_value,
    max_size=6,
)


@st.composite
def st_index_story(draw: st.DrawFn) -> dict[str, Any]:
    """Two batches of records, the tags queried in between, then removes and updates."""
    ids = draw(st.lists(st.text("abxyz019", min_size=1, max_size=3), unique=True, max_size=14))
    recs = draw(st.lists(st_index_rec, min_size=len(ids), max_size=len(ids)))
    split = draw(st.integers(0, len(ids)))
    loaded = list(zip(ids, recs, strict=True))
    changed = draw(st.lists(st.sampled_from(ids), unique=True)) if ids else []
    cut = draw(st.integers(0, len(changed)))
    return {
        "first": loaded[:split],
        "probe": draw(st.lists(st.sampled_from(["site", "siteRef", "m", "refs", "id"]))),
        "second": loaded[split:],
        "removed": changed[:cut],
        "updated": [(i, draw(st_index_rec)) for i in changed[cut:]],
    }


@given(story=st_index_story())
@settings(max_examples=150)
def test_generated_index_stories(story: dict[str, Any]) -> None:
    every = [rec for _, rec in story["first"] + story["second"]]
    every += [rec for _, rec in story["updated"]]
    plans = {name: (load, load) for name, load in LOADERS.items()}
    plans["add, then native"] = (add_each, TagIndex.add_many)  # onto dict buckets only
    indexes = {name: TagIndex() for name in plans}
    for name, (load_first, load_second) in plans.items():
        index = indexes[name]
        load_first(index, story["first"])
        for tag in story["probe"]:  # makes those buckets dicts before the second batch
            list(index.ids_with(tag))
        load_second(index, story["second"])
    current = dict(story["first"] + story["second"])
    expected = expected_view(current, every)
    for index in indexes.values():
        assert index_view(index, every) == expected

    for rec_id in story["removed"]:
        for index in indexes.values():
            index.remove(rec_id, current[rec_id])
        del current[rec_id]
    for rec_id, new in story["updated"]:
        for index in indexes.values():
            index.update(rec_id, current[rec_id], new)
        current[rec_id] = new
    expected = expected_view(current, every)
    for index in indexes.values():
        assert index_view(index, every) == expected


@given(first=st.lists(st_index_rec, max_size=5), second=st.lists(st_index_rec, max_size=5))
@settings(max_examples=50)
def test_change_right_after_bulk_load(first: list[dict], second: list[dict]) -> None:
    """remove and update on buckets still in bulk-load form (lists), before any query."""
    pairs = [(f"r{i}", rec) for i, rec in enumerate(first + second)]
    nat, ref = TagIndex(), TagIndex()
    nat.add_many(pairs)
    py_add_many(ref, pairs)
    current = dict(pairs)
    for rec_id, rec in pairs[: len(first)]:
        for index in (nat, ref):
            index.remove(rec_id, rec)
        del current[rec_id]
    # each record of the second batch takes the tags of one of the first
    for (rec_id, old), (_, new) in zip(pairs[len(first) :], pairs, strict=False):
        for index in (nat, ref):
            index.update(rec_id, old, new)
        current[rec_id] = new
    recs = [rec for _, rec in pairs]
    assert index_view(nat, recs) == index_view(ref, recs) == expected_view(current, recs)


@pytest.mark.parametrize(
    "batch",
    [
        [("x", {"m": MARKER}), ("a", {"site": MARKER})],  # "a" is indexed already
        [("x", {"m": MARKER}), ("y", {"siteRef": Ref("a")}), ("x", {})],  # twice in the batch
    ],
    ids=["already-indexed", "twice-in-batch"],
)
@pytest.mark.parametrize("load", ["native", "reference"])
def test_duplicates_index_nothing(load: str, batch: list[tuple[str, dict]]) -> None:
    first = [("a", {"site": MARKER, "refs": [Ref("a")]}), ("b", {"siteRef": Ref("a")})]
    index = TagIndex()
    LOADERS[load](index, first)
    recs = [rec for _, rec in first + batch]
    before = index_view(index, recs)
    with pytest.raises(ValueError, match="record already indexed: "):
        LOADERS[load](index, iter(batch))
    assert index_view(index, recs) == before
    LOADERS[load](index, [("c", {"site": MARKER})])  # still usable, "c" placed last
    assert list(index.all_ids) == ["a", "b", "c"]
    assert list(index.ids_with("site")) == ["a", "c"]


def test_other_mapping_kinds() -> None:
    rec = {"site": MARKER, "siteRef": Ref("a"), "refs": [Ref("b"), Ref("a")], "none": None}
    pairs = [("p", MappingProxyType(rec)), ("r", Rec(rec)), ("d", dict(rec))]
    nat, ref = TagIndex(), TagIndex()
    nat.add_many(pairs)
    py_add_many(ref, pairs)
    recs = [rec]
    assert index_view(nat, recs) == index_view(ref, recs) == expected_view(dict(pairs), recs)
    assert list(nat.ids_with("none")) == []


# ================================================================================================
# dis: rebuild / compute_all (native) vs py_rebuild / py_compute_all
# ================================================================================================

Spec = list[tuple[str, dict[str, Any]]]  # records in views order, Refs plain


def world(spec: Spec, refs: dict[str, Ref] | None = None) -> tuple[dict[str, Rec], dict[str, Ref]]:
    """``views`` (id -> cached record, ids and Ref values interned) and ``refs``."""
    refs = {} if refs is None else refs

    def ref_of(ref: Ref) -> Ref:
        return codec.intern(refs, ref.id)

    views = {
        rec_id: Rec({"id": ref_of(Ref(rec_id)), **codec.cached_value(tags, ref_of)})
        for rec_id, tags in spec
    }
    return views, refs


def dis_table(refs: dict[str, Ref]) -> dict[str, str | None]:
    return {rec_id: ref.dis for rec_id, ref in refs.items()}


def as_sets(table: Mapping[str, Any]) -> dict[str, set[str]]:
    return {key: set(val) for key, val in table.items()}


def rebuilt(fn: Callable[..., None], spec: Spec) -> tuple[dict, dict, dict, dict]:
    """``views``, ``refs``, ``depends_on`` and ``dependents`` after ``fn`` (a rebuild)."""
    views, refs = world(spec)
    depends_on: dict[str, set[str]] = {}
    dependents: dict[str, set[str]] = {}
    fn(views, refs, depends_on, dependents)
    return views, refs, depends_on, dependents


def assert_rebuilds_alike(spec: Spec) -> dict[str, str | None]:
    """rebuild and py_rebuild give the same display strings and tables; returns the former."""
    _, nat_refs, nat_on, nat_by = rebuilt(native_dis.rebuild, spec)
    _, ref_refs, ref_on, ref_by = rebuilt(dis.py_rebuild, spec)
    assert dis_table(nat_refs) == dis_table(ref_refs)
    assert as_sets(nat_on) == as_sets(ref_on)
    assert as_sets(nat_by) == as_sets(ref_by)
    return dis_table(nat_refs)


def test_hand_checked_display_names() -> None:
    spec: Spec = [
        ("site", {"dis": "Site 1"}),
        ("ahu", {"disMacro": "$siteRef $navName", "siteRef": Ref("site"), "navName": "AHU"}),
        ("self", {"disMacro": "$aRef NN", "aRef": Ref("self")}),
        ("x", {"disMacro": "$bRef x", "bRef": Ref("y")}),
        ("y", {"disMacro": "$aRef y", "aRef": Ref("x")}),
        ("dangling", {"disMacro": "[$aRef]", "aRef": Ref("gone")}),
        ("num", {"dis": Number(42, "kW")}),
        ("marker", {"dis": MARKER, "name": "ignored"}),
        ("named", {"name": "N"}),
        ("bare", {}),
        ("strvar", {"disMacro": "${a}/$b/$missing/${}/$<ui::site>/$", "a": "A", "b": Number(2)}),
        ("both", {"dis": "wins", "disMacro": "$aRef", "aRef": Ref("site")}),
    ]
    got = assert_rebuilds_alike(spec)
    assert got == {
        "site": "Site 1",
        "ahu": "Site 1 AHU",
        "self": "self NN",
        "x": "x y x",  # x in progress shows its id while y is computed
        "y": "x y",
        "dangling": "[gone]",
        "gone": None,
        "num": "42kW",
        "marker": "✓",
        "named": "N",
        "bare": "bare",
        "strvar": "A/2/$missing/${}/$<ui::site>/$",
        "both": "wins",
    }


@pytest.fixture(params=["native", "reference"])
def impl(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """DisplayNames running on the native steps or on their references."""
    if request.param == "reference":
        monkeypatch.setattr(dis, "rebuild", dis.py_rebuild)
        monkeypatch.setattr(dis, "compute_all", dis.py_compute_all)
    return request.param


class DisDb:
    """Just enough of a Folio's cache for the DisTest sequence: views, refs, DisplayNames."""

    def __init__(self, spec: Iterable[tuple[str, dict[str, Any]]] = ()) -> None:
        self.spec = dict(spec)
        self.views, self.refs = world(spec)
        self.names = dis.DisplayNames(self.views, self.refs)

    def commit(self, changes: dict[str, dict[str, Any]]) -> None:
        """Add or update records (a None value removes the tag), then recompute."""
        for rec_id, tags in changes.items():
            merged = {**self.spec.get(rec_id, {}), **tags}
            self.spec[rec_id] = {k: v for k, v in merged.items() if v is not None}
            self.views.update(world([(rec_id, self.spec[rec_id])], self.refs)[0])
        self.names.changed(changes)

    def remove(self, rec_id: str) -> None:
        del self.spec[rec_id], self.views[rec_id]
        self.names.changed([rec_id])

    def verify(self, **expected: str) -> None:
        """verifyDictDis: the record's dis and its id Ref's dis."""
        for name, text in expected.items():
            rec_id = f"{name.upper()}-ID"
            assert self.refs[rec_id].dis == text, name
            assert self.views[rec_id].dis == text, name
            assert self.views[rec_id]["id"] is self.refs[rec_id]


def test_distest_sequence(impl: str) -> None:
    """folio.md section 6, DisTest steps 1 to 11."""
    a, b, c, bx = Ref("A-ID"), Ref("B-ID"), Ref("C-ID"), Ref("BX-ID")
    db = DisDb()
    db.commit(
        {
            "A-ID": {"dis": "A-0"},
            "B-ID": {"disMacro": "$aRef $navName", "aRef": a, "navName": "B-0"},
            "C-ID": {"disMacro": "$bRef $navName", "bRef": b, "navName": "C-0"},
            "D-ID": {"disMacro": "$cRef $navName", "cRef": c, "navName": "D-0"},
        }
    )
    db.verify(a="A-0", b="A-0 B-0", c="A-0 B-0 C-0", d="A-0 B-0 C-0 D-0")
    db.commit({"A-ID": {"dis": "A-1"}})
    db.verify(a="A-1", b="A-1 B-0", c="A-1 B-0 C-0", d="A-1 B-0 C-0 D-0")
    db.commit({"B-ID": {"navName": "B-1"}})
    db.verify(a="A-1", b="A-1 B-1", c="A-1 B-1 C-0", d="A-1 B-1 C-0 D-0")
    db.commit({"C-ID": {"navName": "C-1"}})
    db.verify(c="A-1 B-1 C-1", d="A-1 B-1 C-1 D-0")
    db.commit({"D-ID": {"navName": "D-1"}})
    db.verify(d="A-1 B-1 C-1 D-1")
    db.commit({"BX-ID": {"dis": "BX-0"}})
    db.commit({"C-ID": {"bRef": bx}})
    db.verify(a="A-1", b="A-1 B-1", bx="BX-0", c="BX-0 C-1", d="BX-0 C-1 D-1")
    db.commit({"BX-ID": {"dis": None, "disMacro": "$aRef $navName", "aRef": a, "navName": "BX-1"}})
    db.verify(a="A-1", b="A-1 B-1", bx="A-1 BX-1", c="A-1 BX-1 C-1", d="A-1 BX-1 C-1 D-1")
    db.commit({"BX-ID": {"aRef": bx, "navName": "NN"}})  # self-reference
    db.verify(a="A-1", b="A-1 B-1", c="BX-ID NN C-1", d="BX-ID NN C-1 D-1")
    assert db.refs["BX-ID"].dis == "BX-ID NN"
    db.commit(
        {
            "A-ID": {"dis": "A-2"},
            "B-ID": {"navName": "B-2"},
            "C-ID": {"bRef": b, "navName": "C-2"},
        }
    )
    step9 = {"a": "A-2", "b": "A-2 B-2", "c": "A-2 B-2 C-2", "d": "A-2 B-2 C-2 D-1"}
    db.verify(**step9)
    assert db.refs["BX-ID"].dis == "BX-ID NN"

    reopened = DisDb(db.spec.items())  # fresh interned Refs, recomputed from the records
    reopened.names.rebuild()
    reopened.verify(**step9)
    assert reopened.refs["BX-ID"].dis == "BX-ID NN"

    db.remove("B-ID")
    db.verify(a="A-2", c="B-ID C-2", d="B-ID C-2 D-1")
    assert db.refs["B-ID"].dis is None


_GRAPH_IDS = [f"r{i}" for i in range(7)]
st_target = st.sampled_from([*_GRAPH_IDS, "gone", "x:y"]).map(Ref)
st_macro = st.lists(
    st.sampled_from(
        ["$aRef", "${bRef}", "$cRef", "$navName", "${num}", "$missing", "$<ui::k>", " ", "-", "$"]
    ),
    max_size=5,
).map("".join)
st_dis_tags = st.fixed_dictionaries(
    {},
    optional={
        "dis": st.one_of(st.text(max_size=3), st_number, st.just(MARKER), st_target),
        "disMacro": st.one_of(st_macro, st_macro, st.just(Number(7))),
        "aRef": st_target,
        "bRef": st_target,
        "cRef": st.one_of(st_target, st.text(max_size=3)),
        "navName": st.text(max_size=3),
        "num": st_number,
        "name": st.text(max_size=2),
    },
)


@st.composite
def st_graph(draw: st.DrawFn) -> Spec:
    """Records r0..r6 (some of them, in any order) with macros naming each other, themselves
    and missing records ("gone", "x:y")."""
    ids = draw(st.lists(st.sampled_from(_GRAPH_IDS), unique=True, min_size=1))
    return [(rec_id, draw(st_dis_tags)) for rec_id in ids]


@given(spec=st_graph())
@settings(max_examples=200)
@example(spec=[("r0", {"disMacro": "$aRef $bRef", "aRef": Ref("r1"), "bRef": Ref("r2")}),
               ("r1", {"disMacro": "$aRef", "aRef": Ref("r2")}),
               ("r2", {"disMacro": "$aRef", "aRef": Ref("r1")})])  # fmt: skip
def test_generated_rebuilds(spec: Spec) -> None:
    got = assert_rebuilds_alike(spec)
    assert got.keys() >= {rec_id for rec_id, _ in spec}
    for rec_id, dis_text in got.items():
        assert (dis_text is None) is (rec_id not in dict(spec))


@given(spec=st_graph(), data=st.data())
@settings(max_examples=200)
def test_generated_compute_all(spec: Spec, data: st.DataObject) -> None:
    """From a rebuilt state, change and remove a few records, then compute a subset."""
    ids = [rec_id for rec_id, _ in spec]
    changed = data.draw(st.lists(st.sampled_from(ids), unique=True, max_size=3))
    new_tags = {rec_id: data.draw(st_dis_tags) for rec_id in changed}
    removed = data.draw(st.lists(st.sampled_from(ids), unique=True, max_size=2))
    todo = set(data.draw(st.lists(st.sampled_from([*_GRAPH_IDS, "gone"]), unique=True)))
    stale = data.draw(st.booleans())  # removed records keep their old dependencies

    tables = []
    for compute in (native_dis.compute_all, dis.py_compute_all):
        views, refs, old_depends_on, _ = rebuilt(dis.py_rebuild, spec)
        before = dis_table(refs)
        views.update(world([(i, new_tags[i]) for i in changed], refs)[0])
        for rec_id in removed:
            views.pop(rec_id, None)
        depends_on = {i: t for i, rec in views.items() if (t := dis.macro_targets(rec))}
        if stale:
            depends_on.update((i, old_depends_on[i]) for i in removed if i in old_depends_on)
        compute(todo, views, refs, depends_on)
        table = dis_table(refs)
        for rec_id in todo:
            assert (table[rec_id] is None) is (rec_id not in views)
        for rec_id in before.keys() - todo:
            assert table[rec_id] == before[rec_id]  # outside todo: kept
        tables.append(table)
    assert tables[0] == tables[1]


CHAIN = 5000


def chain_spec(reverse: bool) -> Spec:
    """Record i shows record i-1 (``$prev.``); record 0 is "R0"."""
    spec: Spec = [("c0", {"dis": "R0"})]
    spec += [(f"c{i}", {"disMacro": "$prev.", "prev": Ref(f"c{i - 1}")}) for i in range(1, CHAIN)]
    return spec[::-1] if reverse else spec


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("fn", ["rebuild", "py_rebuild", "compute_all", "py_compute_all"])
def test_long_macro_chain(fn: str, reverse: bool) -> None:
    """Depth first without recursion: a 5,000-long chain, deepest first in reverse order."""
    views, refs = world(chain_spec(reverse))
    if fn.endswith("rebuild"):
        getattr(dis, fn)(views, refs, {}, {})
    else:
        depends_on = {i: t for i, rec in views.items() if (t := dis.macro_targets(rec))}
        getattr(dis, fn)(views.keys(), views, refs, depends_on)
    for i in (0, 1, 2, CHAIN - 1):
        assert refs[f"c{i}"].dis == "R0" + "." * i
    assert views[f"c{CHAIN - 1}"].dis == "R0" + "." * (CHAIN - 1)
