"""Diff construction, flags, validation and tag rules (folio.md section 2)."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from types import MappingProxyType
from typing import Any

import pytest

from hxredis import timezones
from hxredis.diff import (
    NEVER_INDEX_TAGS,
    NEVER_TAGS,
    PERSISTENT_ONLY_TAGS,
    RESTRICTED_TAGS,
    TRANSIENT_ONLY_TAGS,
    Diff,
    check_diffs,
    check_rec_id,
    check_tag_name,
    check_tag_value,
    is_uncommittable,
)
from hxredis.errors import (
    DiffError,
    InvalidRecIdError,
    InvalidTagNameError,
    InvalidTagValueError,
    ParseError,
)
from hxredis.values import (
    MARKER,
    NA,
    REMOVE,
    Coord,
    Grid,
    Number,
    Ref,
    Span,
    Symbol,
    Uri,
    XStr,
)

ADD, REM, TRANSIENT, FORCE = Diff.ADD, Diff.REMOVE, Diff.TRANSIENT, Diff.FORCE
BYPASS, CUR_VAL, POINT, TREE = Diff.BYPASS_RESTRICTED, Diff.CUR_VAL, Diff.POINT, Diff.TREE_UPDATE
MOD = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
OLD = MappingProxyType({"id": Ref("rec-1", "Rec One"), "mod": MOD, "dis": "Rec One"})


def raises(exc_type: type[BaseException], fn: Any, *args: Any, match: str | None = None) -> str:
    """Call fn and require exactly exc_type (not a subclass), as Haxall's verifyErr does."""
    with pytest.raises(BaseException) as info:
        fn(*args)
    assert type(info.value) is exc_type, repr(info.value)
    msg = str(info.value)
    if match is not None:
        assert re.search(match, msg), msg
    return msg


# ------------------------------------------------------------------------------------------------
# Flag values
# ------------------------------------------------------------------------------------------------


def test_flag_constants() -> None:
    assert (ADD, REM, TRANSIENT, FORCE, BYPASS) == (0x01, 0x02, 0x04, 0x08, 0x10)
    assert (CUR_VAL, POINT, TREE) == (0x20, 0x40, 0x80)
    assert Diff.FORCE_TRANSIENT == 0x0C


def test_point_flag_on_update() -> None:
    d = Diff(OLD, {"point": MARKER})
    assert d.flags == POINT
    assert not d.is_add_point
    assert not d.is_tree_update


def test_point_flag_on_add() -> None:
    d = Diff.make_add({"point": MARKER})
    assert d.flags == ADD | POINT | TREE == 0xC1
    assert d.is_add_point
    assert d.is_tree_update


@pytest.mark.parametrize(
    ("changes", "flags"),
    [
        ({"curVal": Number(123)}, TRANSIENT | CUR_VAL),
        ({"curStatus": "ok"}, TRANSIENT | CUR_VAL),
        ({"curErr": "foo"}, TRANSIENT),
    ],
)
def test_cur_val_flag(changes: dict[str, Any], flags: int) -> None:
    d = Diff(OLD, changes, TRANSIENT)
    assert d.flags == flags
    assert d.is_cur_val == bool(flags & CUR_VAL)


def test_tree_update_add_and_remove() -> None:
    assert Diff.make_add({"dis": "X"}).flags == ADD | TREE
    assert Diff(None, {"dis": "X"}, ADD).flags == ADD | TREE
    assert Diff(OLD, None, REM).flags == REM | TREE


@pytest.mark.parametrize(
    ("changes", "flags"),
    [
        ({"ref": Ref("x")}, TREE),
        ({"siteRef": Ref("new")}, TREE),
        ({"siteRef": REMOVE}, 0),
        ({"dis": "change"}, 0),
        ({"foo": Number(123)}, 0),
        ({"foo": REMOVE}, 0),
        ({"trash": MARKER}, TREE),
        ({"trash": REMOVE}, TREE),
        ({"refs": [Ref("x")]}, 0),
    ],
)
def test_tree_update_on_update(changes: dict[str, Any], flags: int) -> None:
    assert Diff(OLD, changes).flags == flags


