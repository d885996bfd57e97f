"""id_prefix: relative ids made absolute on add, lookup and in Ref values (folio.md 1.2, 2.6,
Haxall PrefixTest)."""

from __future__ import annotations

import pytest
from helpers.folio_util import add_rec, dis_of_ref, raises_exactly, rec_state, stored_trio

import hxredis as hx


def verify_ref(actual: hx.Ref, id: str, dis: str | None = None) -> None:
    """Haxall verifyRefEq: same id and same display string."""
    assert actual.id == id
    assert dis_of_ref(actual) == (dis if dis is not None else id)


@pytest.mark.parametrize("bad", ["bad ns:", "bad ns", "u", "", "u:a", "ü:"])
def test_bad_id_prefix(open_db, bad: str) -> None:
    with pytest.raises(ValueError):
        open_db(id_prefix=bad)


def test_prefix(open_db) -> None:
    db = open_db(id_prefix="u:")
    assert db.id_prefix == "u:"

    # add with a relative id, a generated id; absolute ids cannot be used for adds
    a = add_rec(db, {"dis": "Alpha"}, hx.Ref("a"))
    b = add_rec(db, {"dis": "Beta"})
    b_rel = b["id"].id[2:]
    raises_exactly(hx.InvalidRecIdError, lambda: add_rec(db, {"dis": "Bad"}, hx.Ref("u:c")))
    raises_exactly(hx.InvalidRecIdError, lambda: add_rec(db, {"dis": "Bad"}, hx.Ref("foo:c")))
    verify_ref(a["id"], "u:a", "Alpha")
    assert b["id"].id.startswith("u:")

    # lookup by absolute and relative ids
    assert rec_state(db.read_by_id(hx.Ref("u:a"))) == rec_state(a)
    assert rec_state(db.read_by_id(hx.Ref("a"))) == rec_state(a)
    assert rec_state(db.read_by_id("a")) == rec_state(a)
    assert rec_state(db.read_by_id(b["id"])) == rec_state(b)
    assert rec_state(db.read_by_id(hx.Ref(b_rel))) == rec_state(b)
    assert [r["id"].id for r in db.read_by_ids([hx.Ref("a"), hx.Ref(b_rel)])] == [
        "u:a",
        b["id"].id,
    ]
    assert db.read_by_id_trash(hx.Ref("a"))["id"].id == "u:a"
    assert db.read_by_id(hx.Ref("zzz"), False) is None

    # commits with an absolute id in a minimal {id, mod} record
    diff = db.commit(hx.Diff({"id": hx.Ref("u:a"), "mod": a["mod"]}, {"foo": "one"}))
    a = db.read_by_id(a["id"])
    assert rec_state(a) == rec_state(diff.new_rec)
    verify_ref(diff.id, "u:a", "Alpha")
    assert a["foo"] == "one"

    # commit with a relative id
    diff = db.commit(hx.Diff({"id": hx.Ref("a"), "mod": a["mod"]}, {"foo": "two"}))
    a = db.read_by_id(a["id"])
    assert rec_state(a) == rec_state(diff.new_rec)
    verify_ref(diff.id, "u:a", "Alpha")
    assert db.read_by_id(a["id"])["foo"] == "two"

    # Ref tags: absolute, relative, foreign, null
    diff = db.commit(
        hx.Diff.make_add(
            {
                "aAbsRef": a["id"],
                "bAbsRef": b["id"],
                "aRelRef": hx.Ref("a"),
                "bRelRef": hx.Ref(b_rel),
                "xRef": hx.Ref("x:foo", "Keep"),
                "nRef": hx.Ref("null"),
                "listRef": [hx.Ref("a"), hx.Ref(b_rel)],
            }
        )
    )
    c = db.read_by_id(diff.id)
    assert rec_state(diff.new_rec) == rec_state(c)

    def check_tags(db: hx.Folio) -> None:
        a_now = db.read_by_id(a["id"])
        c_now = db.read_by_id(c["id"])
        verify_ref(a_now["id"], "u:a", "Alpha")
        assert c_now["aAbsRef"] is a_now["id"]
        assert c_now["aRelRef"] is a_now["id"]
        verify_ref(c_now["aAbsRef"], "u:a", "Alpha")
        verify_ref(c_now["aRelRef"], "u:a", "Alpha")
        verify_ref(c_now["bAbsRef"], b["id"].id, "Beta")
        verify_ref(c_now["bRelRef"], b["id"].id, "Beta")
        assert str(c_now["xRef"]) in ("x:foo", "@x:foo")
        assert c_now["xRef"].id == "x:foo"
        assert c_now["nRef"].id == "null"
        assert [r.id for r in c_now["listRef"]] == ["u:a", b["id"].id]
        # queries see the absolute ids
        assert db.read(f"aRelRef == @{a['id'].id}")["id"] == c["id"]
        assert db.read('aRelRef->dis == "Alpha"')["id"] == c["id"]

    check_tags(db)

    # close and reopen with the same prefix
    db.close()
    db = open_db(id_prefix="u:")
    check_tags(db)


