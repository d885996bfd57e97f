"""Live display names: disMacro resolved recursively, cycles and dangling refs shown as the id,
Ref values inside records following their target (folio.md section 6, Haxall DisTest)."""

from __future__ import annotations

from helpers.folio_util import add_rec, commit, dis_of_ref, keys_of, wait_for

import hxredis as hx


def verify_dis(db: hx.Folio, rec_id: hx.Ref, dis: str) -> None:
    """Haxall verifyDictDis: the record's dis and its id's dis."""
    rec = db.read_by_id(rec_id)
    assert rec.dis == dis
    assert rec["id"].dis == dis


def test_dis_sequence(db: hx.Folio, open_db) -> None:
    """The DisTest sequence of folio.md section 6, step by step."""
    # 1. add a, b, c, d
    a = add_rec(db, {"dis": "A-0"}, hx.Ref("A-ID"))
    b = add_rec(
        db, {"disMacro": "$aRef $navName", "aRef": a["id"], "navName": "B-0"}, hx.Ref("B-ID")
    )
    c = add_rec(
        db, {"disMacro": "$bRef $navName", "bRef": b["id"], "navName": "C-0"}, hx.Ref("C-ID")
    )
    d = add_rec(
        db, {"disMacro": "$cRef $navName", "cRef": c["id"], "navName": "D-0"}, hx.Ref("D-ID")
    )
    verify_dis(db, a["id"], "A-0")
    verify_dis(db, b["id"], "A-0 B-0")
    verify_dis(db, c["id"], "A-0 B-0 C-0")
    verify_dis(db, d["id"], "A-0 B-0 C-0 D-0")

    # 2. change a: the returned record's dis is current at once, dependents follow
    a = commit(db, a, {"dis": "A-1"})
    assert a.dis == "A-1"
    assert a["id"].dis == "A-1"
    verify_dis(db, a["id"], "A-1")
    verify_dis(db, b["id"], "A-1 B-0")
    verify_dis(db, c["id"], "A-1 B-0 C-0")
    verify_dis(db, d["id"], "A-1 B-0 C-0 D-0")

    # 3. to 5. change each navName
    b = commit(db, b, {"navName": "B-1"})
    verify_dis(db, a["id"], "A-1")
    verify_dis(db, b["id"], "A-1 B-1")
    verify_dis(db, c["id"], "A-1 B-1 C-0")
    verify_dis(db, d["id"], "A-1 B-1 C-0 D-0")
    c = commit(db, c, {"navName": "C-1"})
    verify_dis(db, c["id"], "A-1 B-1 C-1")
    verify_dis(db, d["id"], "A-1 B-1 C-1 D-0")
    d = commit(db, d, {"navName": "D-1"})
    verify_dis(db, d["id"], "A-1 B-1 C-1 D-1")

    # 6. re-point c at a new record bx
    bx = add_rec(db, {"dis": "BX-0"}, hx.Ref("BX-ID"))
    c = commit(db, c, {"bRef": bx["id"]})
    verify_dis(db, a["id"], "A-1")
    verify_dis(db, b["id"], "A-1 B-1")
    verify_dis(db, bx["id"], "BX-0")
    verify_dis(db, c["id"], "BX-0 C-1")
    verify_dis(db, d["id"], "BX-0 C-1 D-1")

    # 7. bx switches from dis to a macro
    bx = commit(
        db, bx, {"dis": hx.REMOVE, "disMacro": "$aRef $navName", "aRef": a["id"], "navName": "BX-1"}
    )
    verify_dis(db, a["id"], "A-1")
    verify_dis(db, b["id"], "A-1 B-1")
    verify_dis(db, bx["id"], "A-1 BX-1")
    verify_dis(db, c["id"], "A-1 BX-1 C-1")
    verify_dis(db, d["id"], "A-1 BX-1 C-1 D-1")

    # 8. self-reference: the cycle shows as the id
    bx = commit(db, bx, {"aRef": bx["id"], "navName": "NN"})
    verify_dis(db, a["id"], "A-1")
    verify_dis(db, b["id"], "A-1 B-1")
    verify_dis(db, c["id"], "BX-ID NN C-1")
    verify_dis(db, d["id"], "BX-ID NN C-1 D-1")
    assert db.read_by_id(bx["id"])["id"].dis == "BX-ID NN"

    # 9. a batch with force from stale records
    db.commit_all(
        [
            hx.Diff(a, {"dis": "A-2"}, hx.Diff.FORCE),
            hx.Diff(b, {"navName": "B-2"}, hx.Diff.FORCE),
            hx.Diff(c, {"bRef": b["id"], "navName": "C-2"}, hx.Diff.FORCE),
        ]
    )

    def verify_step9(db: hx.Folio) -> None:
        verify_dis(db, hx.Ref("A-ID"), "A-2")
        verify_dis(db, hx.Ref("B-ID"), "A-2 B-2")
        verify_dis(db, hx.Ref("C-ID"), "A-2 B-2 C-2")
        verify_dis(db, hx.Ref("D-ID"), "A-2 B-2 C-2 D-1")
        assert db.read_by_id(hx.Ref("BX-ID"))["id"].dis == "BX-ID NN"

    verify_step9(db)

    # 10. reopen: recomputed from the persisted records
    db.close()
    db = open_db()
    verify_step9(db)

    # 11. remove b: refs to it show its id
    old_b_id = db.read_by_id(hx.Ref("B-ID"))["id"]
    db.commit(hx.Diff(db.read_by_id(hx.Ref("B-ID")), None, hx.Diff.REMOVE))
    verify_dis(db, hx.Ref("A-ID"), "A-2")
    verify_dis(db, hx.Ref("C-ID"), "B-ID C-2")
    verify_dis(db, hx.Ref("D-ID"), "B-ID C-2 D-1")
    assert dis_of_ref(old_b_id) == "B-ID"
    assert dis_of_ref(db.read_by_id(hx.Ref("C-ID"))["bRef"]) == "B-ID"