def test_ref_in_transient_diff_is_not_tree_update() -> None:
    assert Diff(OLD, {"curSource": Ref("x")}, TRANSIENT).flags == TRANSIENT


def test_given_flags_are_kept() -> None:
    d = Diff(OLD, {"dis": "x"}, FORCE | BYPASS)
    assert d.flags == FORCE | BYPASS
    assert d.is_force and d.is_bypass_restricted and d.is_update
    assert (
        Diff(OLD, {"curVal": Number(1)}, Diff.FORCE_TRANSIENT).flags == FORCE | TRANSIENT | CUR_VAL
    )


def test_predicates() -> None:
    add = Diff.make_add({})
    assert add.is_add and not add.is_remove and not add.is_update and not add.is_transient
    rem = Diff(OLD, None, REM)
    assert rem.is_remove and not rem.is_add and not rem.is_update
    upd = Diff(OLD, {"foo": MARKER})
    assert upd.is_update and not upd.is_force and not upd.is_bypass_restricted
    assert not upd.is_cur_val and not upd.is_add_point and not upd.is_tree_update
    tr = Diff(OLD, {"curVal": Number(1)}, TRANSIENT)
    assert tr.is_transient and tr.is_update and tr.is_cur_val


# ------------------------------------------------------------------------------------------------
# Constructors
# ------------------------------------------------------------------------------------------------


def test_update_takes_id_and_mod_from_old_rec() -> None:
    d = Diff(OLD, {"foo": MARKER})
    assert d.id == Ref("rec-1")
    assert d.id.dis == "Rec One"
    assert d.old_mod == MOD
    assert d.old_rec is None
    assert d.new_rec is None
    assert d.new_mod is None
    assert dict(d.changes) == {"foo": MARKER}


def test_minimal_old_rec() -> None:
    d = Diff({"id": Ref("a"), "mod": MOD}, {"dis": "A"})
    assert d.id == Ref("a")
    assert d.old_mod == MOD


def test_changes_none_is_empty() -> None:
    assert dict(Diff(OLD, None).changes) == {}
    assert dict(Diff.make_add(None).changes) == {}


def test_add_generates_id() -> None:
    a, b = Diff(None, {"dis": "A"}, ADD), Diff(None, {"dis": "B"}, ADD)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{8}", a.id.id)
    assert a.id != b.id
    assert a.old_mod is None
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{8}", Diff.make_add({}).id.id)


def test_make_add_with_id() -> None:
    d = Diff.make_add({"dis": "X"}, Ref("my-id"))
    assert d.id == Ref("my-id")
    assert d.is_add
    assert d.flags == ADD | TREE
    assert Diff.make_add({}, id=Ref("kw")).id == Ref("kw")


def test_old_rec_none_requires_add() -> None:
    raises(DiffError, Diff, None, {"dis": "x"}, match="Must pass 'add' flag if oldRec is null")
    raises(DiffError, Diff, None, None)


def test_add_with_id_in_changes() -> None:
    raises(DiffError, Diff, None, {"id": Ref("x")}, ADD)
    raises(DiffError, Diff.make_add, {"id": Ref("x")}, match="makeAdd cannot specify 'id' tag")
    raises(DiffError, Diff.make_add, {"id": Ref("x")}, Ref("x"))


def test_old_rec_with_add_flag() -> None:
    raises(DiffError, Diff, OLD, {"foo": MARKER}, ADD, match="Cannot pass oldRec if using 'add'")
    # checked before id and mod are read
    raises(DiffError, Diff, {}, {"foo": MARKER}, ADD)


