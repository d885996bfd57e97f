"""Haystack value kinds: formats.md sections 1 and 6.4, folio.md section 0."""

from __future__ import annotations

import copy
import math
import pickle
import re
from datetime import date, datetime, time, timedelta, timezone

import pytest
import vectors
from hypothesis import given
from hypothesis import strategies as st

import hxredis as hx
from hxredis.values import Grid, GridCol, dis_of, is_tag_name, kind_of, macro

N = hx.Number
UTC = hx.tz("UTC")


def _vecs(prefix: str, exclude: tuple[str, ...] = ()) -> list[vectors.Vector]:
    """The section 6.4 vectors whose id starts with ``prefix``."""
    return [v for v in vectors.section("6.4") if v.id.startswith(prefix) and v.id not in exclude]


NY = hx.tz("New_York")

# ------------------------------------------------------------------------------------------------
# Singletons
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("single", "cls", "text"),
    [
        (hx.MARKER, hx.Marker, "hx.MARKER"),
        (hx.NA, hx.NAType, "hx.NA"),
        (hx.REMOVE, hx.RemoveType, "hx.REMOVE"),
    ],
)
def test_singletons(single: object, cls: type, text: str) -> None:
    assert cls() is single
    assert repr(single) == text
    assert pickle.loads(pickle.dumps(single)) is single
    assert copy.copy(single) is single and copy.deepcopy(single) is single
    assert single == single and single != hx.MARKER if single is not hx.MARKER else True


# ------------------------------------------------------------------------------------------------
# Number
# ------------------------------------------------------------------------------------------------


def test_number_basics() -> None:
    n = N(3, "s")
    assert n.val == 3.0 and isinstance(n.val, float)
    assert n.unit == "sec"
    assert repr(n) == "Number(3.0, 'sec')"
    assert repr(N(2.5)) == "Number(2.5)"
    assert str(n) == "3sec"
    assert N(1, "USD").unit == "$"
    with pytest.raises(AttributeError):
        n.val = 4  # type: ignore[misc]
    with pytest.raises(hx.ParseError):
        N(1, "notAUnit")
    with pytest.raises(TypeError):
        N("3")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        N(True)


def test_number_equality_and_hash() -> None:
    # NF-28
    assert N(75, "°F") != N(75)
    assert N(75, "°F") == N(75, "fahrenheit")
    assert N(math.nan) == N(math.nan)
    assert N(2, "min") != N(120, "s")
    assert N(-0.0) == N(0.0) and hash(N(-0.0)) == hash(N(0.0))
    assert hash(N(math.nan, "%")) == hash(N(math.nan, "%"))
    assert N(3, "s") == N(3, "second") and hash(N(3, "s")) == hash(N(3, "sec"))
    assert N(3) != 3 and N(3) != 3.0 and N(3) not in (3, 3.0) and 3 not in {N(3)}
    assert len({N(1), N(1.0), N(1, "s")}) == 2


def test_number_ordering() -> None:
    assert N(1) < N(2) <= N(2) and N(3) > N(2) >= N(2)
    assert N(math.nan) < N(-math.inf)
    assert sorted([N(2, "s"), N(1, "s")]) == [N(1, "s"), N(2, "s")]
    with pytest.raises(TypeError):
        _ = N(1, "s") < N(2)
    with pytest.raises(TypeError):
        _ = N(1) < 2  # type: ignore[operator]
    # Haxall Number.compare: durations compare across units
    assert N(2, "min").compare(N(119, "s")) == 1
    assert N(1, "hr").compare(N(60, "min")) == 0
    assert N(1).compare(N(5, "s")) == -1
    assert N(math.nan).compare(N(1)) == -1 and N(math.nan).compare(N(math.nan)) == 0
    with pytest.raises(TypeError):
        N(1, "s").compare(N(1, "m"))


def test_number_is_int() -> None:
    assert N(2.0).is_int and N(-1e12).is_int and N(1e12).is_int
    assert not N(1e12 + 1).is_int and not N(0.5).is_int
    assert not N(math.nan).is_int and not N(math.inf).is_int


def test_number_pickle() -> None:
    for n in (N(3, "s"), N(math.nan), N(-1.5)):
        assert pickle.loads(pickle.dumps(n)) == n


@pytest.mark.parametrize("vec", _vecs("NF-", exclude=("NF-28",)), ids=lambda v: v.id)
def test_number_from_str(vec: vectors.Vector) -> None:
    """NF vectors (Number.fromStr, strict unit, toStr)."""
    source, expected = vec.fields
    if source.startswith("toStr "):
        assert str(vectors.value(source[6:])) == vectors.value(expected)
        return
    strict = source.startswith("strict ")
    text = vectors.value(source[7:] if strict else source)
    err = vectors.error(expected)
    if err is not None:
        with pytest.raises(hx.ParseError):
            N.from_str(text, strict)
    else:
        assert N.from_str(text, strict) == vectors.value(expected)


