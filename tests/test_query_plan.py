"""The filter planner over tag indexes: results equal brute-force filtering, in a stable order."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hxredis.filter import Filter
from hxredis.query_plan import Plan, TagIndex, count, execute, plan
from hxredis.timezones import tz
from hxredis.values import MARKER, Number, Ref, Symbol

M = MARKER
UNITS = [None, "°F", "kW", "%"]
CITIES = ["Chicago", "Richmond", "Paris", "Tokyo"]


def make_dataset(n: int, seed: int) -> dict[str, dict[str, Any]]:
    """Sites, equips and points (about 1 : 10 : 100) with Refs, ref lists, numbers in several
    units, strings, dates, nested dicts, symbols and random optional tags."""
    rnd = random.Random(seed)
    recs: dict[str, dict[str, Any]] = {}
    sites: list[str] = []
    equips: list[str] = []
    for i in range(n):
        r = rnd.random()
        rid = f"r{i:05d}"
        rec: dict[str, Any] = {"id": Ref(rid, f"Rec {i}"), "dis": f"Rec {i}"}
        if not sites or r < 0.01:
            rec.update(site=M, area=Number(rnd.randrange(500, 5000), "ft²"))
            rec["geoCity"] = rnd.choice(CITIES)
            rec["geo"] = {"city": rec["geoCity"], "zip": Number(rnd.randrange(10000, 99999))}
            sites.append(rid)
        elif not equips or r < 0.1:
            rec.update(equip=M, siteRef=Ref(rnd.choice(sites)))
            rec[rnd.choice(["ahu", "vav", "meter"])] = M
            if rnd.random() < 0.3:
                rec["feeds"] = [Ref(rnd.choice(equips)) for _ in range(rnd.randrange(3))]
            equips.append(rid)
        else:
            equip = rnd.choice(equips)
            rec.update(point=M, equipRef=Ref(equip), siteRef=recs[equip]["siteRef"])
            rec[rnd.choice(["sensor", "cmd", "sp"])] = M
            if rnd.random() < 0.5:
                rec["temp"] = M
            if rnd.random() < 0.7:
                rec.update(his=M, tz="New_York")
            rec["curVal"] = rnd.choice(
                [Number(rnd.uniform(-10, 100), rnd.choice(UNITS)), True, False, "off", None]
            )
            if rec["curVal"] is None:
                del rec["curVal"]
            if rnd.random() < 0.1:
                rec["since"] = date(2020, 1, 1 + rnd.randrange(28))
            if rnd.random() < 0.1:
                rec["ts"] = datetime(2021, 3, 1 + rnd.randrange(28), tzinfo=tz("New_York"))
            if rnd.random() < 0.05:
                rec["kind"] = Symbol(rnd.choice(["hot-water", "air", "lib:ph"]))
        recs[rid] = rec
    return recs


RECS = make_dataset(10_000, seed=7)
INDEX = TagIndex()
for _rid, _rec in RECS.items():
    INDEX.add(_rid, _rec)
IDS = list(RECS)
SITES = [i for i, r in RECS.items() if "site" in r]
EQUIPS = [i for i, r in RECS.items() if "equip" in r]


def resolve(ref: Ref) -> Mapping[str, Any] | None:
    return RECS.get(ref.id)


def brute(f: Filter, recs: Mapping[str, Mapping[str, Any]], resolver: Any) -> list[str]:
    return [i for i, r in recs.items() if f.matches(r, resolver)]


# ------------------------------------------------------------------------------------------------
# Planner == brute force on the 10,000-record dataset
# ------------------------------------------------------------------------------------------------

TAGS = [
    "id",
    "dis",
    "site",
    "equip",
    "point",
    "ahu",
    "vav",
    "his",
    "temp",
    "sensor",
    "siteRef",
    "equipRef",
    "feeds",
    "curVal",
    "area",
    "geo",
    "since",
    "ts",
    "kind",
    "missingTag",
]
ref_vals = st.sampled_from(SITES[:5] + EQUIPS[:5] + IDS[-3:] + ["nowhere"]).map(Ref)
vals = st.one_of(
    ref_vals,
    st.sampled_from([Number(50, "°F"), Number(20), Number(0, "%"), Number(1000, "ft²")]),
    st.sampled_from(["Rec 1", "Rec 5", "Chicago", "off", "New_York"]),
    st.booleans(),
    st.sampled_from([date(2020, 1, 10), datetime(2021, 3, 10, tzinfo=tz("New_York"))]),
    st.sampled_from([Symbol("air"), Symbol("hot-water")]),
)
paths = st.one_of(
    st.sampled_from(TAGS).map(lambda t: (t,)),
    st.sampled_from(
        [
            ("siteRef", "area"),
            ("equipRef", "siteRef"),
            ("siteRef", "geo", "city"),
            ("feeds", "ahu"),
            ("equipRef", "feeds", "siteRef"),
            ("ts", "date"),
            ("id", "dis"),
        ]
    ),
)
terms = st.one_of(
    paths.map(lambda p: Filter.has(list(p))),
    paths.map(lambda p: Filter.missing(list(p))),
    st.builds(
        lambda op, p, v: getattr(Filter, op)(list(p), v),
        st.sampled_from(["eq", "eq", "eq", "ne", "lt", "le", "gt", "ge"]),
        paths,
        vals,
    ),
    st.sampled_from(["^site", "^hot-water", "^his-temp", "^lib:ph", "Ahu", "ph::Site"]).map(
        Filter.parse
    ),
)
filters = st.recursive(
    terms,
    lambda sub: st.builds(lambda a, b: a & b, sub, sub) | st.builds(lambda a, b: a | b, sub, sub),
    max_leaves=6,
)


@settings(max_examples=60)
@given(filters)
def test_planner_equals_brute_force(f: Filter) -> None:
    assert list(execute(f, INDEX, RECS, resolve)) == brute(f, RECS, resolve)
    assert count(f, INDEX, RECS, resolve) == len(brute(f, RECS, resolve))


@pytest.mark.parametrize(
    "text",
    [
        "id",
        "site",
        "equip",
        "point",
        "not point",
        "equip and siteRef == @r00000",
        "point and equipRef == @r00001 and temp",
        "point and his and not temp",
        "site or equip",
        "(ahu or vav) and siteRef == @r00000",
        "feeds == @r00001",
        "feeds->ahu",
        "not feeds->ahu",
        'siteRef->geo->city == "Chicago" and equip',
        "id == @r00042",
        "id == @r00042 or id == @r00043 or id == @nope",
        "point and curVal > 50°F",
        "curVal != 50°F",
        "^hot-water or ^site",
        "Ahu or ^lib:ph",
        "ts->date <= 2021-03-10 and his",
        "not site and not equip and not point",
        "(site and equip) or missingTag",
    ],
)
def test_planner_examples(text: str) -> None:
    assert list(execute(text, INDEX, RECS, resolve)) == brute(Filter.parse(text), RECS, resolve)
    assert list(execute(text, INDEX, RECS)) == brute(Filter.parse(text), RECS, None)


def test_results_are_stable_and_in_indexing_order() -> None:
    first = list(execute("point and temp", INDEX, RECS))
    assert first == list(execute("temp and point", INDEX, RECS))
    assert first == sorted(first)  # ids were indexed in sorted order
    assert list(execute("site or ahu", INDEX, RECS)) == sorted(
        set(INDEX.ids_with("site")) | set(INDEX.ids_with("ahu"))
    )


# ------------------------------------------------------------------------------------------------
# Selective queries touch only their candidates
# ------------------------------------------------------------------------------------------------


class CountingRecs(Mapping[str, Mapping[str, Any]]):
    """A read-only record map that counts record lookups."""

    def __init__(self, recs: Mapping[str, Mapping[str, Any]]) -> None:
        self.recs = recs
        self.touched = 0

    def __getitem__(self, key: str) -> Mapping[str, Any]:
        self.touched += 1
        return self.recs[key]

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.touched += 1
        return self.recs.get(key, default)

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("the planner must not scan the record map")

    def __len__(self) -> int:
        return len(self.recs)


BIG = make_dataset(100_000, seed=11)
BIG_INDEX = TagIndex()
for _rid, _rec in BIG.items():
    BIG_INDEX.add(_rid, _rec)


@pytest.mark.parametrize(
    ("text", "touched"),
    [
        ("site", 0),
        ("equip and siteRef == @r00000", 0),
        ("point and equipRef == @r00001", 0),
        ("site and not equip", 0),
        ("id == @r00042", 1),
        ("equip and siteRef == @r00000 and siteRef->area > 1000ft²", None),
    ],
)
def test_selective_queries_do_not_touch_every_record(text: str, touched: int | None) -> None:
    recs = CountingRecs(BIG)
    ids = list(execute(text, BIG_INDEX, recs, lambda ref: BIG.get(ref.id)))
    f = Filter.parse(text)
    assert ids == brute(f, BIG, lambda ref: BIG.get(ref.id))
    if touched is not None:
        assert recs.touched == touched
    else:
        assert 0 < recs.touched <= len(BIG_INDEX.ids_with_ref("siteRef", "r00000"))


# ------------------------------------------------------------------------------------------------
# Plans
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "exact"),
    [
        ("site", True),
        ("not site", True),
        ("equip and siteRef == @x", True),
        ("equip or site", True),
        ("^hot-water", True),
        ("Ahu", True),
        ("^a:b", True),
        ("a->b", False),
        ('dis == "x"', False),
        ("id == @x", False),
        ("equip and siteRef->area > 5", False),
        ("site or a->b", False),
    ],
)
def test_plan_exactness(text: str, exact: bool) -> None:
    p = plan(text)
    assert isinstance(p, Plan)
    assert p.exact is exact
    assert (p.predicate is None) is exact
    assert str(p.filter) in repr(p)


def test_plan_residual_keeps_only_what_the_index_cannot_decide() -> None:
    p = plan("equip and siteRef == @s and siteRef->area > 5 and not his")
    assert [str(f) for f in p.residual] == ["siteRef->area > 5"]
    assert plan("site") is plan(Filter.parse("site"))


# ------------------------------------------------------------------------------------------------
# TagIndex maintenance
# ------------------------------------------------------------------------------------------------


def test_tag_index_api() -> None:
    index = TagIndex()
    index.add("a", {"id": Ref("a"), "site": M})
    index.add("b", {"id": Ref("b"), "equip": M, "siteRef": Ref("a"), "refs": [Ref("a"), "x"]})
    index.add("c", {"id": Ref("c"), "equip": M, "siteRef": Ref("a", "Dis"), "gone": None})
    assert len(index) == 3 and "b" in index and "z" not in index
    assert list(index.all_ids) == ["a", "b", "c"]
    assert list(index.ids_with("equip")) == ["b", "c"]
    assert list(index.ids_with("gone")) == [] and list(index.ids_with("nope")) == []
    assert list(index.ids_with_ref("siteRef", "a")) == ["b", "c"]
    assert list(index.ids_with_ref("refs", "a")) == ["b"]
    assert list(index.ids_with_ref("id", "a")) == []
    with pytest.raises(ValueError):
        index.add("a", {"site": M})
    with pytest.raises(KeyError):
        index.remove("z", {})
    with pytest.raises(KeyError):
        index.update("z", {}, {})
    index.remove("b", {"id": Ref("b"), "equip": M, "siteRef": Ref("a"), "refs": [Ref("a"), "x"]})
    assert list(index.ids_with("equip")) == ["c"]
    assert list(index.ids_with_ref("refs", "a")) == []
    index.clear()
    assert len(index) == 0 and list(index.ids_with("site")) == []


def test_update_keeps_the_record_in_place() -> None:
    index = TagIndex()
    recs: dict[str, dict[str, Any]] = {}
    for i in range(5):
        recs[f"r{i}"] = {"id": Ref(f"r{i}"), "n": Number(i)}
        index.add(f"r{i}", recs[f"r{i}"])
    index.add("r0-late", {"hot": M})
    recs["r0-late"] = {"hot": M}
    for rid in ["r3", "r1"]:  # r3 then r1 gain "hot" after r0-late had it
        new = {**recs[rid], "hot": M, "siteRef": Ref("s")}
        index.update(rid, recs[rid], new)
        recs[rid] = new
    assert list(index.ids_with("hot")) == ["r1", "r3", "r0-late"]
    assert list(index.ids_with_ref("siteRef", "s")) == ["r1", "r3"]
    assert list(execute("hot", index, recs)) == ["r1", "r3", "r0-late"]
    new = {**recs["r3"], "siteRef": Ref("t")}
    index.update("r3", recs["r3"], new)
    assert list(index.ids_with_ref("siteRef", "s")) == ["r1"]
    assert list(index.ids_with_ref("siteRef", "t")) == ["r3"]


ops = st.lists(
    st.tuples(
        st.sampled_from(["update", "remove", "add"]),
        st.integers(0, 10**6),
        st.sampled_from([*TAGS[2:12], "curVal"]),
        st.one_of(st.just(M), ref_vals, st.just(None), st.lists(ref_vals, max_size=2)),
    ),
    max_size=40,
)
SMALL = make_dataset(400, seed=3)
SMALL_FILTERS = [
    "site", "equip", "point", "not point", "equip and siteRef == @r00000", "siteRef == @r00001",
    "feeds == @r00001", "temp or his", "ahu and not vav", "equipRef->siteRef == @r00000",
    "curVal == @r00000", "feeds", "id == @r00002",
]  # fmt: skip


@given(ops)
def test_index_maintenance_matches_brute_force(operations: list[tuple[Any, ...]]) -> None:
    recs = {rid: dict(rec) for rid, rec in SMALL.items()}
    index = TagIndex()
    for rid, rec in recs.items():
        index.add(rid, rec)
    fresh = 0
    for op, n, tag, val in operations:
        ids = list(recs)
        rid = ids[n % len(ids)] if ids else None
        if op == "add" or rid is None:
            fresh += 1
            rid = f"new{fresh}"
            recs[rid] = {"id": Ref(rid), tag: M}
            index.add(rid, recs[rid])
        elif op == "remove":
            index.remove(rid, recs.pop(rid))
        else:
            new = dict(recs[rid])
            if val is None:
                new.pop(tag, None)
            else:
                new[tag] = val
            index.update(rid, recs[rid], new)
            recs[rid] = new
    assert list(index.all_ids) == list(recs)
    for text in SMALL_FILTERS:
        f = Filter.parse(text)
        got = list(execute(f, index, recs, lambda ref: recs.get(ref.id)))
        assert got == brute(f, recs, lambda ref: recs.get(ref.id)), text


def test_add_many_builds_the_same_index_as_add() -> None:
    from hxredis import MARKER, Ref
    from hxredis.query_plan import TagIndex

    recs = [
        (f"r{i}", {"id": Ref(f"r{i}"), "site": MARKER, "siteRef": Ref(f"s{i % 3}"),
                   "refs": [Ref("a"), "x", Ref(f"b{i % 2}")], "gone": None})
        for i in range(50)
    ]  # fmt: skip
    one_by_one, bulk = TagIndex(), TagIndex()
    one_by_one.add("first", {"site": MARKER})
    bulk.add("first", {"site": MARKER})
    for rec_id, rec in recs:
        one_by_one.add(rec_id, rec)
    bulk.add_many(recs)
    assert list(bulk.all_ids) == list(one_by_one.all_ids)
    for tag in ("id", "site", "siteRef", "refs", "gone"):
        assert list(bulk.ids_with(tag)) == list(one_by_one.ids_with(tag))
    for tag, ref_id in [("siteRef", "s1"), ("refs", "a"), ("refs", "b0"), ("id", "r3")]:
        assert list(bulk.ids_with_ref(tag, ref_id)) == list(one_by_one.ids_with_ref(tag, ref_id))
    with pytest.raises(ValueError, match="already indexed"):
        bulk.add_many([("r1", {"site": MARKER})])