@pytest.mark.parametrize(
    "rec",
    [
        {"mod": MOD},
        {"id": Ref("a")},
        {},
        {"id": "a", "mod": MOD},
        {"id": Ref("a"), "mod": "2024-01-01"},
        {"id": Ref("a"), "mod": datetime(2024, 1, 1)},
    ],
)
def test_old_rec_needs_id_and_mod(rec: dict[str, Any]) -> None:
    msg = raises(DiffError, Diff, rec, {"foo": MARKER})
    assert ("'id'" in msg) != ("'mod'" in msg)


def test_bad_argument_types() -> None:
    raises(TypeError, Diff, OLD, ["foo"])
    raises(TypeError, Diff, OLD, "foo")
    raises(TypeError, Diff, ["id"], {})
    raises(TypeError, Diff, OLD, {}, "force")
    raises(TypeError, Diff, OLD, {}, True)
    raises(TypeError, Diff.make_add, {}, "abc")


def test_add_and_remove_together() -> None:
    raises(DiffError, Diff, None, {}, ADD | REM, match="add \\+ remove")


def test_transient_add_and_remove() -> None:
    raises(DiffError, Diff, None, {"dis": "x"}, ADD | TRANSIENT, match="transient \\+ add")
    raises(DiffError, Diff, OLD, None, REM | TRANSIENT, match="transient \\+ remove")


def test_python_numbers_become_numbers() -> None:
    d = Diff(OLD, {"a": 3, "b": 2.5, "c": True, "d": float("nan")})
    assert d.changes["a"] == Number(3)
    assert type(d.changes["a"]) is Number
    assert d.changes["b"] == Number(2.5)
    assert d.changes["c"] is True
    assert d.changes["d"] == Number(float("nan"))
    raises(InvalidTagValueError, Diff, OLD, {"big": 10**400})
    raises(InvalidTagValueError, Diff, OLD, {"nested": [1]})


def test_changes_are_a_private_read_only_copy() -> None:
    src = {"dis": "A"}
    d = Diff(OLD, src)
    src["dis"] = "B"
    src["foo"] = MARKER
    assert dict(d.changes) == {"dis": "A"}
    with pytest.raises(TypeError):
        d.changes["dis"] = "C"  # type: ignore[index]


def test_diff_is_immutable() -> None:
    d = Diff(OLD, {"dis": "A"})
    with pytest.raises(AttributeError):
        d.flags = 0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        d._flags = 0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        d.extra = 1  # type: ignore[attr-defined]


def test_changes_keep_order() -> None:
    d = Diff(OLD, {"z": MARKER, "a": MARKER, "m": MARKER})
    assert list(d.changes) == ["z", "a", "m"]


# ------------------------------------------------------------------------------------------------
# Add ids
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rid", "msg"),
    [
        ("S.site.equip.point", "Cannot use Niagara id: S.site.equip.point"),
        ("H.x", "Cannot use Niagara id"),
        ("a" * 61, "Id too long: "),
        ("u:c", "Id cannot contain colon: u:c"),
        ("foo:c", "Id cannot contain colon"),
    ],
)
def test_invalid_add_ids(rid: str, msg: str) -> None:
    raises(InvalidRecIdError, Diff.make_add, {"dis": "x"}, Ref(rid), match=re.escape(msg))
    raises(InvalidRecIdError, check_rec_id, Ref(rid), match=re.escape(msg))


@pytest.mark.parametrize("rid", ["a" * 60, "s.x", "S-x", "1.x", "x", "a.b.c", "A"])
def test_valid_add_ids(rid: str) -> None:
    check_rec_id(Ref(rid))
    assert Diff.make_add({}, Ref(rid)).id == Ref(rid)


def test_update_ids_are_not_checked() -> None:
    assert Diff({"id": Ref("u:c"), "mod": MOD}, {"dis": "x"}).id == Ref("u:c")


def test_invalid_ref_string_is_parse_error() -> None:
    raises(ParseError, Ref, "a b")