# ------------------------------------------------------------------------------------------------
# Ref
# ------------------------------------------------------------------------------------------------


def test_ref_basics() -> None:
    r = hx.Ref("a", "A")
    assert r.id == "a" and r.dis == "A" and hx.Ref("a").dis is None
    assert str(r) == "a"
    assert repr(r) == "Ref('a', 'A')"
    assert hx.Ref("a", "A") == hx.Ref("a", "B") and hash(hx.Ref("a", "A")) == hash(hx.Ref("a"))
    assert hx.Ref("a") != hx.Ref("b") and hx.Ref("a") != "a"
    assert hx.Ref.null_ref == hx.Ref("null") and hx.Ref.null_ref.is_null
    with pytest.raises(AttributeError):
        r.id = "x"  # type: ignore[misc]
    r._set_dis("live")
    assert r.dis == "live"
    copy_ = pickle.loads(pickle.dumps(hx.Ref("x:y", "X")))
    assert copy_.id == "x:y" and copy_.dis == "X"


@pytest.mark.parametrize(
    ("text", "msg"),
    [
        ("", "Invalid Ref id (empty string): "),
        ("a b", "Invalid Ref id (invalid char ' '): a b"),
        ("a/b", "Invalid Ref id (invalid char '/'): a/b"),
        ("é", None),
        ("a@b", None),
    ],
)
def test_ref_invalid(text: str, msg: str | None) -> None:
    """RF-17."""
    with pytest.raises(hx.ParseError) as info:
        hx.Ref(text)
    assert str(info.value).startswith("Invalid Ref id (")
    if msg is not None:
        assert str(info.value) == msg


def test_ref_gen() -> None:
    ids = {hx.Ref.gen().id for _ in range(50)}
    assert len(ids) == 50
    for rid in ids:
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{8}", rid)
    secs = int(next(iter(ids))[:8], 16)
    now = int(
        (datetime.now(timezone.utc) - datetime(2000, 1, 1, tzinfo=timezone.utc)).total_seconds()
    )
    assert abs(now - secs) < 3600


@pytest.mark.parametrize("vec", _vecs("RF-", exclude=("RF-16", "RF-17")), ids=lambda v: v.id)
def test_ref_segments(vec: vectors.Vector) -> None:
    """RF-01..RF-15."""
    if vec.id == "RF-15":
        for rid in ("x", "foo", "1f729e3b-0b21ed12"):
            assert hx.Ref(rid).is_rel
        for rid in ("x:y", "x:", "p:demo", "p:demo:r", "p:demo:r:", "p:demo:r:foo", "null"):
            assert not hx.Ref(rid).is_rel
        return
    text, expected = vec.fields
    assert hx.Ref(vectors.value(text)).segments == vectors.value(expected)


def test_ref_abs_rel() -> None:
    r = hx.Ref("abc", "Dis")
    a = r.to_abs("p:demo:r:")
    assert a.id == "p:demo:r:abc" and a.dis == "Dis"
    back = a.to_rel("p:demo:r:")
    assert back.id == "abc" and back.dis == "Dis"
    assert r.to_rel("p:demo:r:") is r
    assert hx.Ref("p:x").to_rel("p:x") == hx.Ref("p:x")  # id must be longer than the prefix
    for bad in ("p", "p x:", "", "p:demo"):
        with pytest.raises(ValueError):
            r.to_abs(bad)


# ------------------------------------------------------------------------------------------------
# Uri, Symbol, XStr, Coord
# ------------------------------------------------------------------------------------------------


def test_uri_xstr() -> None:
    assert hx.Uri("a").val == "a" and hx.Uri("a") == hx.Uri("a") and hx.Uri("a") != "a"
    assert hash(hx.Uri("a")) == hash(hx.Uri("a"))
    x = hx.XStr("Bin", "text/plain")
    assert x.type == "Bin" and x.val == "text/plain"
    assert x == hx.XStr("Bin", "text/plain") and x != hx.XStr("Span", "text/plain")
    with pytest.raises(hx.ParseError):
        hx.XStr("bin", "x")


