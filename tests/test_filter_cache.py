"""Filter caches bounded by size (parse and plan caches; large filters are not kept) and the
id prefix rewrite of Ref literals (one pass, cached on the filter)."""

from __future__ import annotations

import gc
import re
import tracemalloc

from helpers.folio_util import add_rec
from hypothesis import given
from hypothesis import strategies as st

import hxredis as hx
from hxredis import filter as filter_module
from hxredis import query_plan
from hxredis.filter import PARSE_CACHE_CHARS, PARSE_CACHE_ENTRIES, PARSE_CACHE_MAX_TEXT, Or
from hxredis.lru import BoundedCache

PREFIX = "p:demo:r:"


def _ref_terms(n: int, start: int = 0) -> str:
    return " or ".join(f"id == @r{i}" for i in range(start, start + n))


# -- the bounded cache ---------------------------------------------------------------------------


def test_bounded_cache_drops_least_recently_used_by_count_and_by_size() -> None:
    cache: BoundedCache[str, str] = BoundedCache(max_entries=3, max_size=10, max_item=6)
    for key in "abc":
        assert cache.get(key, 2, lambda k=key: k.upper()) == key.upper()
    cache.get("a", 2, lambda: "not made again")  # a is now the most recent
    cache.get("d", 2, lambda: "D")  # over 3 entries: b goes
    assert cache.get("b", 2, lambda: "made again") == "made again"
    assert len(cache) == 3 and cache.size == 6
    cache.get("e", 6, lambda: "E")  # size 12 > 10: the oldest go until it fits
    assert cache.size <= 10 and cache.get("e", 6, lambda: "no") == "E"
    assert cache.get("big", 7, lambda: "BIG") == "BIG"  # over max_item: never kept
    assert cache.get("big", 7, lambda: "again") == "again"
    cache.clear()
    assert len(cache) == 0 and cache.size == 0


def test_small_filters_are_cached_large_ones_are_not() -> None:
    small = 'site and dis == "cache test"'
    assert hx.Filter.parse(small) is hx.Filter.parse(small)
    large = _ref_terms(PARSE_CACHE_MAX_TEXT // 10)
    assert len(large) > PARSE_CACHE_MAX_TEXT
    first = hx.Filter.parse(large)
    assert first == hx.Filter.parse(large) and first is not hx.Filter.parse(large)
    assert query_plan.plan(first) is not query_plan.plan(first)


def test_parse_and_plan_caches_stay_bounded() -> None:
    texts = [_ref_terms(PARSE_CACHE_MAX_TEXT // 20, start=i * 10_000) for i in range(45)]
    assert sum(map(len, texts)) > PARSE_CACHE_CHARS
    for text in texts:
        query_plan.plan(text)
    for cache in (filter_module._parse_cache, query_plan._plans):
        assert cache.size <= PARSE_CACHE_CHARS and len(cache) <= PARSE_CACHE_ENTRIES
    assert hx.Filter.parse(texts[-1]) is hx.Filter.parse(texts[-1])  # still cached


def test_large_filters_do_not_stay_in_memory() -> None:
    """The issue's case scaled down: distinct large filters, parsed and planned, are freed."""
    texts = [_ref_terms(5_000, start=i * 10_000) for i in range(3)]
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for text in texts:
            query_plan.plan(text).filter.with_abs_refs(PREFIX).compile()
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    one_filter = 30 * len(texts[0])  # a parsed filter takes some 40 bytes per character
    assert kept < one_filter


# -- Ref literals made absolute ------------------------------------------------------------------

TERMS = st.one_of(
    st.builds("id == @{}".format, st.from_regex(r"r[0-9]{1,3}", fullmatch=True)),
    st.builds("siteRef == @{}".format, st.from_regex(r"[a-z][a-z0-9]{0,4}", fullmatch=True)),
    st.builds("equipRef != @{}".format, st.sampled_from(["x:abs", "u:other", "e1"])),
    st.sampled_from(["point", "not his", "curVal > 3", 'dis == "@r1"', "siteRef->area"]),
)


def _logic(terms: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda op, parts: "(" + f" {op} ".join(parts) + ")",
        st.sampled_from(["and", "or"]),
        st.lists(terms, min_size=1, max_size=6),
    )


FILTERS = st.recursive(TERMS, _logic, max_leaves=30)


def _absolute(text: str) -> str:
    """The filter text with relative Ref literals (``@name`` without a colon) made absolute."""
    return re.sub(r"@([A-Za-z0-9_~.-]+)(?![A-Za-z0-9_~.:-])", rf"@{PREFIX}\1", text)


@given(FILTERS)
def test_with_abs_refs_equals_parsing_the_absolute_text(text: str) -> None:
    f = hx.Filter.parse(text)
    absolute = _absolute(text).replace(f'"@{PREFIX}r1"', '"@r1"')  # a Str, not a Ref
    expected = hx.Filter.parse(absolute)
    found = f.with_abs_refs(PREFIX)
    assert found == expected and str(found) == str(expected)
    assert f.with_abs_refs(PREFIX) is found  # kept on the filter
    assert found.with_abs_refs(PREFIX) is found  # nothing left to rewrite


def test_with_abs_refs_gives_the_filter_itself_without_relative_refs() -> None:
    f = hx.Filter.parse("point and siteRef == @x:abs")
    assert f.with_abs_refs(PREFIX) is f
    other = hx.Filter.parse("siteRef == @s1")
    assert str(other.with_abs_refs("u:")) == "siteRef == @u:s1"
    assert str(other.with_abs_refs(PREFIX)) == f"siteRef == @{PREFIX}s1"  # another prefix


def test_with_abs_refs_many_terms_in_one_pass() -> None:
    n = 20_000
    f = hx.Filter.parse(_ref_terms(n))
    found = f.with_abs_refs(PREFIX)
    assert isinstance(found, Or) and len(found.parts) == n
    assert found == hx.Filter.parse(_absolute(_ref_terms(n)))


def test_with_abs_refs_rejects_a_bad_prefix() -> None:
    f = hx.Filter.parse("id == @a")
    for bad in ("no colon", "u"):
        try:
            f.with_abs_refs(bad)
        except ValueError as exc:
            assert "prefix" in str(exc).lower()
        else:
            raise AssertionError(f"{bad!r} accepted")
    try:
        f.with_abs_refs(None)  # type: ignore[arg-type]
    except TypeError as exc:
        assert "id_prefix must be str" in str(exc)
    else:
        raise AssertionError("None accepted")


def test_folio_with_id_prefix_reads_a_filter_of_many_refs(open_db) -> None:
    db = open_db(id_prefix="u:")
    ids = [add_rec(db, {"dis": f"R{i}"}, hx.Ref(f"r{i}"))["id"].id for i in range(5)]
    text = _ref_terms(3_000) + " or id == @u:r4"
    found = sorted(rec["id"].id for rec in db.read_all(text))
    assert found == sorted(ids)
    assert db.read_count(text) == 5