# ------------------------------------------------------------------------------------------------
# Tag names
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["", "Foo", "1a", "a-b", "a b", "_", "__", "__x", "caf\u00e9", "a" * 61, 3]
)
def test_invalid_tag_names(name: Any) -> None:
    raises(InvalidTagNameError, Diff, OLD, {name: MARKER})
    raises(InvalidTagNameError, Diff.make_add, {name: MARKER})
    raises(InvalidTagNameError, check_tag_name, name)


def test_tag_name_messages() -> None:
    raises(InvalidTagNameError, check_tag_name, "Foo", match="Invalid tag name chars: Foo")
    raises(InvalidTagNameError, check_tag_name, "a" * 61, match="Tag too long: a{61}")


@pytest.mark.parametrize("name", ["a", "fooBar", "a_1", "_x", "_1", "__3a", "a" * 60])
def test_valid_tag_names(name: str) -> None:
    check_tag_name(name)
    assert name in Diff(OLD, {name: MARKER}).changes


# ------------------------------------------------------------------------------------------------
# Tag values
# ------------------------------------------------------------------------------------------------

NY = timezones.tz("New_York")
STORABLE = [
    MARKER,
    True,
    Number(1.5, "kW"),
    "text",
    Ref("r"),
    Uri("http://x/"),
    date(2024, 1, 2),
    time(3, 4, 5),
    datetime(2024, 1, 2, 3, 4, 5, tzinfo=NY),
    datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
    Coord(37.5, -77.5),
    XStr("Color", "red"),
    Symbol("hot-water"),
    Span(datetime(2024, 1, 1, tzinfo=NY), datetime(2024, 1, 2, tzinfo=NY)),
    XStr("Bin", "text/plain"),
    [Number(1), "a", [MARKER]],
    {"a": MARKER, "b": {"c": Number(2)}},
    MappingProxyType({"a": MARKER}),
    Grid({}, ["a"], [{"a": None}, {"a": NA}]),
    REMOVE,
    "x" * 32767,
    Uri("u" * 1000),
]


@pytest.mark.parametrize("val", STORABLE, ids=lambda v: repr(v)[:30])
def test_storable_values(val: Any) -> None:
    d = Diff(OLD, {"foo": val})
    assert d.changes["foo"] is val


def test_check_tag_value_returns_kind() -> None:
    assert check_tag_value("foo", Number(1)) == "Number"
    assert check_tag_value("foo", XStr("Bin", "text/plain")) == "Bin"
    assert check_tag_value("foo", XStr("Foo", "x")) == "XStr"
    assert check_tag_value("foo", REMOVE) == "Remove"
    assert check_tag_value("foo", [Ref("a")]) == "List"


class Custom:
    pass


@pytest.mark.parametrize(
    ("val", "msg"),
    [
        (None, "Tag cannot be null: foo"),
        (NA, "NA"),
        (b"bytes", "Unsupported tag type: bytes"),
        (Custom(), "Unsupported tag type: Custom"),
        ((1, 2), "Unsupported tag type: tuple"),
        ({1, 2}, "Unsupported tag type: set"),
        (datetime(2024, 1, 1), "Unsupported tag type: datetime"),
        (timedelta(seconds=1), "Unsupported tag type: timedelta"),
        ("x" * 32768, "Tag 'foo' has Str value > 32767 chars"),
        (Uri("u" * 1001), "Tag 'foo' Uri value > 1000 chars"),
        (datetime(2024, 1, 1, tzinfo=timezone(timedelta(minutes=90))), "timezone"),
        ([Number(1), None], "Tag cannot be null: foo"),
        ([NA], "NA"),
        ([[[1.5]]], "Unsupported tag type: float"),
        ({"a": None}, "Tag cannot be null: foo"),
        ({"a": {"b": NA}}, "NA"),
        ({"a": ["x" * 32768]}, "Str value > 32767"),
        ({"Bad": MARKER}, "invalid tag name"),
        ({3: MARKER}, "invalid tag name"),
    ],
    ids=lambda v: repr(v)[:30],
)
def test_invalid_values(val: Any, msg: str) -> None:
    raises(InvalidTagValueError, Diff, OLD, {"foo": val}, match=re.escape(msg))
    raises(InvalidTagValueError, Diff.make_add, {"foo": val}, match=re.escape(msg))
    raises(InvalidTagValueError, check_tag_value, "foo", val, match=re.escape(msg))
    cur_msg = re.escape(msg.replace("foo", "curVal"))
    raises(InvalidTagValueError, Diff, OLD, {"curVal": val}, TRANSIENT, match=cur_msg)