def test_ref_values_follow_their_target(db: hx.Folio) -> None:
    site = add_rec(db, {"dis": "Site 1", "site": hx.MARKER})
    equip = add_rec(db, {"dis": "AHU", "equip": hx.MARKER, "siteRef": site["id"]})
    listed = add_rec(db, {"dis": "L", "refs": [site["id"], hx.Ref("nowhere")]})
    # the Ref inside a record is the target's id Ref
    assert equip["siteRef"] is db.read_by_id(site["id"])["id"]
    assert equip["siteRef"].dis == "Site 1"
    assert listed["refs"][0].dis == "Site 1"
    assert dis_of_ref(listed["refs"][1]) == "nowhere"
    # a record read before the change follows the change
    commit(db, site, {"dis": "Site One"})
    assert equip["siteRef"].dis == "Site One"
    assert db.read_by_id(equip["id"])["siteRef"].dis == "Site One"
    assert db.read_by_id(listed["id"])["refs"][0].dis == "Site One"


def test_user_dis_on_refs_is_not_kept(db: hx.Folio, open_db) -> None:
    site = add_rec(db, {"dis": "Real"})
    rec = add_rec(
        db,
        {"siteRef": hx.Ref(site["id"].id, "Fake"), "xRef": hx.Ref("x-missing", "Keep?")},
    )
    assert rec["siteRef"].dis == "Real"
    assert dis_of_ref(rec["xRef"]) == "x-missing"
    assert "Fake" not in str(db.client.hgetall(keys_of(db).recs))
    db.close()
    db = open_db()
    rec = db.read_by_id(rec["id"])
    assert rec["siteRef"].dis == "Real"
    assert dis_of_ref(rec["xRef"]) == "x-missing"


