"""Diff validation and tag rules as a Folio commit sees them (folio.md sections 1.3 and 2,
Haxall FolioUtilTest.testDiffChecks): every rejected commit raises the exact documented error
and leaves the cache, Redis and the version untouched."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from helpers.folio_util import add_rec, commit, raises_exactly, stored_trio, stored_version

import hxredis as hx

M = hx.MARKER
T = hx.Diff.TRANSIENT


def n(val: float, unit: str | None = None) -> hx.Number:
    return hx.Number(val, unit)


@pytest.fixture
def rec(db: hx.Folio) -> hx.Rec:
    return add_rec(db, {"dis": "Rec", "point": M, "foo": "p"})


def rejected(db: hx.Folio, exc_type: type[Exception], fn: Callable[[], Any], match=None) -> None:
    """``fn`` raises exactly ``exc_type`` and changes nothing anywhere."""
    ver = db.cur_ver
    recs = {r["id"].id: dict(r) for r in db.read_all("id")}
    texts = {rid: stored_trio(db, rid) for rid in recs}
    raises_exactly(exc_type, fn, match)
    assert db.cur_ver == ver
    assert stored_version(db) == ver
    assert {r["id"].id: dict(r) for r in db.read_all("id")} == recs
    assert {rid: stored_trio(db, rid) for rid in recs} == texts


# ------------------------------------------------------------------------------------------------
# batches (FolioUtil.checkDiffs)
# ------------------------------------------------------------------------------------------------


def test_empty_batch(db: hx.Folio) -> None:
    rejected(db, hx.DiffError, lambda: db.commit_all([]), "No diffs")


def test_duplicate_ids_in_batch(db: hx.Folio, rec: hx.Rec) -> None:
    rejected(
        db,
        hx.DiffError,
        lambda: db.commit_all([hx.Diff(rec, {"x": "1"}), hx.Diff(rec, {"y": "2"})]),
        "Duplicate",
    )
    # Ref equality is by id only: a Ref with a dis is the same id
    other = {"id": hx.Ref(rec["id"].id, "Other dis"), "mod": rec["mod"]}
    rejected(
        db,
        hx.DiffError,
        lambda: db.commit_all([hx.Diff(rec, {"x": "1"}), hx.Diff(other, {"y": "2"})]),
    )


def test_mixed_transient_and_persistent(db: hx.Folio, rec: hx.Rec) -> None:
    other = add_rec(db, {"dis": "Other"})
    rejected(
        db,
        hx.DiffError,
        lambda: db.commit_all([hx.Diff(rec, {"x": "1"}), hx.Diff(other, {"y": "2"}, T)]),
        "mix",
    )


def test_validation_runs_before_existence_and_mod_checks(db: hx.Folio, rec: hx.Rec) -> None:
    stale = rec
    commit(db, rec, {"foo": "p2"})
    # a duplicate batch of stale diffs is a DiffError, not a ConcurrentChangeError
    rejected(
        db, hx.DiffError, lambda: db.commit_all([hx.Diff(stale, {"a": "1"}), hx.Diff(stale, {})])
    )


def test_not_found_is_checked_before_mod(db: hx.Folio) -> None:
    gone = add_rec(db, {"dis": "gone"})
    db.commit(hx.Diff(gone, None, hx.Diff.REMOVE))
    rejected(db, hx.CommitError, lambda: commit(db, gone, {"x": "1"}), "not found")
    rejected(db, hx.CommitError, lambda: db.commit(hx.Diff(gone, None, hx.Diff.REMOVE)))
    rejected(db, hx.CommitError, lambda: commit(db, gone, {"curVal": n(1)}, T), "not found")
    fake = {"id": hx.Ref("never-existed"), "mod": gone["mod"]}
    rejected(db, hx.CommitError, lambda: commit(db, fake, {"x": "1"}, hx.Diff.FORCE))


def test_mod_is_checked_before_tag_overlap(db: hx.Folio, rec: hx.Rec) -> None:
    stale = rec
    commit(db, rec, {"foo": "p2"})
    rejected(db, hx.ConcurrentChangeError, lambda: commit(db, stale, {"foo": "t"}, T))


def test_stale_remove_is_concurrent_change(db: hx.Folio, rec: hx.Rec) -> None:
    stale = rec
    commit(db, rec, {"foo": "p2"})
    rejected(db, hx.ConcurrentChangeError, lambda: db.commit(hx.Diff(stale, None, hx.Diff.REMOVE)))
    db.commit(hx.Diff(stale, None, hx.Diff.REMOVE | hx.Diff.FORCE))
    assert db.read_by_id(rec["id"], False) is None


def test_shutdown_is_checked_first(open_db, rec: hx.Rec) -> None:
    db = open_db()
    db.close()
    raises_exactly(hx.ShutdownError, lambda: db.commit_all([]))
    raises_exactly(hx.ShutdownError, lambda: db.commit_all([hx.Diff(rec, {}), hx.Diff(rec, {})]))


# ------------------------------------------------------------------------------------------------
# Diff construction errors (raised when the Diff is built, before any commit)
# ------------------------------------------------------------------------------------------------


def test_flag_combinations(db: hx.Folio, rec: hx.Rec) -> None:
    rejected(db, hx.DiffError, lambda: db.commit(hx.Diff(None, {"foo": "bar"}, hx.Diff.ADD | T)))
    rejected(db, hx.DiffError, lambda: db.commit(hx.Diff(rec, {"foo": "b"}, hx.Diff.REMOVE | T)))
    rejected(db, hx.DiffError, lambda: db.commit(hx.Diff(None, {"foo": "bar"})))
    rejected(db, hx.DiffError, lambda: db.commit(hx.Diff(rec, {"foo": "bar"}, hx.Diff.ADD)))
    rejected(db, hx.DiffError, lambda: db.commit(hx.Diff(None, {"id": hx.Ref("x")}, hx.Diff.ADD)))
    rejected(db, hx.DiffError, lambda: db.commit(hx.Diff.make_add({"id": hx.Ref("x")})))


def test_add_with_diff_constructor(db: hx.Folio) -> None:
    res = db.commit(hx.Diff(None, {"dis": "via ctor"}, hx.Diff.ADD))
    assert res.is_add
    assert db.read_by_id(res.id)["dis"] == "via ctor"


@pytest.mark.parametrize(
    "tag", ["id", "mod", "transient", "hisId", "hisSize", "hisStart", "hisEnd", "hisEndVal"]
)
def test_never_tags(db: hx.Folio, rec: hx.Rec, tag: str) -> None:
    val: Any = hx.Ref.gen() if tag in ("id", "hisId") else n(3) if tag == "hisSize" else M
    for flags in (0, T):
        rejected(db, hx.DiffError, lambda flags=flags: commit(db, rec, {tag: val}, flags))
        rejected(db, hx.DiffError, lambda flags=flags: commit(db, rec, {tag: hx.REMOVE}, flags))
    if tag != "id":
        rejected(db, hx.DiffError, lambda: add_rec(db, {tag: val}))


@pytest.mark.parametrize("tag", ["projMeta", "uiMeta", "ext", "fileSize"])
def test_restricted_tags(db: hx.Folio, rec: hx.Rec, tag: str) -> None:
    rejected(db, hx.DiffError, lambda: add_rec(db, {tag: "x"}), "restricted")
    rejected(db, hx.DiffError, lambda: commit(db, rec, {tag: "x"}), "restricted")
    rejected(db, hx.DiffError, lambda: commit(db, rec, {tag: hx.REMOVE}), "restricted")
    rejected(db, hx.DiffError, lambda: commit(db, rec, {tag: "x"}, T))
    # with BYPASS_RESTRICTED they commit and persist
    new = commit(db, rec, {tag: "x"}, hx.Diff.BYPASS_RESTRICTED)
    assert new[tag] == "x"
    assert hx.trio.loads(stored_trio(db, rec["id"].id))[0][tag] == "x"
    new = commit(db, new, {tag: hx.REMOVE}, hx.Diff.BYPASS_RESTRICTED)
    assert tag not in new
    added = db.commit(hx.Diff(None, {tag: "y"}, hx.Diff.ADD | hx.Diff.BYPASS_RESTRICTED))
    assert db.read_by_id(added.id)[tag] == "y"


@pytest.mark.parametrize(
    "tag", ["conn", "dis", "disMacro", "equip", "navName", "point", "site", "trash"]
)
def test_persistent_only_tags(db: hx.Folio, rec: hx.Rec, tag: str) -> None:
    val = "x" if tag in ("dis", "disMacro", "navName") else M
    rejected(db, hx.DiffError, lambda: commit(db, rec, {tag: val}, T), "transiently")
    rejected(db, hx.DiffError, lambda: commit(db, rec, {tag: hx.REMOVE}, T))
    assert commit(db, db.read_by_id_trash(rec["id"]), {tag: val})[tag] == val


@pytest.mark.parametrize(
    "tag",
    [
        "connState",
        "connStatus",
        "connErr",
        "curVal",
        "curStatus",
        "curErr",
        "curSource",
        "writeVal",
        "writeLevel",
        "writeStatus",
        "writeErr",
        "nextTime",
        "nextVal",
        "hisStatus",
        "hisErr",
        "userFailedLogins",
    ],
)
def test_transient_only_tags(db: hx.Folio, rec: hx.Rec, tag: str) -> None:
    rejected(db, hx.DiffError, lambda: commit(db, rec, {tag: "x"}), "persistently")
    rejected(db, hx.DiffError, lambda: commit(db, rec, {tag: hx.REMOVE}), "persistently")
    rejected(db, hx.DiffError, lambda: add_rec(db, {tag: "x"}), "persistently")
    assert commit(db, rec, {tag: "x"}, T)[tag] == "x"
    assert tag not in hx.trio.loads(stored_trio(db, rec["id"].id))[0]


def test_bin_cannot_be_transient(db: hx.Folio, rec: hx.Rec) -> None:
    rejected(db, hx.DiffError, lambda: commit(db, rec, {"foobar": hx.XStr("Bin", "text/plain")}, T))
    assert commit(db, rec, {"foobar": hx.XStr("Bin", "text/plain")})["foobar"] == hx.XStr(
        "Bin", "text/plain"
    )


def test_tag_names(db: hx.Folio, rec: hx.Rec) -> None:
    for bad in ["", "a b", "x\u00ffy", "Foo", "1abc", "x" * 61, "a-b", "_"]:
        rejected(db, hx.InvalidTagNameError, lambda bad=bad: commit(db, rec, {bad: M}))
        rejected(db, hx.InvalidTagNameError, lambda bad=bad: add_rec(db, {bad: M}))
    assert commit(db, rec, {"x" * 60: M})["x" * 60] is M


def test_tag_value_limits(db: hx.Folio, rec: hx.Rec) -> None:
    s32k = "\u00ff" * 0x7FFF
    rejected(db, hx.InvalidTagValueError, lambda: commit(db, rec, {"foo": s32k + "x"}))
    rejected(db, hx.InvalidTagValueError, lambda: commit(db, rec, {"u": hx.Uri("x" * 1001)}))
    rejected(db, hx.InvalidTagValueError, lambda: commit(db, rec, {"name": hx.Uri("foo")}))
    rejected(db, hx.InvalidTagValueError, lambda: commit(db, rec, {"name": "bad tag"}))
    rejected(db, hx.InvalidTagValueError, lambda: commit(db, rec, {"l": [n(1), None]}))
    rejected(db, hx.InvalidTagValueError, lambda: commit(db, rec, {"l": [hx.NA]}))
    rejected(db, hx.InvalidTagValueError, lambda: commit(db, rec, {"d": {"x": object()}}))
    new = commit(db, rec, {"foo": s32k, "u": hx.Uri("x" * 1000), "name": "good_name-1"})
    assert new["foo"] == s32k
    assert new["u"] == hx.Uri("x" * 1000)
    assert new["name"] == "good_name-1"
    assert hx.trio.loads(stored_trio(db, rec["id"].id))[0]["foo"] == s32k


def test_unencodable_str_is_invalid_tag_value(db: hx.Folio, rec: hx.Rec) -> None:
    rejected(db, hx.InvalidTagValueError, lambda: commit(db, rec, {"s": "bad \ud800 str"}))


def test_unencodable_str_leaves_db_consistent(db: hx.Folio, rec: hx.Rec) -> None:
    """Whatever error a str Redis cannot hold raises, nothing is applied and the connection
    keeps working."""
    ver = db.cur_ver
    with pytest.raises(Exception):  # noqa: B017 - the exact type is the test above
        commit(db, rec, {"s": "bad \ud800 str"})
    with pytest.raises(Exception):  # noqa: B017
        add_rec(db, {"s": "\udfff"})
    assert db.cur_ver == ver
    assert "s" not in db.read_by_id(rec["id"])
    assert db.read_count("s") == 0
    assert commit(db, rec, {"s": "fine"})["s"] == "fine"


# ------------------------------------------------------------------------------------------------
# flags of committed diffs
# ------------------------------------------------------------------------------------------------


def test_result_flags(db: hx.Folio, rec: hx.Rec) -> None:
    add = db.commit(hx.Diff.make_add({"point": M}))
    assert add.flags == hx.Diff.ADD | hx.Diff.POINT | hx.Diff.TREE_UPDATE
    assert add.is_add_point
    upd = db.commit(hx.Diff(rec, {"siteRef": add.id}))
    assert upd.flags == hx.Diff.TREE_UPDATE
    assert upd.is_update
    cur = db.commit(hx.Diff(upd.new_rec, {"curVal": n(123)}, T))
    assert cur.flags == T | hx.Diff.CUR_VAL
    assert cur.is_cur_val and cur.is_transient
    rem = db.commit(hx.Diff(add.new_rec, None, hx.Diff.REMOVE))
    assert rem.flags == hx.Diff.REMOVE | hx.Diff.TREE_UPDATE
    assert rem.is_remove