def test_none_value_is_invalid_value_not_diff_error() -> None:
    # a None value is InvalidTagValueError even for tags with a rule
    raises(InvalidTagValueError, Diff, OLD, {"dis": None})
    raises(InvalidTagValueError, Diff, OLD, {"id": None})


def test_nesting_limit() -> None:
    ok: list[Any] = [MARKER]
    for _ in range(99):
        ok = [ok]
    Diff(OLD, {"foo": ok})
    raises(InvalidTagValueError, Diff, OLD, {"foo": [ok]}, match="nested too deeply")


def test_self_containing_list_is_refused() -> None:
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    raises(InvalidTagValueError, Diff, OLD, {"foo": cyclic}, match="nested too deeply")


def test_grid_contents_checked() -> None:
    Diff(OLD, {"foo": Grid({"m": NA}, [("a", {"c": NA})], [{"a": NA}, {"a": [MARKER]}])})
    bad_grids = {
        "Unsupported tag type: Custom": Grid({}, ["a"], [{"a": NA}, {"a": Custom()}]),
        "Unsupported tag type: int": Grid({}, ["a"], [{"a": [1]}]),
        "not valid Unicode": Grid({}, ["a"], [{"a": "x\ud800"}]),
        "not valid Unicode in meta": Grid({"m": Uri("\udfff")}, ["a"], []),
        "cannot be null": Grid({"m": None}, ["a"], []),
        "Grid meta with invalid tag name 'Bad'": Grid({"Bad": MARKER}, ["a"], []),
        "Grid column named 'Bad'": Grid({}, ["Bad"], []),
        "two columns 'a'": Grid({}, ["a", "a"], []),
        "Grid column 'a' meta with invalid": Grid({}, [("a", {"1": MARKER})], []),
        "without columns": Grid({}, [], []),
        "cell for no column: 'b'": Grid({}, ["a"], [{"a": MARKER, "b": MARKER}]),
        "cannot carry a unit": Grid({}, ["a"], [[Number(float("inf"), "kW")]]),
    }
    for why, grid in bad_grids.items():
        match = why.removesuffix(" in meta")
        raises(InvalidTagValueError, Diff, OLD, {"foo": grid}, match=match)
        raises(InvalidTagValueError, Diff, OLD, {"foo": [{"g": grid}]}, match=match)


def test_nesting_limit_counts_grids() -> None:
    inner: list[Any] = [MARKER]
    for _ in range(97):
        inner = [inner]
    Diff(OLD, {"foo": Grid({}, ["a"], [[inner]])})  # Grid, 98 Lists: 99 levels
    Diff(OLD, {"foo": [Grid({"m": inner}, ["a"], [])]})  # 100 levels
    for too_deep in (
        [Grid({}, ["a"], [[[inner]]])],
        Grid({}, ["a"], [[Grid({}, ["b"], [[[inner]]])]]),
        Grid({}, [("a", {"m": [[inner]]})], []),
    ):
        raises(InvalidTagValueError, Diff, OLD, {"foo": too_deep}, match="nested too deeply")


@pytest.mark.parametrize(
    "val", ["a\ud800", Uri("\ud800"), XStr("Foo", "\udc00"), Ref("a", "\ud800"), ["\ud800"]]
)
def test_text_that_is_not_unicode(val: Any) -> None:
    raises(InvalidTagValueError, Diff, OLD, {"foo": val}, match="not valid Unicode")


