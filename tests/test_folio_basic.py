"""Folio reads, commits, trash, kinds and hooks against both Redis servers: a port of the intent
of Haxall's BasicTest (folio.md sections 1 to 3) to hxredis's Python contract."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Mapping

import pytest
from helpers.folio_util import (
    add_rec,
    commit,
    keys_of,
    raises_exactly,
    rec_state,
    remove_rec,
    stored_trio,
    stored_version,
)

import hxredis as hx
from hxredis.values import Grid

M = hx.MARKER


def n(val: float, unit: str | None = None) -> hx.Number:
    return hx.Number(val, unit)


def ids(recs) -> set[str]:
    return {r["id"].id for r in recs}


def dis_list(recs) -> list[str]:
    return sorted(r.dis for r in recs)


def verify_read_by_id(db: hx.Folio, rec_id: hx.Ref, expect: Mapping | None) -> None:
    """Haxall verifyReadById: every by-id read agrees."""
    if expect is not None:
        assert rec_state(db.read_by_id(rec_id)) == rec_state(expect)
        assert rec_state(db.read_by_id(rec_id, False)) == rec_state(expect)
        assert rec_state(db.read_by_id(rec_id, checked=True)) == rec_state(expect)
        assert rec_state(db.read_by_ids([rec_id])[0]) == rec_state(expect)
    else:
        assert db.read_by_id(rec_id, False) is None
        assert db.read_by_id(rec_id, checked=False) is None
        assert db.read_by_ids([rec_id], False) == [None]
        raises_exactly(hx.UnknownRecError, lambda: db.read_by_id(rec_id))
        raises_exactly(hx.UnknownRecError, lambda: db.read_by_id(rec_id, True))
        raises_exactly(hx.UnknownRecError, lambda: db.read_by_ids([rec_id]))
        raises_exactly(hx.UnknownRecError, lambda: db.read_by_ids([rec_id], True))


# ------------------------------------------------------------------------------------------------
# BasicTest.testBasics
# ------------------------------------------------------------------------------------------------


def test_basics(db: hx.Folio, open_db) -> None:
    ver = db.cur_ver
    a = add_rec(db, {"dis": "A", "size": n(10)})
    b = add_rec(db, {"dis": "B", "size": n(20)})
    c = add_rec(db, {"dis": "C", "size": n(30)})
    assert db.cur_ver > ver
    ver = db.cur_ver

    # read_by_id bad
    assert db.read_by_id(hx.Ref.gen(), False) is None
    raises_exactly(hx.UnknownRecError, lambda: db.read_by_id(hx.Ref.gen()))
    raises_exactly(hx.UnknownRecError, lambda: db.read_by_id(hx.Ref.gen(), True))

    # read_by_id good: the record the commit returned
    assert rec_state(db.read_by_id(c["id"])) == rec_state(c)

    # read_by_ids
    found = db.read_by_ids([a["id"], hx.Ref.gen(), b["id"]], False)
    assert len(found) == 3
    assert rec_state(found[0]) == rec_state(a)
    assert found[1] is None
    assert rec_state(found[2]) == rec_state(b)
    raises_exactly(hx.UnknownRecError, lambda: db.read_by_ids([a["id"], hx.Ref.gen(), b["id"]]))
    raises_exactly(
        hx.UnknownRecError, lambda: db.read_by_ids([a["id"], hx.Ref.gen(), b["id"]], True)
    )

    # read bad
    assert db.read(hx.Filter.parse("bad"), False) is None
    assert db.read("bad", checked=False) is None
    raises_exactly(hx.UnknownRecError, lambda: db.read(hx.Filter.parse("bad")))
    raises_exactly(hx.UnknownRecError, lambda: db.read("bad", True))

    # read good
    assert rec_state(db.read("size==20")) == rec_state(b)
    assert rec_state(db.read(f"id == @{b['id'].id}")) == rec_state(b)
    assert rec_state(db.read(f"id == @{b['id'].id} and size == 20")) == rec_state(b)
    assert db.read(f"id == @{b['id'].id} and size == 10", False) is None
    assert db.read(f"size == 10 and id == @{b['id'].id}", False) is None

    # read_all
    found = db.read_all(hx.Filter.parse("size >= 20"))
    assert len(found) == 2
    by_id = {r["id"]: r for r in found}
    assert rec_state(by_id[b["id"]]) == rec_state(b)
    assert rec_state(by_id[c["id"]]) == rec_state(c)

    # read_count; reads leave the version alone
    assert db.read_count(hx.Filter.parse("size >= 20")) == 2
    assert db.read_count("size >= 20") == 2
    assert db.cur_ver == ver

    # reopen
    db.close()
    db = open_db()
    for rec in (a, b, c):
        assert rec_state(db.read_by_id(rec["id"])) == rec_state(rec)
    ver = db.cur_ver

    # some persistent diffs
    a_mod, b_mod, c_mod = a["mod"], b["mod"], c["mod"]
    diffs = db.commit_all([hx.Diff(a, {"pchange": "ap-1"}), hx.Diff(c, {"pchange": "cp-1"})])
    db.sync()
    assert db.cur_ver > ver
    ver = db.cur_ver
    a, b, c = (db.read_by_id(r["id"]) for r in (a, b, c))
    assert rec_state(a) == rec_state(diffs[0].new_rec)
    assert rec_state(c) == rec_state(diffs[1].new_rec)
    assert a["mod"] > a_mod
    assert b["mod"] == b_mod
    assert c["mod"] > c_mod
    assert a["pchange"] == "ap-1"
    assert c["pchange"] == "cp-1"

    # another persistent change to a
    a_mod = a["mod"]
    diffs = db.commit_all([hx.Diff(a, {"pchange": "ap-2"})])
    a = db.read_by_id(a["id"])
    assert rec_state(a) == rec_state(diffs[0].new_rec)
    assert a["pchange"] == "ap-2"
    assert a["mod"] > a_mod
    assert db.cur_ver > ver
    ver = db.cur_ver

    # transient diffs to b and c
    a_mod, b_mod, c_mod = a["mod"], b["mod"], c["mod"]
    diffs = db.commit_all(
        [
            hx.Diff(b, {"tchange": "bt-1"}, hx.Diff.TRANSIENT),
            hx.Diff(c, {"tchange": "ct-1"}, hx.Diff.TRANSIENT),
        ]
    )
    assert db.cur_ver == ver
    b = db.read_by_id(b["id"])
    c = db.read_by_id(c["id"])
    assert rec_state(b) == rec_state(diffs[0].new_rec)
    assert rec_state(c) == rec_state(diffs[1].new_rec)
    assert a["pchange"] == "ap-2"
    assert b["tchange"] == "bt-1"
    assert c["pchange"] == "cp-1"
    assert c["tchange"] == "ct-1"
    assert (a["mod"], b["mod"], c["mod"]) == (a_mod, b_mod, c_mod)

    # reopen: the transient changes did not persist
    db.close()
    db = open_db()
    a, b, c = (db.read_by_id(r["id"]) for r in (a, b, c))
    ver = db.cur_ver
    assert a["pchange"] == "ap-2"
    assert "tchange" not in b
    assert c["pchange"] == "cp-1"
    assert "tchange" not in c
    assert (a["mod"], b["mod"], c["mod"]) == (a_mod, b_mod, c_mod)

    # modify a and b to generate new mods, then verify the concurrency checks
    old_a, old_b = a, b
    new_a = db.commit(hx.Diff(old_a, {"change": "a-2"})).new_rec
    new_b = db.commit(hx.Diff(old_b, {"change": "b-1"})).new_rec
    assert db.cur_ver > ver
    ver = db.cur_ver
    assert new_a["mod"] > old_a["mod"]
    assert new_b["mod"] > old_b["mod"]
    for batch in (
        [hx.Diff(old_a, {"change": "X!"}), hx.Diff(new_b, {"change": "X!"})],
        [hx.Diff(new_a, {"change": "X!"}), hx.Diff(old_b, {"change": "X!"})],
        [hx.Diff(old_a, {"change": "X!"}), hx.Diff(old_b, {"change": "X!"}, hx.Diff.FORCE)],
    ):
        raises_exactly(hx.ConcurrentChangeError, lambda batch=batch: db.commit_all(batch))
    assert db.cur_ver == ver
    assert db.read_by_id(a["id"])["change"] == "a-2"
    assert db.read_by_id(b["id"])["change"] == "b-1"

    # the force flag
    db.commit_all(
        [
            hx.Diff(old_a, {"change": "a-3"}, hx.Diff.FORCE),
            hx.Diff(old_b, {"change": "b-2"}, hx.Diff.FORCE),
        ]
    )
    assert db.cur_ver > ver
    ver = db.cur_ver
    assert db.read_by_id(a["id"])["change"] == "a-3"
    assert db.read_by_id(b["id"])["change"] == "b-2"

    # remove a record
    a, b, c = (db.read_by_id(r["id"]) for r in (a, b, c))
    result = db.commit(hx.Diff(c, None, hx.Diff.REMOVE))
    assert result.new_rec is None
    assert db.cur_ver > ver
    ver = db.cur_ver
    assert db.read_by_id(c["id"], False) is None
    raises_exactly(hx.UnknownRecError, lambda: db.read_by_id(c["id"]))

    # commit to a record that does not exist: CommitError (exactly), nothing applied
    raises_exactly(
        hx.CommitError,
        lambda: db.commit_all(
            [hx.Diff(a, {"doNotAdd": "foo"}, hx.Diff.FORCE), hx.Diff(c, {"foo": "bar"})]
        ),
        match="Rec not found",
    )
    assert db.cur_ver == ver
    assert "doNotAdd" not in db.read_by_id(a["id"])

    # close and reopen
    db.close()
    db = open_db()
    assert rec_state(db.read_by_id(a["id"])) == rec_state(a)
    assert rec_state(db.read_by_id(b["id"])) == rec_state(b)
    assert db.read_by_id(c["id"], False) is None
    raises_exactly(hx.UnknownRecError, lambda: db.read_by_id(c["id"]))

    # every call after close raises ShutdownError
    db.close()
    db.close()  # idempotent
    calls = [
        lambda: db.read_by_id(a["id"]),
        lambda: db.read_by_id(a["id"], False),
        lambda: db.read_by_ids([a["id"]]),
        lambda: db.read_by_ids([a["id"]], False),
        lambda: db.read_count("foo"),
        lambda: db.read("foo"),
        lambda: db.read("foo", False),
        lambda: db.read_all("foo"),
        lambda: db.read_trash("foo"),
        lambda: db.read_by_id_trash(a["id"]),
        lambda: db.commit(hx.Diff(a, {"foo": M})),
        lambda: db.commit_all([hx.Diff(a, {"foo": M})]),
        lambda: db.commit(hx.Diff(a, {"foo": M}, hx.Diff.TRANSIENT)),
        lambda: db.commit(hx.Diff.make_add({"foo": M})),
        lambda: db.sync(),
    ]
    for call in calls:
        raises_exactly(hx.ShutdownError, call)


def test_unknown_rec_error_is_key_error_and_names_the_id(db: hx.Folio) -> None:
    missing = hx.Ref("no-such-rec")
    with pytest.raises(KeyError) as info:
        db.read_by_id(missing)
    assert "no-such-rec" in str(info.value)
    with pytest.raises(hx.UnknownRecError) as info2:
        db.read("someTag and other")
    assert "someTag" in str(info2.value)


def test_read_by_ids_empty_and_ordering(db: hx.Folio) -> None:
    recs = [add_rec(db, {"dis": f"R{i}", "i": n(i)}) for i in range(5)]
    assert db.read_by_ids([]) == []
    order = [recs[3]["id"], recs[0]["id"], recs[4]["id"], recs[0]["id"]]
    assert [r["i"] for r in db.read_by_ids(order)] == [n(3), n(0), n(4), n(0)]
    # every id missing: a list of Nones (the 0-row grid of Haxall is a grid quirk)
    assert db.read_by_ids([hx.Ref.gen(), hx.Ref.gen()], False) == [None, None]
    # str ids are accepted like Refs
    assert db.read_by_id(recs[2]["id"].id)["i"] == n(2)


# ------------------------------------------------------------------------------------------------
# BasicTest.testFilters
# ------------------------------------------------------------------------------------------------


def test_filters(db: hx.Folio) -> None:
    a = add_rec(db, {"dis": "a", "num": n(10)})
    b = add_rec(db, {"dis": "b", "num": n(20), "ref": a["id"]})
    add_rec(db, {"dis": "c", "num": n(30), "ref": a["id"]})
    d = add_rec(db, {"dis": "d", "num": n(40), "ref": [a["id"]]})
    e = add_rec(db, {"dis": "e", "num": n(50), "ref": [a["id"], b["id"]]})
    add_rec(db, {"dis": "f", "refx": [d["id"]]})
    add_rec(db, {"dis": "g", "refx": [e["id"]]})

    def verify(filter_text: str, expected: str) -> None:
        got = ",".join(r.dis for r in db.read_all(filter_text, sort=True))
        assert got == expected, filter_text
        assert db.read_count(filter_text) == (len(expected.split(",")) if expected else 0)

    verify("dis", "a,b,c,d,e,f,g")
    verify("ref", "b,c,d,e")
    verify("not ref", "a,f,g")
    verify("num == 20", "b")
    verify("num < 30", "a,b")
    verify("num >= 30", "c,d,e")
    verify("ref == @bad", "")
    verify(f"ref == @{a['id'].id}", "b,c,d,e")
    verify("ref->num", "b,c,d,e")
    verify("ref->num == 10", "b,c,d,e")
    verify("refx->ref->num == 10", "f,g")
    verify("refx->ref->num == 20", "g")
    verify("num > 15 and num < 45", "b,c,d")
    verify("num == 10 or num == 50", "a,e")
    verify('dis == "c" or refx', "c,f,g")


def test_filter_path_through_trash_and_missing_targets(db: hx.Folio) -> None:
    """Pathing ``a->b`` dereferences through every record, trash included (folio.md 1.2)."""
    site = add_rec(db, {"dis": "S", "site": M, "area": n(500), "trash": M})
    add_rec(db, {"dis": "E", "equip": M, "siteRef": site["id"]})
    add_rec(db, {"dis": "Dangling", "equip": M, "siteRef": hx.Ref("gone-rec")})
    assert [r.dis for r in db.read_all("siteRef->area > 100")] == ["E"]
    assert db.read_all("site") == []
    assert dis_list(db.read_all("equip")) == ["Dangling", "E"]


def test_queries_reflect_commits(db: hx.Folio) -> None:
    """The in-memory tag indexes follow adds, updates, tag removals and removes."""
    a = add_rec(db, {"dis": "A", "foo": M, "v": n(1)})
    assert ids(db.read_all("foo")) == {a["id"].id}
    a = commit(db, a, {"foo": hx.REMOVE, "bar": M, "v": n(5)})
    assert db.read_all("foo") == []
    assert db.read_count("foo") == 0
    assert ids(db.read_all("bar and v == 5")) == {a["id"].id}
    assert db.read_all("v == 1") == []
    remove_rec(db, a)
    assert db.read_all("bar") == []
    assert db.read_count("v") == 0


# ------------------------------------------------------------------------------------------------
# BasicTest.testRemoveTags
# ------------------------------------------------------------------------------------------------


def test_remove_tags(db: hx.Folio) -> None:
    a = add_rec(db, {"foo": "f", "bar": "b", "baz": hx.REMOVE})
    assert rec_state(a) == rec_state({"id": a["id"], "mod": a["mod"], "foo": "f", "bar": "b"})

    a = commit(db, a, {"foo": hx.REMOVE, "bar": "b", "baz": hx.REMOVE})
    assert rec_state(a) == rec_state({"id": a["id"], "mod": a["mod"], "bar": "b"})

    a = commit(db, a, {"bar": hx.REMOVE})
    assert rec_state(a) == rec_state({"id": a["id"], "mod": a["mod"]})
    assert rec_state(db.read_by_id(a["id"])) == rec_state(a)

    raises_exactly(hx.DiffError, lambda: commit(db, a, {"id": hx.REMOVE}))
    raises_exactly(hx.DiffError, lambda: commit(db, a, {"mod": hx.REMOVE}))


def test_none_value_is_invalid_tag_value(db: hx.Folio) -> None:
    """A Python None in changes raises InvalidTagValueError; hx.REMOVE removes the tag."""
    a = add_rec(db, {"dis": "A", "foo": M})
    raises_exactly(hx.InvalidTagValueError, lambda: commit(db, a, {"foo": None}))
    raises_exactly(hx.InvalidTagValueError, lambda: add_rec(db, {"dis": "B", "foo": None}))
    assert db.read_by_id(a["id"])["foo"] is M
    assert db.read_count("dis") == 1


# ------------------------------------------------------------------------------------------------
# BasicTest.testReadOpts
# ------------------------------------------------------------------------------------------------


def test_read_opts(db: hx.Folio) -> None:
    a = add_rec(db, {"dis": "A", "num": n(1), "a": n(1)})
    b = add_rec(db, {"dis": "B", "num": n(2), "b": n(2)})
    c = add_rec(db, {"dis": "C", "num": n(3), "c": n(3)})
    d = add_rec(db, {"dis": "D", "num": n(4), "d": n(4)})
    e = add_rec(db, {"dis": "E", "num": n(5), "e": n(5), "trash": M})
    f = add_rec(db, {"dis": "F", "num": n(6), "f": n(6), "trash": M})

    all_recs = db.read_all("num")
    assert ids(all_recs) == ids([a, b, c, d])
    assert db.read_count("num") == 4
    assert ids(db.read_all("num >= 3")) == ids([c, d])
    assert db.read_count("num >= 3") == 2

    assert [r.dis for r in db.read_all("num", sort=True)] == ["A", "B", "C", "D"]

    all_trash = db.read_trash("num")
    assert ids(all_trash) == ids([e, f])
    assert ids(db.read_trash("num >= 5")) == ids([e, f])
    assert ids(db.read_trash("num >= 6")) == ids([f])

    # limit: the first N in a stable scan order
    for limit in (1, 2, 3, 4, 5, 100):
        got = db.read_all("num", limit=limit)
        assert [r["id"] for r in got] == [r["id"] for r in all_recs[:limit]]
        assert db.read_count("num", limit=limit) == min(limit, 4)
    assert [r["id"] for r in db.read_all("num")] == [r["id"] for r in all_recs]

    # limit <= 0: nothing, without error
    for limit in (0, -1):
        assert db.read_all("num", limit=limit) == []
        assert db.read_count("num", limit=limit) == 0

    # sort applies after the limit (Haxall quirk): the first N scanned, sorted
    first_two = sorted(r.dis for r in all_recs[:2])
    assert [r.dis for r in db.read_all("num", limit=2, sort=True)] == first_two

    # read returns the first match, never a trash record
    assert db.read("num >= 5", False) is None
    assert db.read("num").dis in "ABCD"


def test_sort_compares_dis_like_haxall(db: hx.Folio) -> None:
    """Etc.compareDis: first char case-insensitive, trailing digits as numbers."""
    for dis in ["Foo-10", "Foo-3", "Foo-2", "bar", "Alpha", "zed", "Foo-1", "Can"]:
        add_rec(db, {"dis": dis, "x": M})
    got = [r.dis for r in db.read_all("x", sort=True)]
    assert got == ["Alpha", "bar", "Can", "Foo-1", "Foo-2", "Foo-3", "Foo-10", "zed"]


def test_sort_is_case_insensitive(db: hx.Folio) -> None:
    """Etc.compareDis is case-insensitive as a whole ("bar" < "Baz", "Foo-1" < "foo-3")."""
    for dis in ["Foo-10", "foo-3", "Foo-2", "bar", "Baz", "Foo-1"]:
        add_rec(db, {"dis": dis, "x": M})
    got = [r.dis for r in db.read_all("x", sort=True)]
    assert got == ["bar", "Baz", "Foo-1", "Foo-2", "foo-3", "Foo-10"]


def test_search_option(db: hx.Folio) -> None:
    alpha = add_rec(db, {"dis": "Alpha Site", "site": M, "note": "first"})
    beta = add_rec(db, {"dis": "Beta Site", "site": M, "note": "second one"})
    gamma = add_rec(db, {"dis": "Gamma", "site": M, "geoCity": "Richmond", "num": n(7)})

    def found(search: str | None) -> set[str]:
        return ids(db.read_all("site", search=search))

    every = ids([alpha, beta, gamma])
    assert found(None) == every
    assert found("") == every
    assert found("   ") == every
    # glob, case-insensitive, *pattern*
    assert found("alpha") == ids([alpha])
    assert found("SITE") == ids([alpha, beta])
    assert found("b?ta") == ids([beta])
    assert found("a*site") == ids([alpha, beta])
    # any Str tag
    assert found("richmond") == ids([gamma])
    assert found("second") == ids([beta])
    # regex
    assert found("re:^Gam") == ids([gamma])
    assert found("re:Site$") == ids([alpha, beta])
    # nested filter
    assert found("f:num > 5") == ids([gamma])
    assert found("f:note") == ids([alpha, beta])
    # trimmed
    assert found("  alpha  ") == ids([alpha])
    # the id matches only for patterns of 8+ chars
    gid = gamma["id"].id
    assert found(gid[-8:]) == ids([gamma])
    assert found(gid) == ids([gamma])
    assert found(gid[-7:]) == set()
    # search combines with limit and read_count stays the filter's count
    assert len(db.read_all("site", search="site", limit=1)) == 1
    assert db.read_count("site") == 3


# ------------------------------------------------------------------------------------------------
# BasicTest.testTrash
# ------------------------------------------------------------------------------------------------


def test_trash(db: hx.Folio) -> None:
    a = add_rec(db, {"num": n(1), "a": n(1)})
    b = add_rec(db, {"num": n(2), "b": n(2)})
    c = add_rec(db, {"num": n(3), "c": n(3)})
    d = add_rec(db, {"num": n(4), "d": n(4), "trash": M})
    a_id, b_id, c_id, d_id = (r["id"] for r in (a, b, c, d))

    # queries filter out trash
    assert ids(db.read_all("num")) == ids([a, b, c])
    assert db.read_count("num") == 3
    assert ids(db.read_all("num >= 3")) == ids([c])

    verify_read_by_id(db, a_id, a)
    verify_read_by_id(db, b_id, b)
    verify_read_by_id(db, c_id, c)
    verify_read_by_id(db, d_id, None)

    # a trash record is reachable by read_trash, never by read_all, even by its id
    assert rec_state(db.read_trash(hx.Filter.eq("id", d_id))[0]) == rec_state(d)
    assert db.read_all(hx.Filter.eq("id", d_id)) == []
    assert db.read_count(hx.Filter.eq("id", d_id)) == 0
    assert db.read(hx.Filter.eq("id", d_id), False) is None

    # read_by_id_trash reads live and trash records
    for rec in (a, b, c, d):
        assert rec_state(db.read_by_id_trash(rec["id"])) == rec_state(rec)
    assert db.read_by_id_trash(hx.Ref.gen(), False) is None
    raises_exactly(hx.UnknownRecError, lambda: db.read_by_id_trash(hx.Ref.gen()))
    raises_exactly(hx.UnknownRecError, lambda: db.read_by_id_trash(hx.Ref.gen(), True))

    # read_trash reads only the trash
    assert ids(db.read_trash("num")) == {d_id.id}
    assert ids(db.read_trash("num and trash")) == {d_id.id}
    assert ids(db.read_trash("num >= 3")) == {d_id.id}
    assert db.read_trash("num <= 3") == []

    # trash b and c, untrash d (commits may target trash records)
    db.commit_all(
        [
            hx.Diff(b, {"trash": M}),
            hx.Diff(c, {"trash": M}),
            hx.Diff(d, {"trash": hx.REMOVE}),
        ]
    )
    d = db.read_by_id(d_id)
    verify_read_by_id(db, a_id, a)
    verify_read_by_id(db, b_id, None)
    verify_read_by_id(db, c_id, None)
    verify_read_by_id(db, d_id, d)
    for rec_id in (a_id, b_id, c_id, d_id):
        assert db.read_by_id_trash(rec_id)["id"] == rec_id

    assert ids(db.read_all("num")) == {a_id.id, d_id.id}
    assert ids(db.read_all("num >= 3")) == {d_id.id}
    assert ids(db.read_trash(hx.Filter.has("trash"))) == {b_id.id, c_id.id}
    assert db.read_count("num") == 2

    # empty the trash: remove with force, as commitRemoveTrash does
    trash = db.read_trash("trash")
    db.commit_all([hx.Diff(r, None, hx.Diff.REMOVE | hx.Diff.FORCE) for r in trash])
    assert ids(db.read_all("num")) == {a_id.id, d_id.id}
    assert db.read_trash("num") == []
    assert db.read_by_id_trash(b_id, False) is None


# ------------------------------------------------------------------------------------------------
# BasicTest.testKinds
# ------------------------------------------------------------------------------------------------

NY = hx.tz("New_York")

KINDS = [
    M,
    True,
    False,
    n(123, "ft"),
    n(-4.5),
    "string",
    hx.Ref("abc-123"),
    hx.Uri("uri"),
    dt.date(2024, 2, 29),
    dt.time(13, 45, 1),
    dt.datetime(2024, 3, 10, 12, 30, 15, tzinfo=NY),
    dt.datetime.now(hx.tz("UTC")).replace(microsecond=0),
    [n(1), "foo"],
    {"a": n(1), "bar": "foo"},
    Grid({"x": M}, ["y"], [{"y": n(123)}]),
    hx.Symbol("foo"),
    hx.Span(dt.datetime(2024, 1, 1, tzinfo=NY), dt.datetime(2024, 1, 2, tzinfo=NY)),
    [hx.Span(dt.datetime(2024, 1, 1, tzinfo=NY), dt.datetime(2024, 1, 2, tzinfo=NY))],
    hx.XStr("Foo", "bar"),
    hx.XStr("Bin", "text/plain"),
    hx.Coord(37.5458266, -77.4491888),
]


def _kind_id(val: object) -> str:
    return type(val).__name__


@pytest.mark.parametrize("val", KINDS, ids=_kind_id)
def test_kinds(db: hx.Folio, val: object) -> None:
    name = "siteRef" if isinstance(val, hx.Ref) else "foo"
    rec = add_rec(db, {name: val})
    assert db.read_by_id(rec["id"])[name] == val
    commit(db, rec, {name + "2": val})
    assert db.read_by_id(rec["id"])[name + "2"] == val


@pytest.mark.parametrize(
    "val",
    [hx.NA, object(), b"bad", {1, 2}, (1, 2), 1 + 2j, None, dt.datetime(2024, 1, 1)],
    ids=lambda v: type(v).__name__,
)
def test_kind_errors(db: hx.Folio, val: object) -> None:
    raises_exactly(hx.InvalidTagValueError, lambda: add_rec(db, {"foo": val}))
    rec = add_rec(db, {"dis": "safe"})
    ver = db.cur_ver
    raises_exactly(hx.InvalidTagValueError, lambda: commit(db, rec, {"bar": val}))
    assert db.cur_ver == ver
    assert db.read_count("foo or bar") == 0


def test_python_numbers_become_numbers(db: hx.Folio) -> None:
    rec = add_rec(db, {"i": 3, "f": 2.5, "b": True})
    assert rec["i"] == n(3)
    assert rec["f"] == n(2.5)
    assert rec["b"] is True
    assert db.read("i == 3 and f == 2.5 and b == true")["id"] == rec["id"]


# ------------------------------------------------------------------------------------------------
# commit results, ids, mods, versions
# ------------------------------------------------------------------------------------------------


def test_result_diff(db: hx.Folio) -> None:
    add = hx.Diff.make_add({"dis": "Alpha", "site": M}, hx.Ref("alpha"))
    res = db.commit(add)
    assert res is not add
    assert res.id == hx.Ref("alpha")
    assert res.id.dis == "Alpha"
    assert res.old_rec is None
    assert res.old_mod is None
    assert res.new_mod == res.new_rec["mod"]
    assert res.changes == {"dis": "Alpha", "site": M}
    assert res.flags == add.flags
    assert res.is_add
    assert rec_state(res.new_rec) == rec_state(db.read_by_id("alpha"))

    rec = res.new_rec
    upd = hx.Diff(rec, {"dis": "Alpha 2", "x": n(1)})
    res2 = db.commit(upd)
    assert res2.id.dis == "Alpha 2"
    assert res2.old_mod == rec["mod"]
    assert res2.old_rec["dis"] == "Alpha"
    assert res2.new_mod > rec["mod"]
    assert res2.new_rec["mod"] == res2.new_mod
    assert rec_state(res2.new_rec) == rec_state(db.read_by_id("alpha"))
    assert res2.get_old("dis") == "Alpha"
    assert res2.get_new("dis") == "Alpha 2"

    rem = db.commit(hx.Diff(res2.new_rec, None, hx.Diff.REMOVE))
    assert rem.new_rec is None
    assert rem.old_rec["dis"] == "Alpha 2"
    assert rem.id == hx.Ref("alpha")


def test_add_ids(db: hx.Folio) -> None:
    gen = add_rec(db, {"dis": "gen"})
    assert isinstance(gen["id"], hx.Ref)
    assert len(gen["id"].id) == 17
    given = add_rec(db, {"dis": "given"}, hx.Ref("my.id-1~x_y"))
    assert given["id"] == hx.Ref("my.id-1~x_y")
    assert db.read_by_id(hx.Ref("my.id-1~x_y"))["dis"] == "given"
    # a duplicate add is a CommitError (exactly), not a ConcurrentChangeError
    ver = db.cur_ver
    raises_exactly(
        hx.CommitError,
        lambda: add_rec(db, {"dis": "again"}, hx.Ref("my.id-1~x_y")),
        match="already exists",
    )
    assert db.cur_ver == ver
    assert db.read_by_id("my.id-1~x_y")["dis"] == "given"
    # duplicate add of a trash record too
    trash = add_rec(db, {"dis": "t", "trash": M})
    raises_exactly(hx.CommitError, lambda: add_rec(db, {"dis": "t2"}, trash["id"]))
    # bad add ids
    for bad in ("u:c", "foo:c", "A.b", "x" * 61):
        raises_exactly(hx.InvalidRecIdError, lambda bad=bad: add_rec(db, {"dis": "x"}, hx.Ref(bad)))
    add_rec(db, {"dis": "60"}, hx.Ref("x" * 60))


def test_mods_are_utc_unique_and_increasing(db: hx.Folio) -> None:
    rec = add_rec(db, {"dis": "m", "i": n(0)})
    mods = [rec["mod"]]
    for i in range(1, 60):
        rec = commit(db, rec, {"i": n(i)})
        mods.append(rec["mod"])
    others = [add_rec(db, {"k": n(i)})["mod"] for i in range(20)]
    batch = db.commit_all([hx.Diff.make_add({"b": n(i)}) for i in range(5)])
    batch_mods = {d.new_mod for d in batch}
    assert len(batch_mods) == 1  # one commit, one mod
    every = mods + others + [next(iter(batch_mods))]
    assert all(x < y for x, y in itertools.pairwise(every))
    for mod in every:
        assert mod.utcoffset() == dt.timedelta(0)
        assert hx.tz_name(mod) == "UTC"


def test_cur_ver(db: hx.Folio) -> None:
    v0 = db.cur_ver
    a = add_rec(db, {"dis": "a"})
    v1 = db.cur_ver
    assert v1 > v0
    db.commit_all([hx.Diff.make_add({"dis": "b"}), hx.Diff.make_add({"dis": "c"})])
    v2 = db.cur_ver
    assert v2 > v1
    # reads, transient commits and failed commits leave it alone
    db.read_all("dis")
    db.read_by_id(a["id"])
    db.commit(hx.Diff(a, {"curVal": n(1)}, hx.Diff.TRANSIENT))
    raises_exactly(hx.CommitError, lambda: add_rec(db, {"dis": "dup"}, a["id"]))
    raises_exactly(hx.DiffError, lambda: db.commit_all([]))
    assert db.cur_ver == v2
    # and Redis holds the same version
    assert stored_version(db) == v2


def test_commit_rejects_non_diffs(db: hx.Folio) -> None:
    with pytest.raises(TypeError):
        db.commit({"dis": "x"})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        db.commit_all([hx.Diff.make_add({"dis": "x"}), "nope"])  # type: ignore[list-item]
    assert db.read_count("dis") == 0


def test_batch_all_or_nothing(db: hx.Folio) -> None:
    """One stale diff in a batch: ConcurrentChangeError, the fresh diffs are not applied,
    neither in the cache nor in Redis."""
    a = add_rec(db, {"dis": "a", "v": n(1)})
    b = add_rec(db, {"dis": "b", "v": n(1)})
    stale_b = b
    b = commit(db, b, {"v": n(2)})
    ver = db.cur_ver
    before = {r["id"].id: stored_trio(db, r["id"].id) for r in (a, b)}
    raises_exactly(
        hx.ConcurrentChangeError,
        lambda: db.commit_all(
            [
                hx.Diff(a, {"v": n(10)}),
                hx.Diff.make_add({"dis": "new"}),
                hx.Diff(stale_b, {"v": n(10)}),
            ]
        ),
    )
    assert db.cur_ver == ver
    assert db.read_by_id(a["id"])["v"] == n(1)
    assert db.read_by_id(b["id"])["v"] == n(2)
    assert db.read_count('dis == "new"') == 0
    assert {r["id"].id: stored_trio(db, r["id"].id) for r in (a, b)} == before
    assert stored_version(db) == ver


def test_records_are_read_only(db: hx.Folio) -> None:
    rec = add_rec(db, {"dis": "r", "list": ["a", ["b"]], "dict": {"x": n(1), "l": [n(2)]}})
    for read in (
        rec,
        db.read_by_id(rec["id"]),
        db.read("dis"),
        db.read_all("dis")[0],
        db.read_by_ids([rec["id"]])[0],
    ):
        assert isinstance(read, hx.Rec)
        assert isinstance(read, Mapping)
        with pytest.raises(TypeError):
            read["dis"] = "hacked"  # type: ignore[index]
        with pytest.raises(TypeError):
            del read["dis"]  # type: ignore[attr-defined]
        with pytest.raises(TypeError):
            read.update(dis="x")  # type: ignore[attr-defined]
        with pytest.raises(TypeError):
            read.pop("dis")  # type: ignore[attr-defined]
        with pytest.raises(TypeError):
            read.clear()  # type: ignore[attr-defined]
        with pytest.raises(TypeError):
            read["list"].append("c")
        with pytest.raises(TypeError):
            read["list"][1].append("c")
        with pytest.raises(TypeError):
            read["list"][0] = "z"
        with pytest.raises(TypeError):
            read["dict"]["y"] = n(2)
        with pytest.raises(TypeError):
            read["dict"]["l"].append(n(3))
    fresh = db.read_by_id(rec["id"])
    assert fresh["dis"] == "r"
    assert fresh["list"] == ["a", ["b"]]
    assert fresh["dict"] == {"x": n(1), "l": [n(2)]}
    # dict(rec) is an ordinary, mutable copy that does not touch the cache
    copy = dict(fresh)
    copy["dis"] = "changed"
    assert db.read_by_id(rec["id"])["dis"] == "r"
    # changing the caller's changes after the commit does not leak into the cache
    changes = {"dis": "c", "items": ["x"]}
    c = add_rec(db, changes)
    changes["items"].append("y")
    changes["dis"] = "d"
    assert db.read_by_id(c["id"])["items"] == ["x"]
    assert db.read_by_id(c["id"])["dis"] == "c"


def test_rec_dis_property(db: hx.Folio) -> None:
    assert add_rec(db, {"dis": "Dis"}).dis == "Dis"
    assert add_rec(db, {"name": "nm"}).dis == "nm"
    anon = add_rec(db, {"foo": M})
    assert anon.dis == anon["id"].id


# ------------------------------------------------------------------------------------------------
# removes delete history keys; the Redis side of commits
# ------------------------------------------------------------------------------------------------


def test_remove_deletes_history_keys(db: hx.Folio) -> None:
    keys = keys_of(db)
    pt = add_rec(db, {"dis": "pt", "point": M, "his": M, "kind": "Number", "tz": "New_York"})
    other = add_rec(db, {"dis": "other", "point": M, "his": M, "kind": "Number", "tz": "UTC"})
    his_key = keys.his(pt["id"].id)
    other_key = keys.his(other["id"].id)
    db.client.zadd(his_key, {"1000:1": 1000})
    db.client.zadd(other_key, {"1000:1": 1000})
    remove_rec(db, pt)
    assert db.client.exists(his_key) == 0
    assert db.client.exists(other_key) == 1
    # the id can be used again by a new record, which starts without history
    again = add_rec(db, {"dis": "again"}, pt["id"])
    assert again["id"] == pt["id"]
    assert db.client.exists(his_key) == 0


def test_redis_side_of_commits(db: hx.Folio) -> None:
    """A persistent commit stores Trio text, maintains the tag index sets, increments the
    version and appends one change stream entry."""
    keys = keys_of(db)
    xlen = db.client.xlen(keys.changes)
    a = add_rec(db, {"dis": "A", "site": M, "area": n(10, "ft²")})
    rid = a["id"].id
    assert db.client.sismember(keys.tag("site"), rid)
    assert db.client.sismember(keys.tag("dis"), rid)
    assert hx.trio.loads(stored_trio(db, rid))[0]["area"] == n(10, "ft²")
    assert db.client.xlen(keys.changes) == xlen + 1
    ver = stored_version(db)

    a = commit(db, a, {"site": hx.REMOVE, "equip": M})
    assert not db.client.sismember(keys.tag("site"), rid)
    assert db.client.sismember(keys.tag("equip"), rid)
    assert stored_version(db) == ver + 1
    assert db.client.xlen(keys.changes) == xlen + 2
    last = db.client.xrevrange(keys.changes, count=1)[0][1]
    assert rid in last[b"ids"].decode().split()

    remove_rec(db, a)
    assert stored_trio(db, rid) is None
    assert not db.client.sismember(keys.tag("equip"), rid)
    assert not db.client.sismember(keys.tag("dis"), rid)


def test_transient_tags_never_reach_redis(db: hx.Folio) -> None:
    keys = keys_of(db)
    a = add_rec(db, {"dis": "pt", "point": M})
    ver, xlen = stored_version(db), db.client.xlen(keys.changes)
    text = stored_trio(db, a["id"].id)
    res = db.commit(hx.Diff(a, {"curVal": n(42), "curStatus": "ok", "tx": "t"}, hx.Diff.TRANSIENT))
    assert res.new_mod == a["mod"]
    assert res.new_rec["curVal"] == n(42)
    assert db.read("curVal == 42")["id"] == a["id"]
    assert stored_trio(db, a["id"].id) == text
    assert stored_version(db) == ver
    assert db.client.xlen(keys.changes) == xlen
    assert not db.client.exists(keys.tag("curVal"))
    # a later persistent commit keeps the transient tags in memory, out of Redis
    a = commit(db, db.read_by_id(a["id"]), {"dis": "pt2"})
    assert a["curVal"] == n(42)
    stored = hx.trio.loads(stored_trio(db, a["id"].id))[0]
    assert "curVal" not in stored and "tx" not in stored and "curStatus" not in stored
    assert stored["dis"] == "pt2"


# ------------------------------------------------------------------------------------------------
# transient commits (folio.md 1.3, 2.5)
# ------------------------------------------------------------------------------------------------


def test_transient_commits(db: hx.Folio) -> None:
    a = add_rec(db, {"dis": "A", "foo": "p"})
    ver = db.cur_ver
    # the old record read before a transient commit can still be used: mod is unchanged
    t1 = db.commit(hx.Diff(a, {"curVal": n(1)}, hx.Diff.TRANSIENT))
    assert t1.new_mod == a["mod"] == t1.new_rec["mod"]
    t2 = db.commit(hx.Diff(a, {"curVal": n(2), "bar": "t"}, hx.Diff.TRANSIENT))
    assert t2.new_rec["curVal"] == n(2)
    a2 = commit(db, a, {"foo": "p2"})
    assert a2["curVal"] == n(2)
    assert a2["bar"] == "t"
    assert db.cur_ver > ver
    # the transient mod check: a stale record fails
    raises_exactly(
        hx.ConcurrentChangeError,
        lambda: db.commit(hx.Diff(a, {"curVal": n(3)}, hx.Diff.TRANSIENT)),
    )
    db.commit(hx.Diff(a, {"curVal": n(3)}, hx.Diff.FORCE_TRANSIENT))
    assert db.read_by_id(a["id"])["curVal"] == n(3)
    # remove a transient tag
    db.commit(hx.Diff(a2, {"bar": hx.REMOVE}, hx.Diff.TRANSIENT))
    assert "bar" not in db.read_by_id(a["id"])
    assert db.read_all("bar") == []
    # tag overlap between persistent and transient tags is a CommitError (exactly)
    a2 = db.read_by_id(a["id"])
    raises_exactly(
        hx.CommitError,
        lambda: db.commit(hx.Diff(a2, {"foo": "t"}, hx.Diff.TRANSIENT)),
        match="persistent tag transiently",
    )
    db.commit(hx.Diff(a2, {"tx": "t"}, hx.Diff.TRANSIENT))
    raises_exactly(
        hx.CommitError,
        lambda: db.commit(hx.Diff(a2, {"tx": "p"})),
        match="transient tag persistently",
    )
    raises_exactly(
        hx.CommitError,
        lambda: db.commit(hx.Diff(a2, {"tx": hx.REMOVE})),
        match="transient tag persistently",
    )
    assert db.read_by_id(a["id"])["foo"] == "p2"
    assert db.read_by_id(a["id"])["tx"] == "t"
    # a transient commit to a missing record
    gone = add_rec(db, {"dis": "gone"})
    remove_rec(db, gone)
    raises_exactly(
        hx.CommitError,
        lambda: db.commit(hx.Diff(gone, {"curVal": n(1)}, hx.Diff.TRANSIENT)),
        match="not found",
    )
    # removing a record drops its transient tags; the id reused starts clean
    b = add_rec(db, {"dis": "b"}, hx.Ref("b-reuse"))
    db.commit(hx.Diff(b, {"curVal": n(9)}, hx.Diff.TRANSIENT))
    remove_rec(db, b)
    b = add_rec(db, {"dis": "b2"}, hx.Ref("b-reuse"))
    assert "curVal" not in b
    assert "curVal" not in db.read_by_id("b-reuse")


# ------------------------------------------------------------------------------------------------
# BasicTest.testHooks
# ------------------------------------------------------------------------------------------------


class RecordingHooks:
    def __init__(self) -> None:
        self.pres: list[hx.CommitEvent] = []
        self.posts: list[hx.CommitEvent] = []

    def pre_commit(self, event: hx.CommitEvent) -> None:
        self.pres.append(event)
        if "throw" in event.diff.changes:
            raise OSError("hook says no")

    def post_commit(self, event: hx.CommitEvent) -> None:
        self.posts.append(event)


def test_hooks(db: hx.Folio) -> None:
    hooks = RecordingHooks()
    db.hooks = hooks
    assert db.hooks is hooks
    with pytest.raises(Exception, match="more than once"):
        db.hooks = RecordingHooks()
    assert db.hooks is hooks

    def verify(pres: list[hx.Diff], posts: list[hx.Diff]) -> None:
        assert len(hooks.pres) == len(pres)
        assert all(e.diff is d for e, d in zip(hooks.pres, pres, strict=True))
        assert len(hooks.posts) == len(posts)
        assert all(e.diff is d for e, d in zip(hooks.posts, posts, strict=True))

    a_pre = hx.Diff.make_add({"dis": "a"})
    b_pre = hx.Diff.make_add({"dis": "b"})
    a_post, b_post = db.commit_all([a_pre, b_pre])
    verify([a_pre, b_pre], [a_post, b_post])
    assert hooks.pres[0].old_rec is None
    assert hooks.posts[0].old_rec is None

    c_pre = hx.Diff(a_post.new_rec, {"change": "!"})
    c_post = db.commit(c_pre)
    verify([a_pre, b_pre, c_pre], [a_post, b_post, c_post])
    assert hooks.pres[-1].old_rec["dis"] == "a"
    assert "change" not in hooks.pres[-1].old_rec

    d_pre = hx.Diff(b_post.new_rec, None, hx.Diff.REMOVE)
    d_post = db.commit(d_pre)
    verify([a_pre, b_pre, c_pre, d_pre], [a_post, b_post, c_post, d_post])

    e_pre = hx.Diff(c_post.new_rec, {"another": "!"}, hx.Diff.TRANSIENT)
    e_post = db.commit(e_pre)
    verify([a_pre, b_pre, c_pre, d_pre, e_pre], [a_post, b_post, c_post, d_post, e_post])

    # an exception in pre_commit reaches the caller unchanged; nothing is applied
    ver = db.cur_ver
    x_pre = hx.Diff.make_add({"dis": "x"})
    y_pre = hx.Diff.make_add({"dis": "y", "throw": M})
    raises_exactly(OSError, lambda: db.commit_all([x_pre, y_pre]))
    verify(
        [a_pre, b_pre, c_pre, d_pre, e_pre, x_pre, y_pre],
        [a_post, b_post, c_post, d_post, e_post],
    )
    assert db.read_count('dis=="x"') == 0
    assert db.read_count('dis=="y"') == 0
    assert db.cur_ver == ver
    assert stored_trio(db, x_pre.id.id) is None

    # a failed commit calls pre_commit for nothing after the failure and no post_commit
    hooks.pres.clear()
    hooks.posts.clear()
    raises_exactly(hx.CommitError, lambda: db.commit(hx.Diff.make_add({"dis": "dup"}, a_post.id)))
    assert hooks.posts == []


def test_hooks_given_to_open(open_db) -> None:
    hooks = RecordingHooks()
    db = open_db(hooks=hooks)
    assert db.hooks is hooks
    db.commit(hx.Diff.make_add({"dis": "a"}))
    assert len(hooks.pres) == len(hooks.posts) == 1
    with pytest.raises(Exception, match="more than once"):
        db.hooks = RecordingHooks()


def test_partial_hooks_object(db: hx.Folio) -> None:
    """A hooks object may define only some of the methods."""

    class OnlyPost:
        def __init__(self) -> None:
            self.count = 0

        def post_commit(self, event: hx.CommitEvent) -> None:
            self.count += 1

    hooks = OnlyPost()
    db.hooks = hooks
    add_rec(db, {"dis": "a"})
    assert hooks.count == 1


def test_generated_ids_do_not_depend_on_random_seed(db: hx.Folio) -> None:
    state = random.getstate()
    try:
        random.seed(42)
        first = add_rec(db, {"dis": "first"})
        random.seed(42)
        second = add_rec(db, {"dis": "second"})
    finally:
        random.setstate(state)
    assert first["id"] != second["id"]


def test_pre_commit_sees_the_old_cache(db: hx.Folio) -> None:
    """Nothing reaches the cache before Redis confirmed: a pre_commit hook still reads the old
    record, a post_commit hook the new one."""
    seen: dict[str, object] = {}

    class Hooks:
        def pre_commit(self, event: hx.CommitEvent) -> None:
            seen["pre"] = db.read_by_id(event.diff.id, False)

        def post_commit(self, event: hx.CommitEvent) -> None:
            seen["post"] = db.read_by_id(event.diff.id, False)

    rec = add_rec(db, {"dis": "a", "v": n(1)})
    db.hooks = Hooks()
    commit(db, rec, {"v": n(2)})
    assert seen["pre"]["v"] == n(1)
    assert seen["post"]["v"] == n(2)
    added = db.commit(hx.Diff.make_add({"dis": "b"}))
    assert seen["pre"] is None
    assert seen["post"]["id"] == added.id


def test_large_batches(db: hx.Folio) -> None:
    """Batches up to Folio.MAX_BATCH stay all or nothing."""
    size = hx.Folio.MAX_BATCH
    results = db.commit_all(
        [hx.Diff.make_add({"i": n(i), f"tag{i % 500}": M}) for i in range(size)]
    )
    assert len(results) == size
    assert db.read_count("i") == size
    assert db.read_count("tag7") == size // 500
    recs = [r.new_rec for r in results]
    stale = recs[1_234]
    commit(db, stale, {"i": n(-1)})
    ver = db.cur_ver
    batch = [hx.Diff(r, {"j": M}) for r in recs]
    raises_exactly(hx.ConcurrentChangeError, lambda: db.commit_all(batch))
    assert db.cur_ver == ver
    assert db.read_count("j") == 0
    assert stored_version(db) == ver


def test_a_batch_over_the_limit_is_refused_whole(db: hx.Folio) -> None:
    """One batch is one atomic script that blocks Redis: past MAX_BATCH it is refused with a
    message that says what to do, and nothing is written."""
    ver = stored_version(db)
    batch = [hx.Diff.make_add({"i": n(i)}) for i in range(hx.Folio.MAX_BATCH + 1)]
    with pytest.raises(hx.DiffError, match=r"10001 diffs exceeds the limit of 10000.*several"):
        db.commit_all(batch)
    assert db.read_count("i") == 0
    assert stored_version(db) == ver