def test_stored_ids_are_relative_to_the_prefix(open_db) -> None:
    db = open_db(id_prefix="p:proj:r:")
    rec = add_rec(
        db,
        {"dis": "X", "selfRef": hx.Ref("x1"), "other": hx.Ref("q:z"), "l": [hx.Ref("x1")]},
        hx.Ref("x1"),
    )
    assert rec["id"].id == "p:proj:r:x1"
    assert rec["selfRef"].id == "p:proj:r:x1"
    assert stored_trio(db, "p:proj:r:x1") is None
    stored = hx.trio.loads(stored_trio(db, "x1"))[0]
    assert stored["id"] == hx.Ref("x1")
    assert stored["selfRef"] == hx.Ref("x1")
    assert stored["other"] == hx.Ref("q:z")  # another namespace stays absolute
    assert stored["l"] == [hx.Ref("x1")]
    # a Folio without prefix reads the stored (relative) ids
    plain = open_db()
    assert plain.read_by_id("x1")["dis"] == "X"
    assert plain.read_by_id("x1")["other"].id == "q:z"


def test_reopen_with_another_prefix(open_db) -> None:
    """Haxall PrefixTest, second half: a database follows its id prefix."""
    db = open_db(id_prefix="u:")
    a = add_rec(db, {"dis": "Alpha"}, hx.Ref("a"))
    b = add_rec(db, {"dis": "Beta"})
    b_rel = b["id"].id[2:]
    c = add_rec(
        db,
        {"aAbsRef": a["id"], "aRelRef": hx.Ref("a"), "xRef": hx.Ref("x:foo", "Keep")},
    )
    c_rel = c["id"].id[2:]
    db.close()

    db = open_db(id_prefix="xyz:")
    a = db.read_by_id(hx.Ref("a"))
    b = db.read_by_id(hx.Ref(b_rel))
    c = db.read_by_id(hx.Ref(c_rel))
    verify_ref(a["id"], "xyz:a", "Alpha")
    verify_ref(b["id"], f"xyz:{b_rel}", "Beta")
    assert c["aAbsRef"] is a["id"]
    assert c["aRelRef"] is a["id"]
    assert c["xRef"].id == "x:foo"

    diff = db.commit(
        hx.Diff(
            c,
            {
                "aAbsRef": hx.Ref("xyz:a"),
                "aRelRef": hx.Ref("a"),
                "nAbsRef": hx.Ref("xyz:n", "Ignore"),
                "nRelRef": hx.Ref("n", "Ignore"),
                "yRef": hx.Ref("u:y"),
            },
        )
    )
    c = db.read_by_id(c["id"])
    assert rec_state(c) == rec_state(diff.new_rec)
    assert c["aAbsRef"] is a["id"]
    assert c["aRelRef"] is a["id"]
    verify_ref(c["nAbsRef"], "xyz:n")
    verify_ref(c["nRelRef"], "xyz:n")
    assert c["xRef"].id == "x:foo"
    assert c["yRef"].id == "u:y"

    db.commit(hx.Diff(a, {"dis": "Alpha x 2"}))
    a = db.read_by_id(a["id"])
    verify_ref(a["id"], "xyz:a", "Alpha x 2")
    assert db.read_by_id(c["id"])["aRelRef"] is a["id"]
    # another process with the new prefix follows the commits
    other = open_db(id_prefix="xyz:")
    assert rec_state(other.read_by_id("a")) == rec_state(a)
    db.commit(hx.Diff(a, {"dis": "Alpha 3"}))
    other.sync()
    verify_ref(other.read_by_id("a")["id"], "xyz:a", "Alpha 3")
    assert other.read_by_id(c["id"])["aRelRef"].id == "xyz:a"


def test_schema_1_with_absolute_ids_is_refused(open_db, redis_server, db_name) -> None:
    client = redis_server.client()
    client.hset(f"hx:{{{db_name}}}:meta", mapping={"schema": 1, "created": 1})
    client.hset(f"hx:{{{db_name}}}:recs", "u:a", 'id: @u:a\ndis: "A"\n')
    with pytest.raises(hx.SchemaVersionError, match=r"schema 1.*'u:a'.*export"):
        open_db(id_prefix="u:")


def test_schema_1_without_prefix_is_upgraded(open_db, redis_server, db_name) -> None:
    client = redis_server.client()
    client.hset(f"hx:{{{db_name}}}:meta", mapping={"schema": 1, "created": 1})
    client.hset(f"hx:{{{db_name}}}:recs", "a", 'id: @a\ndis: "A"\n')
    db = open_db(id_prefix="u:")
    verify_ref(db.read_by_id("a")["id"], "u:a", "A")
    assert client.hget(f"hx:{{{db_name}}}:meta", "schema") == b"2"


def test_filter_on_relative_id(open_db) -> None:
    db = open_db(id_prefix="u:")
    a = add_rec(db, {"dis": "Alpha"}, hx.Ref("a"))
    assert db.read("id == @a")["id"] == a["id"]
    assert db.read_count("id == @a") == 1