@pytest.mark.parametrize("val", ["site1", "a.b", "x:y-z~_", "Foo", "1"])
def test_name_tag_valid(val: str) -> None:
    Diff(OLD, {"name": val})


def test_name_tag_remove() -> None:
    Diff(OLD, {"name": REMOVE})


@pytest.mark.parametrize("val", ["", "a b", "a/b", "caf\u00e9"])
def test_name_tag_invalid_str(val: str) -> None:
    raises(InvalidTagValueError, Diff, OLD, {"name": val}, match="Invalid 'name' tag value \"")


@pytest.mark.parametrize("val", [Number(1), MARKER, Ref("a"), ["a"], {"a": MARKER}])
def test_name_tag_not_str(val: Any) -> None:
    raises(InvalidTagValueError, Diff, OLD, {"name": val}, match="Tag 'name' must be a Str")


def test_name_rule_applies_only_to_the_name_tag() -> None:
    Diff(OLD, {"foo": "a b", "nested": {"name": Number(3)}})


# ------------------------------------------------------------------------------------------------
# Tag rules
# ------------------------------------------------------------------------------------------------


def test_rule_tables() -> None:
    assert {
        "id",
        "mod",
        "transient",
        "hisId",
        "hisSize",
        "hisStart",
        "hisStartVal",
        "hisEnd",
        "hisEndVal",
    } == NEVER_TAGS
    assert {"projMeta", "uiMeta", "ext", "fileSize"} == RESTRICTED_TAGS
    assert {
        "conn",
        "dis",
        "disMacro",
        "equip",
        "navName",
        "point",
        "site",
        "trash",
    } == PERSISTENT_ONLY_TAGS
    assert {
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
    } == TRANSIENT_ONLY_TAGS
    assert {"id", "mod", "trash"} | NEVER_TAGS | TRANSIENT_ONLY_TAGS == NEVER_INDEX_TAGS
    for table in (NEVER_TAGS, RESTRICTED_TAGS, PERSISTENT_ONLY_TAGS, TRANSIENT_ONLY_TAGS):
        assert isinstance(table, frozenset)
    assert isinstance(NEVER_INDEX_TAGS, frozenset)


def test_is_uncommittable() -> None:
    assert not is_uncommittable("id")
    assert is_uncommittable("mod")
    assert is_uncommittable("hisSize")
    assert is_uncommittable("transient")
    assert is_uncommittable("curVal")
    assert is_uncommittable("userFailedLogins")
    assert not is_uncommittable("dis")
    assert not is_uncommittable("projMeta")
    assert not is_uncommittable("foo")


@pytest.mark.parametrize("name", sorted(NEVER_TAGS - {"id"}))
def test_never_tags(name: str) -> None:
    msg = f'Cannot set tag: "{name}"'
    for val in (MARKER, REMOVE, Number(1)):
        raises(DiffError, Diff, OLD, {name: val}, match=re.escape(msg))
        raises(DiffError, Diff, OLD, {name: val}, TRANSIENT, match=re.escape(msg))
        raises(DiffError, Diff, OLD, {name: val}, BYPASS | FORCE, match=re.escape(msg))
        raises(DiffError, Diff.make_add, {name: val}, match=re.escape(msg))
        raises(DiffError, Diff, None, {name: val}, ADD | BYPASS, match=re.escape(msg))


def test_never_tag_id() -> None:
    msg = re.escape('Cannot set tag: "id"')
    raises(DiffError, Diff, OLD, {"id": REMOVE}, match=msg)
    raises(DiffError, Diff, OLD, {"id": Ref("x")}, match=msg)
    raises(DiffError, Diff, OLD, {"id": Ref("x")}, TRANSIENT, match=msg)
    raises(DiffError, Diff, OLD, {"mod": REMOVE}, match=re.escape('Cannot set tag: "mod"'))