@pytest.mark.parametrize("vec", _vecs("SY-"), ids=lambda v: v.id)
def test_symbol(vec: vectors.Vector) -> None:
    """SY vectors (Symbol.parse)."""
    text = vectors.value(vec.fields[0])
    expected = vec.fields[1]
    if expected.startswith("ERR("):
        msg = vectors.error(expected).msg.replace("_", text)
        with pytest.raises(hx.ParseError) as info:
            hx.Symbol(text)
        assert str(info.value) == msg
        return
    m = re.fullmatch(r"(\w+), (?:name )?'([^']*)', (?:parts )?(.*)", expected)
    assert m, expected
    sym = hx.Symbol(text)
    assert sym.val == text and str(sym) == text
    assert (sym.type, sym.name, sym.parts) == (m[1], m[2], vectors.value(m[3]))
    assert sym == hx.Symbol(text) and sym != text


@pytest.mark.parametrize("vec", _vecs("CO-"), ids=lambda v: v.id)
def test_coord(vec: vectors.Vector) -> None:
    """CO vectors: writer text, ranges."""
    if vec.id == "CO-25":
        for lat, lng in ((91, 12), (-90.2, 12), (13, 180.009), (13, -181)):
            with pytest.raises(ValueError):
                hx.Coord(lat, lng)
        return
    if vec.id == "CO-26":
        for ulat, ulng in ((90000001, 0), (-90000001, 0), (0, 180000001), (0, -180000001)):
            with pytest.raises(ValueError):
                hx.Coord.from_micro(ulat, ulng)
        return
    if vec.id == "CO-27":
        return  # Coord.fromStr is covered by the Zinc reader tests
    coord = vectors.value(vec.fields[0])
    assert str(coord) == vectors.value(vec.fields[1])
    assert hx.zinc.loads(str(coord)) == coord


def test_coord_fields() -> None:
    c = hx.Coord(37.65, -77.61)
    assert (c.ulat, c.ulng) == (37650000, -77610000)
    assert (c.lat, c.lng) == (37.65, -77.61)
    assert c == hx.Coord.from_micro(37650000, -77610000)
    assert pickle.loads(pickle.dumps(c)) == c
    for bad in (math.nan, math.inf):
        with pytest.raises(ValueError):
            hx.Coord(bad, 0)


# ------------------------------------------------------------------------------------------------
# Span, HisItem, Grid
# ------------------------------------------------------------------------------------------------


def test_span() -> None:
    a = datetime(2020, 1, 1, tzinfo=NY)
    b = datetime(2020, 1, 2, tzinfo=NY)
    s = hx.Span(a, b)
    assert s.start == a and s.end == b
    assert s.contains(a) and not s.contains(b) and s.contains(a + timedelta(hours=1))
    assert s == hx.Span(a, b) and s != hx.Span(a, a)
    with pytest.raises(ValueError):
        hx.Span(b, a)
    with pytest.raises(ValueError):
        hx.Span(a, b.astimezone(UTC))
    with pytest.raises(ValueError):
        hx.Span(datetime(2020, 1, 1), datetime(2020, 1, 2))


def test_his_item() -> None:
    t1 = datetime(2020, 1, 1, tzinfo=UTC)
    t2 = t1 + timedelta(seconds=1)
    a = hx.HisItem(t1, N(5))
    ts, val = a
    assert ts == t1 and val == N(5)
    assert a == hx.HisItem(t1, N(5)) and a != hx.HisItem(t1, N(6))
    assert hx.HisItem(t1, N(9)) < hx.HisItem(t2, N(1))
    assert sorted([hx.HisItem(t2, N(1)), a]) == [a, hx.HisItem(t2, N(1))]
    assert not hx.HisItem(t1, N(9)) < hx.HisItem(t1, N(1))
    with pytest.raises(AttributeError):
        a.ts = t2  # type: ignore[misc]


def test_grid() -> None:
    g = Grid({"foo": hx.MARKER}, ["a", ("b", {"dis": "B"})], [[N(1), None], {"a": None, "b": "x"}])
    assert g.col_names == ["a", "b"]
    assert g.cols[1] == GridCol("b", {"dis": "B"})
    assert g.rows == [{"a": N(1)}, {"b": "x"}]
    assert len(g) == 2 and g[1] == {"b": "x"} and list(g) == g.rows
    assert g == Grid({"foo": hx.MARKER}, [GridCol("a", {}), GridCol("b", {"dis": "B"})], g.rows)
    assert g != Grid({}, ["a", "b"], g.rows)
    assert pickle.loads(pickle.dumps(g)) == g
    with pytest.raises(ValueError):
        Grid({}, ["a"], [[1, 2]])


