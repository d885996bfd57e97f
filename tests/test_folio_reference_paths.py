"""A Folio served by the pure-Python references (codec, index, display names) answers exactly
like one served by the native modules: same records, same display strings, same order."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from helpers.folio_util import rec_state

import hxredis as hx
from hxredis import codec, dis, query_plan

sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
from building import add_diffs, building_model

FILTERS = ["id", "site", "equip and siteRef", "point and equipRef->ahu", "disMacro", "geoCoord"]


def _references_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codec, "decode_record", codec.py_decode_record)
    monkeypatch.setattr(codec, "decode_records", codec.py_decode_records)
    monkeypatch.setattr(dis, "rebuild", dis.py_rebuild)
    monkeypatch.setattr(dis, "compute_all", dis.py_compute_all)
    monkeypatch.setattr(query_plan, "_native", None)


def _answers(db: hx.Folio) -> list:
    return [[rec_state(rec) for rec in db.read_all(f)] for f in FILTERS]


def test_reference_paths_answer_like_native(open_db, monkeypatch) -> None:
    writer = open_db(follow=False)
    writer.commit_all(add_diffs(building_model(300)))
    a = writer.commit(hx.Diff.make_add({"dis": "A", "tags": [hx.Ref("x1"), "s"]})).new_rec
    b = writer.commit(
        hx.Diff.make_add({"disMacro": "$aRef $n", "aRef": a["id"], "n": "B", "d": {"r": a["id"]}})
    ).new_rec
    writer.commit(hx.Diff(b, {"aRef": b["id"]}))  # a self-reference renders as the id
    native = open_db(follow=False)
    expected = _answers(native)
    assert expected[0] and all(len(answer) for answer in expected[:5])

    _references_only(monkeypatch)
    assert _answers(open_db(follow=False)) == expected

    reference = open_db(follow=False)  # a change, through compute_all
    reference.commit(hx.Diff(reference.read_by_id(a["id"]), {"dis": "A2"}))
    after = _answers(reference)
    assert after != expected
    monkeypatch.undo()
    assert _answers(native.sync()) == after