@pytest.mark.parametrize("name", sorted(RESTRICTED_TAGS))
def test_restricted_tags(name: str) -> None:
    q = re.escape(f'"{name}"')
    raises(
        DiffError, Diff.make_add, {name: MARKER}, match="Cannot add rec with restricted tag: " + q
    )
    raises(DiffError, Diff, None, {name: MARKER}, ADD, match="Cannot add rec with restricted tag")
    raises(DiffError, Diff, OLD, {name: REMOVE}, match="Cannot remove restricted tag: " + q)
    raises(DiffError, Diff, OLD, {name: MARKER}, match="Cannot set restricted tag: " + q)
    raises(DiffError, Diff, OLD, {name: MARKER}, TRANSIENT, match="Cannot set restricted tag")
    raises(DiffError, Diff, OLD, {name: REMOVE}, TRANSIENT, match="Cannot remove restricted tag")
    # bypass allows every use
    assert Diff(None, {name: MARKER}, ADD | BYPASS).flags == ADD | BYPASS | TREE
    assert Diff(OLD, {name: MARKER}, BYPASS).flags == BYPASS
    assert Diff(OLD, {name: REMOVE}, BYPASS).flags == BYPASS
    assert Diff(OLD, {name: MARKER}, BYPASS | TRANSIENT).flags == BYPASS | TRANSIENT


@pytest.mark.parametrize("name", sorted(PERSISTENT_ONLY_TAGS))
def test_persistent_only_tags(name: str) -> None:
    msg = re.escape(f'Cannot set tag transiently: "{name}"')
    raises(DiffError, Diff, OLD, {name: MARKER}, TRANSIENT, match=msg)
    raises(DiffError, Diff, OLD, {name: REMOVE}, TRANSIENT, match=msg)
    Diff(OLD, {name: MARKER})
    Diff(OLD, {name: REMOVE})
    Diff.make_add({name: MARKER})


@pytest.mark.parametrize("name", sorted(TRANSIENT_ONLY_TAGS))
def test_transient_only_tags(name: str) -> None:
    msg = re.escape(f'Cannot set tag persistently: "{name}"')
    raises(DiffError, Diff, OLD, {name: MARKER}, match=msg)
    raises(DiffError, Diff, OLD, {name: REMOVE}, match=msg)
    raises(DiffError, Diff, OLD, {name: MARKER}, FORCE, match=msg)
    raises(DiffError, Diff.make_add, {name: MARKER}, match=msg)
    raises(DiffError, Diff, OLD, {name: MARKER}, REM, match=msg)
    Diff(OLD, {name: MARKER}, TRANSIENT)
    Diff(OLD, {name: REMOVE}, TRANSIENT)


def test_bin_cannot_be_transient() -> None:
    raises(DiffError, Diff, OLD, {"file": XStr("Bin", "text/plain")}, TRANSIENT, match="Bin tag")
    Diff(OLD, {"file": XStr("Bin", "text/plain")})
    Diff(OLD, {"file": [XStr("Bin", "text/plain")]}, TRANSIENT)


def test_checks_run_tag_by_tag() -> None:
    # the first bad tag decides the error, as in Haxall's check loop
    raises(DiffError, Diff, OLD, {"dis": MARKER, "curVal": Number(1), "Bad": MARKER})
    raises(InvalidTagNameError, Diff, OLD, {"Bad": MARKER, "curVal": Number(1)})
    raises(InvalidTagValueError, Diff, OLD, {"foo": NA, "curVal": Number(1)})


def test_flags_checked_before_tags() -> None:
    raises(DiffError, Diff, None, {"Bad": MARKER}, ADD | TRANSIENT, match="transient \\+ add")
    raises(InvalidRecIdError, Diff.make_add, {"Bad": MARKER}, Ref("a:b"))


# ------------------------------------------------------------------------------------------------
# check_diffs
# ------------------------------------------------------------------------------------------------