# ------------------------------------------------------------------------------------------------
# kind_of, tag names
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("val", "kind"),
    [
        (hx.MARKER, "Marker"),
        (hx.NA, "NA"),
        (hx.REMOVE, "Remove"),
        (True, "Bool"),
        (N(1), "Number"),
        ("s", "Str"),
        (hx.Uri("u"), "Uri"),
        (hx.Ref("r"), "Ref"),
        (hx.Symbol("s"), "Symbol"),
        (date(2020, 1, 1), "Date"),
        (time(1, 2), "Time"),
        (datetime(2020, 1, 1, tzinfo=NY), "DateTime"),
        (hx.Coord(1, 2), "Coord"),
        (hx.XStr("Bin", "x"), "XStr"),
        (hx.Span(datetime(2020, 1, 1, tzinfo=NY), datetime(2020, 1, 1, tzinfo=NY)), "Span"),
        ([], "List"),
        ({}, "Dict"),
        (Grid({}, ["a"], []), "Grid"),
    ],
)
def test_kind_of(val: object, kind: str) -> None:
    assert kind_of(val) == kind


@pytest.mark.parametrize("val", [1, 1.5, None, b"x", datetime(2020, 1, 1), object(), (1,)])
def test_kind_of_rejects(val: object) -> None:
    with pytest.raises(TypeError, match=type(val).__name__ if val is not None else "NoneType"):
        kind_of(val)


@pytest.mark.parametrize("vec", _vecs("TN-"), ids=lambda v: v.id)
def test_tag_names(vec: vectors.Vector) -> None:
    """TN vectors (Etc.isTagName)."""
    valid = vec.fields[0] == "valid"
    names = re.findall(r"'((?:[^'\\]|\\.)*)'", vec.fields[1])
    assert names
    for name in names:
        name = vectors.value(f"'{name}'")
        assert is_tag_name(name) is valid, name


# ------------------------------------------------------------------------------------------------
# Display strings
# ------------------------------------------------------------------------------------------------


def test_dis_of_order() -> None:
    rid = hx.Ref("abc")
    assert dis_of({"id": rid}) == "abc"
    assert dis_of({"id": hx.Ref("abc", "Live")}) == "Live"
    assert dis_of({}) == ""
    assert dis_of({"tag": "T", "id": rid}) == "T"
    assert dis_of({"def": hx.Symbol("foo"), "tag": "T"}) == "foo"
    assert dis_of({"name": "n", "def": hx.Symbol("foo")}) == "n"
    assert dis_of({"disKey": "ui::key", "name": "n"}) == "ui::key"
    assert dis_of({"disMacro": "$name!", "disKey": "k", "name": "n"}) == "n!"
    assert dis_of({"dis": "D", "disMacro": "$name", "name": "n"}) == "D"
    assert dis_of({"dis": N(3, "s")}) == "3sec"


def test_macro() -> None:
    rec = {
        "aRef": hx.Ref("A-ID", "A-0"),
        "bRef": hx.Ref("B-ID"),
        "navName": "B-0",
        "num": N(12.5, "%"),
        "flag": True,
        "m": hx.MARKER,
        "d": date(2020, 1, 2),
    }
    assert macro("$aRef $navName", rec) == "A-0 B-0"
    assert macro("${aRef}-${navName}", rec) == "A-0-B-0"
    assert macro("$bRef", rec) == "B-ID"
    assert macro("$num|$flag|$d", rec) == "12.5%|true|2020-01-02"
    assert macro("$missing and ${gone}", rec) == "$missing and ${gone}"
    assert macro("cost $", rec) == "cost $"
    assert macro("${navName", rec) == "${navName"
    assert macro("$<pod::key> x", rec) == "$<pod::key> x"
    assert macro("$navName$navName", rec) == "B-0B-0"
    assert macro("no vars", rec) == "no vars"


@given(st.text(alphabet="ab${}<>_ x", max_size=30))
def test_macro_never_fails(pattern: str) -> None:
    assert isinstance(macro(pattern, {"a": "A", "b": hx.Ref("b", "B")}), str)


@given(st.integers(-90_000_000, 90_000_000), st.integers(-180_000_000, 180_000_000))
def test_coord_text_round_trip(ulat: int, ulng: int) -> None:
    coord = hx.Coord.from_micro(ulat, ulng)
    assert hx.Coord(coord.lat, coord.lng) == coord
    assert hx.zinc.loads(str(coord)) == coord


def test_coord_truncates_sub_micro_degrees() -> None:
    assert hx.Coord(37.6543219, -0.0000019).ulat == 37654321
    assert hx.Coord(0, -0.0000019).ulng == -1


def test_generated_refs_never_repeat_within_a_process() -> None:
    ids = [hx.Ref.gen().id for _ in range(100_000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 17 and i[8] == "-" for i in ids[:10])


def test_generated_refs_differ_in_a_forked_child() -> None:
    import os

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next id
        os.write(write_end, hx.Ref.gen().id.encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read_end, 64).decode()
    assert child.split("-")[1] != hx.Ref.gen().id.split("-")[1]
