"""Folio reads and commits beyond the core contract: each/each-while, tag views, trash."""

from __future__ import annotations

import hxredis as hx

M = hx.MARKER


def _add(db: hx.Folio, tags: dict) -> hx.Rec:
    return db.commit(hx.Diff.make_add(tags)).new_rec


def test_read_all_each_and_each_while(db: hx.Folio) -> None:
    for i in range(5):
        _add(db, {"dis": f"P{i}", "point": M, "n": hx.Number(i)})
    seen: list[hx.Rec] = []
    db.read_all_each("point", seen.append)
    assert seen == db.read_all("point") and len(seen) == 5
    seen.clear()
    db.read_all_each("point", seen.append, limit=2)
    assert seen == db.read_all("point")[:2]
    found = db.read_all_each_while("point", lambda r: r["dis"] if r["n"].val >= 3 else None)
    assert found == next(r["dis"] for r in db.read_all("point") if r["n"].val >= 3)
    assert db.read_all_each_while("point", lambda r: None) is None
    assert db.read_all_each_while("point", lambda r: "x", limit=0) is None


def test_persistent_and_transient_tag_views(db: hx.Folio) -> None:
    rec = _add(db, {"dis": "P", "point": M})
    db.commit(hx.Diff(rec, {"curVal": hx.Number(7)}, hx.Diff.TRANSIENT))
    persistent = db.read_by_id_persistent_tags(rec["id"])
    transient = db.read_by_id_transient_tags(rec["id"])
    assert "curVal" not in persistent and persistent["dis"] == "P"
    assert transient == {"id": rec["id"], "curVal": hx.Number(7)}
    assert db.read_by_id_transient_tags(hx.Ref("nope"), checked=False) is None


def test_intern_ref_gives_the_live_id(db: hx.Folio) -> None:
    rec = _add(db, {"dis": "Alpha"})
    interned = db.intern_ref(hx.Ref(rec["id"].id))
    assert interned is rec["id"] and interned.dis == "Alpha"
    other = hx.Ref("missing-x")
    assert db.intern_ref(other) is other


def test_commit_remove_trash(db: hx.Folio) -> None:
    keep = _add(db, {"dis": "keep"})
    for i in range(3):
        rec = _add(db, {"dis": f"t{i}"})
        db.commit(hx.Diff(rec, {"trash": M}))
    assert db.commit_remove_trash() == 3
    assert db.read_trash("trash") == []
    assert db.read_by_id(keep["id"])["dis"] == "keep"
    assert db.commit_remove_trash() == 0  # an empty trash is not an error here


def test_embedded_server_is_shared_within_a_process(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("HXREDIS_URI", raising=False)
    data = tmp_path / "data"
    first = hx.open(name="a", data_dir=data)
    second = hx.open(name="b", data_dir=data)  # same directory: same server, no conflict
    try:
        port = first.client.connection_pool.connection_kwargs["port"]
        assert second.client.connection_pool.connection_kwargs["port"] == port
        _add(second, {"dis": "in b"})
        first.close()
        assert second.read_count("dis") == 1
        _add(second, {"dis": "still works"})  # the server outlives the first Folio
    finally:
        first.close()
        second.close()
    with hx.open(name="b", data_dir=data) as again:  # the last close stopped it; restart
        assert again.read_count("dis") == 2