def test_check_diffs() -> None:
    a = Diff({"id": Ref("a"), "mod": MOD}, {"foo": MARKER})
    a2 = Diff({"id": Ref("a", "other dis"), "mod": MOD}, {"bar": MARKER})
    b = Diff({"id": Ref("b"), "mod": MOD}, {"foo": MARKER})
    ta = Diff({"id": Ref("a"), "mod": MOD}, {"curVal": Number(1)}, TRANSIENT)
    tb = Diff({"id": Ref("b"), "mod": MOD}, {"curVal": Number(1)}, TRANSIENT)
    raises(DiffError, check_diffs, [], match="No diffs to commit")
    check_diffs([a])
    check_diffs([ta])
    check_diffs([a, b])
    check_diffs((ta, tb))
    check_diffs([a, Diff.make_add({}), Diff.make_add({})])
    raises(DiffError, check_diffs, [a, tb], match="Cannot mix transient and persistent diffs")
    raises(DiffError, check_diffs, [ta, b], match="Cannot mix transient and persistent diffs")
    raises(DiffError, check_diffs, [a, b, a2], match="Duplicate diffs for a")
    raises(DiffError, check_diffs, [Diff.make_add({}, Ref("n")), Diff.make_add({}, Ref("n"))])


# ------------------------------------------------------------------------------------------------
# Result diffs, get_old / get_new, str
# ------------------------------------------------------------------------------------------------


def test_result_diff() -> None:
    src = Diff(OLD, {"dis": "New"}, FORCE)
    new_mod = MOD + timedelta(seconds=1)
    old = dict(OLD)
    new = {**old, "dis": "New", "mod": new_mod}
    rid = Ref("rec-1", "New")
    res = Diff._result(src, rid, old, new, new_mod)
    assert res.id is rid
    assert res.old_mod == MOD
    assert res.old_rec is old
    assert res.new_rec is new
    assert res.new_mod == new_mod
    assert res.changes is src.changes
    assert res.flags == src.flags
    assert res.get_old("dis") == "Rec One"
    assert res.get_new("dis") == "New"
    assert res.get_new("missing") is None
    assert res.get_new("missing", 5) == 5
    # source unchanged
    assert src.old_rec is None and src.new_rec is None and src.new_mod is None


def test_get_old_and_new_before_commit() -> None:
    d = Diff(OLD, {"dis": "x"})
    assert d.get_old("dis") is None
    assert d.get_new("dis") is None
    assert d.get_new("dis", "def") == "def"


def test_str_forms() -> None:
    add = Diff.make_add({"dis": "A b", "site": MARKER, "n": Number(3, "kW")}, Ref("x"))
    assert str(add) == '+{id:@x,dis:"A b",site,n:3kW}'
    upd = Diff(OLD, {"siteRef": Ref("s", "Site"), "foo": REMOVE, "d": date(2024, 1, 2)})
    assert str(upd) == "^{id:@rec-1,siteRef:@s,foo:R,d:2024-01-02}"
    rem = Diff(OLD, None, REM)
    assert str(rem) == "-{id:@rec-1}"
    assert repr(rem) == "<Diff -{id:@rec-1}>"


def test_str_with_new_mod() -> None:
    src = Diff(OLD, {"dis": "$5", "l": [Number(1), "a"]})
    mod = datetime(2024, 1, 2, 3, 4, 5, 120000, tzinfo=timezone.utc)
    res = Diff._result(src, src.id, OLD, {"id": src.id, "mod": mod}, mod)
    assert str(res) == '^{id:@rec-1,mod:2024-01-02T03:04:05.12Z,dis:"\\$5",l:[1,"a"]}'
    ny = datetime(2024, 1, 2, 3, 4, 5, tzinfo=NY)
    res = Diff._result(src, src.id, OLD, None, ny)
    assert str(res).startswith("^{id:@rec-1,mod:2024-01-02T03:04:05-05:00,")