def test_ref_to_a_record_added_later(db: hx.Folio) -> None:
    """Display strings are computed from the current state: a dangling ref shows the id, and
    the target's dis once the target exists."""
    rec = add_rec(db, {"dis": "R", "otherRef": hx.Ref("later-id")})
    assert dis_of_ref(db.read_by_id(rec["id"])["otherRef"]) == "later-id"
    add_rec(db, {"dis": "Later"}, hx.Ref("later-id"))
    assert db.read_by_id(rec["id"])["otherRef"].dis == "Later"


def test_dis_fallbacks_and_macro_forms(db: hx.Folio) -> None:
    assert add_rec(db, {"name": "nm", "disKey": "ui::x"}).dis == "ui::x"
    assert add_rec(db, {"name": "nm"}).dis == "nm"
    plain = add_rec(db, {"foo": hx.MARKER}, hx.Ref("plain-id"))
    assert plain.dis == "plain-id"
    assert plain["id"].dis == "plain-id"
    target = add_rec(db, {"dis": "T"})
    braces = add_rec(db, {"disMacro": "${tRef}-${navName}!", "tRef": target["id"], "navName": "N"})
    assert braces.dis == "T-N!"
    assert braces["id"].dis == "T-N!"
    missing = add_rec(db, {"disMacro": "$nothere and $navName", "navName": "N"})
    assert missing.dis == "$nothere and N"
    # dis wins over disMacro
    both = add_rec(db, {"dis": "D", "disMacro": "$navName", "navName": "N"})
    assert both.dis == "D"


def test_two_record_cycle(db: hx.Folio) -> None:
    a = add_rec(db, {"disMacro": "a:$bRef", "bRef": hx.Ref("cyc-b")}, hx.Ref("cyc-a"))
    add_rec(db, {"disMacro": "b:$aRef", "aRef": a["id"]}, hx.Ref("cyc-b"))
    a_dis = db.read_by_id("cyc-a")["id"].dis
    b_dis = db.read_by_id("cyc-b")["id"].dis
    # one of the two is computed first and sees the other's raw id, never an endless loop
    assert {a_dis, b_dis} <= {"a:b:cyc-a", "a:cyc-b", "b:a:cyc-b", "b:cyc-a"}
    assert a_dis.startswith("a:") and b_dis.startswith("b:")


def test_batch_add_with_refs_between_new_records(db: hx.Folio) -> None:
    site_id, equip_id = hx.Ref("batch-site"), hx.Ref("batch-equip")
    db.commit_all(
        [
            hx.Diff.make_add({"disMacro": "$siteRef AHU", "siteRef": site_id}, equip_id),
            hx.Diff.make_add({"dis": "HQ"}, site_id),
        ]
    )
    verify_dis(db, equip_id, "HQ AHU")
    assert db.read_by_id(equip_id)["siteRef"] is db.read_by_id(site_id)["id"]


def test_dis_follows_other_folios_commits(db: hx.Folio, open_db) -> None:
    other = open_db()
    a = add_rec(db, {"dis": "A-0"}, hx.Ref("A-ID"))
    add_rec(db, {"disMacro": "$aRef x", "aRef": a["id"]}, hx.Ref("B-ID"))
    other.sync()
    verify_dis(other, hx.Ref("B-ID"), "A-0 x")
    commit(db, a, {"dis": "A-1"})
    other.sync()
    verify_dis(other, hx.Ref("A-ID"), "A-1")
    verify_dis(other, hx.Ref("B-ID"), "A-1 x")
    # and without sync, through the change stream follower
    commit(db, db.read_by_id(a["id"]), {"dis": "A-2"})
    wait_for(lambda: other.read_by_id(hx.Ref("B-ID")).dis == "A-2 x", what="dis to follow")
    assert other.read_by_id(hx.Ref("B-ID"))["id"].dis == "A-2 x"
    # a remove elsewhere: the dangling ref shows the id
    db.commit(hx.Diff(db.read_by_id(a["id"]), None, hx.Diff.REMOVE))
    wait_for(lambda: other.read_by_id(hx.Ref("B-ID")).dis == "A-ID x", what="remove to follow")
    assert dis_of_ref(other.read_by_id(hx.Ref("B-ID"))["aRef"]) == "A-ID"
