"""The streaming record readers: ``zinc.iter_rows``, ``hx.json.iter_rows`` and the command
line's ``read_records``: the same records (and ParseErrors) as the whole-document readers,
with a bounded Python heap."""

from __future__ import annotations

import io
import json
import random
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import vectors
from hypothesis import given
from hypothesis import strategies as st
from test_zinc import grids

import hxredis as hx
from hxredis import zinc
from hxredis.cli.formats import read_records, write_records
from hxredis.tokenizer import Tokenizer
from hxredis.values import Grid

hxjson = hx.json


def _outcome(fn: Callable[[], Any]) -> Any:
    """What ``fn()`` returns, or its ParseError's message."""
    try:
        return fn()
    except hx.ParseError as exc:
        return ("ParseError", str(exc))


def _zinc_whole(text: str) -> Any:
    return _outcome(lambda: zinc.loads(text).rows)


def _zinc_stream(text: str) -> Any:
    return _outcome(lambda: list(zinc.iter_rows(io.StringIO(text, newline=""))))


class Trickle:
    """A text stream that returns at most ``size`` chars per read, whatever is asked."""

    def __init__(self, text: str, size: int) -> None:
        self._text, self._size, self._pos = text, size, 0

    def read(self, n: int = -1, /) -> str:
        chunk = self._text[self._pos : self._pos + self._size]
        self._pos += len(chunk)
        return chunk


def _json_whole(text: str) -> Any:
    def records() -> list[dict[str, Any]]:
        val = hxjson.loads(text)
        if isinstance(val, Grid):
            return val.rows
        if isinstance(val, list) and all(isinstance(v, dict) for v in val):
            return val
        if isinstance(val, dict):
            return [val]
        raise hx.ParseError("not records")

    return _outcome(records)


def _same_outcome(stream: Any, whole: Any) -> bool:
    """The same records, or a ParseError both (its message may differ: the streaming reader
    reports the first fault it reaches, without the whole document)."""
    return stream == whole if isinstance(whole, list) else stream[0] == "ParseError"


def _json_stream(text: str, size: int = 1 << 16) -> Any:
    return _outcome(lambda: list(hxjson.iter_rows(Trickle(text, size))))


# ------------------------------------------------------------------------------------------------
# The tokenizer fed line by line
# ------------------------------------------------------------------------------------------------


def _tokens(tok: Tokenizer) -> Any:
    """Every token (value as Zinc, line, col) up to eof, or the ParseError and where."""
    out = []
    try:
        while (t := tok.next()).type != "eof":
            val = t.val if t.val is None or isinstance(t.val, str) else zinc.dumps(t.val)
            out.append((t.type, val, t.line, t.col))
        out.append(("eof", None, t.line, t.col))
    except hx.ParseError as exc:
        out.append((str(exc), exc.line, exc.col))
    return out


def _line_fed(text: str) -> Tokenizer:
    lines = iter(io.StringIO(text, newline=""))
    return Tokenizer("", lambda: next(lines, ""))


_TEXTS = [
    vectors.value(v.fields[0])
    for v in vectors.section("6.1") + vectors.section("6.2")
    if v.fields and v.fields[0][:1] in "'\""
]
_TEXTS += ['a  "x\ny" b\n  @c // note\n/* one\ntwo */ d', '"""a\n"b"\n"""\n/* x\n/* y */\n*/ 1']


@pytest.mark.parametrize("text", _TEXTS)
def test_tokens_read_line_by_line_are_the_tokens_of_the_whole_text(text: str) -> None:
    assert _tokens(_line_fed(text)) == _tokens(Tokenizer(text))


_TOKEN_BITS = st.sampled_from([*'"\n\r`\\/*a1 -:@^T', "2024-01-02T03:04:05Z", '"""', "<<"])


@given(st.one_of(st.text(max_size=40), st.lists(_TOKEN_BITS, max_size=30).map("".join)))
def test_fuzz_tokens_read_line_by_line(text: str) -> None:
    assert _tokens(_line_fed(text)) == _tokens(Tokenizer(text))


# ------------------------------------------------------------------------------------------------
# Zinc
# ------------------------------------------------------------------------------------------------


@given(grids)
def test_zinc_rows_as_loads_reads_them(grid: Grid) -> None:
    text = zinc.dumps_grid(grid)
    rows = list(zinc.iter_rows(io.StringIO(text, newline="")))
    assert rows == zinc.loads(text).rows
    vectors.assert_same(Grid(grid.meta, grid.cols, rows), grid)


_GRID_VECTORS = [
    v
    for v in vectors.section("6.2") + vectors.section("6.5")
    if v.fields and v.fields[0].startswith("'ver")
]


@pytest.mark.parametrize("vec", _GRID_VECTORS, ids=lambda v: v.id)
def test_zinc_grid_vectors(vec: vectors.Vector) -> None:
    text = vectors.value(vec.fields[0])
    assert _zinc_stream(text) == _zinc_whole(text)


MULTI_LINE = [
    # a string with raw newlines, a triple-quoted one, a block comment over lines
    'ver:"3.0"\na,b\n"one\ntwo\n\nthree",1\n"""x\n"y"\n""",2\n3 /* a\n\n b */,4\n',
    # nested grids, one holding a nested grid and a string over lines
    'ver:"3.0"\nv,w\n<<\nver:"3.0"\nx\n<<\nver:"3.0"\ny\n"a\nb"\n\n>>\n\n>>,1\n<<ver:"3.0"\nz\n1>>,2\n',
    # CRLF and CR line ends, comments, trailing blank lines
    'ver:"3.0" m\r\na // c\r\n1\r"s\r\nt"\r\n\r\n\r\n',
    # a last row without a newline, and a grid without rows
    'ver:"3.0"\na\n1\n2',
    'ver:"3.0"\na,b\n',
]


@pytest.mark.parametrize("text", MULTI_LINE)
def test_zinc_rows_over_several_lines(text: str) -> None:
    assert _zinc_stream(text) == _zinc_whole(text)
    assert isinstance(_zinc_whole(text), list)


MALFORMED = [
    'ver:"3.0"\na,b\n1,2\n3,foo\n',
    'ver:"3.0"\na\n"open\nstring\n',
    'ver:"3.0"\na\n<<\nver:"3.0"\nb\n1\n',
    'ver:"3.0"\na\n1\n\n2\n',
    'ver:"4.0"\na\n',
    'ver:"3.0"\n\n',
    'ver:"3.0"\na\n1,2\n',
    '"not a grid"\n',
    "",
]


@pytest.mark.parametrize("text", MALFORMED)
def test_zinc_malformed_is_the_same_parse_error(text: str) -> None:
    got = _zinc_stream(text)
    assert got[0] == "ParseError"
    if text.startswith("ver"):
        assert got == _zinc_whole(text)


@pytest.mark.parametrize("levels", [zinc.MAX_DEPTH - 1, zinc.MAX_DEPTH])
def test_zinc_rows_nest_as_deep_as_loads_allows(levels: int) -> None:
    text = 'ver:"3.0"\na\n1\n' + "[" * levels + "]" * levels + "\n"
    assert _zinc_stream(text) == _zinc_whole(text)
    assert isinstance(_zinc_whole(text), list) == (levels < zinc.MAX_DEPTH)


@given(grids, st.data())
def test_zinc_mutated_grid_is_read_or_refused_as_loads_does(grid: Grid, data: Any) -> None:
    text = zinc.dumps_grid(grid)
    i = data.draw(st.integers(len('ver:"3.0"'), len(text)))  # the document stays a grid
    j = data.draw(st.integers(i, min(len(text), i + 3)))
    text = text[:i] + data.draw(st.text('\n\r,"<>/*` ab1', max_size=3)) + text[j:]
    assert _zinc_stream(text) == _zinc_whole(text)


def test_zinc_rows_come_before_the_end_of_the_text_is_read() -> None:
    lines_read = []

    def lines() -> Iterator[str]:
        for n in range(1_000_000):
            lines_read.append(n)
            yield 'ver:"3.0"\n' if n == 0 else "n\n" if n == 1 else f"{n}\n"

    rows = zinc.iter_rows(lines())
    assert [next(rows) for _ in range(3)] == [{"n": hx.Number(n)} for n in (2, 3, 4)]
    assert len(lines_read) <= 6


# ------------------------------------------------------------------------------------------------
# Haystack JSON
# ------------------------------------------------------------------------------------------------


def _shuffled(obj: Any, rnd: random.Random) -> Any:
    """``obj`` with the keys of its top-level object in a random order."""
    if not isinstance(obj, dict):
        return obj
    items = list(obj.items())
    rnd.shuffle(items)
    return dict(items)


@given(grids, st.integers(1, 40), st.sampled_from([None, 0, 2]), st.randoms())
def test_json_rows_as_loads_reads_them(
    grid: Grid, size: int, indent: int | None, rnd: random.Random
) -> None:
    obj = _shuffled(hxjson.encode(grid), rnd)
    text = json.dumps(obj, indent=indent, ensure_ascii=rnd.random() < 0.5)
    whole, stream = _json_whole(text), _json_stream(text, size)
    assert _same_outcome(stream, whole)
    if isinstance(whole, list):  # the JSON reader refuses some names Zinc takes (``__``)
        assert stream == grid.rows


@given(st.lists(grids, max_size=2), st.integers(1, 9))
def test_json_list_of_dicts_and_single_dict(some: list[Grid], size: int) -> None:
    recs = [row for grid in some for row in grid.rows]
    text = json.dumps([hxjson.encode(r) for r in recs], indent=1)
    assert _same_outcome(_json_stream(text, size), _json_whole(text))
    for rec in recs:
        one = hxjson.dumps(rec)
        assert _same_outcome(_json_stream(one, size), _json_whole(one))


JSON_CASES = [
    "",
    "  ",
    "12",
    "[1]",
    "[1,]",
    "[{},]",
    "[]",
    "{}",
    '{"a":1} x',
    '{"a":1',
    '{"a" 1}',
    '{"a":1 "b":2}',
    "{1:2}",
    '[{"a":1}\n,\n{"b":}]',
    '{"_kind":"ref","val":"x"}',
    '{"_kind":"grid","meta":{},"cols":[],"rows":[{"a":1}]}',
    '{"_kind":"grid","meta":{"ver":"3.0"},"cols":[{"name":"A"}],"rows":[{"a":1}]}',
    '{"_kind":"grid","meta":{"ver":"3.0"},"cols":[{"name":"a"}],"rows":[1]}',
    '{"_kind":"grid","meta":{"ver":"3.0"},"cols":[{"name":"a"}],"rows":5}',
    '{"_kind":"grid","meta":{"ver":"3.0"},"cols":[{"name":"a"}],"rows":[{"a":1}]}',
    '{"rows":[{"a":1}],"_kind":"grid","cols":[{"name":"a"}],"meta":{"ver":"3.0"}}',
    '{"rows":[{"a":1}]}',
    '{"a":"\\u12"}',
    '{"a":-Infinity,"b":NaN}',
    '{"n":12345678901234567890123}',
    '{"a":9007199254740992.0,"b":-12.5e-3,"c":[true,false,null]}',
    '[{"a":"x\u00e9\\u00e9"}, {"b":{"_kind":"number","val":"INF","unit":"kW"}}]',
]


@pytest.mark.parametrize("text", JSON_CASES)
@pytest.mark.parametrize("size", [1, 3, 1 << 16])
def test_json_documents_and_faults(text: str, size: int) -> None:
    whole, stream = _json_whole(text), _json_stream(text, size)
    assert _same_outcome(stream, whole)
    if "Invalid JSON" in str(whole) and text.strip().startswith("{"):
        assert stream == whole  # the same message, with the same line and column


@given(grids, st.data())
def test_json_mutated_grid_is_read_or_refused_as_loads_does(grid: Grid, data: Any) -> None:
    text = json.dumps(hxjson.encode(grid), indent=1)
    i = data.draw(st.integers(0, len(text)))
    j = data.draw(st.integers(i, min(len(text), i + 3)))
    text = text[:i] + data.draw(st.text('{}[],:"\\ \n1a', max_size=3)) + text[j:]
    whole, stream = _json_whole(text), _json_stream(text, data.draw(st.integers(1, 50)))
    assert _same_outcome(stream, whole)


def test_json_rows_come_before_the_end_of_the_text_is_read() -> None:
    head = '{"_kind":"grid","meta":{"ver":"3.0"},"cols":[{"name":"n"}],"rows":['
    body = ",".join(f'{{"n":{n}}}' for n in range(200_000))
    stream = Trickle(head + body + "]}", 1000)
    rows = hxjson.iter_rows(stream)
    assert [next(rows) for _ in range(3)] == [{"n": hx.Number(n)} for n in range(3)]
    assert stream._pos < 100_000


# ------------------------------------------------------------------------------------------------
# Fuzzing: the streaming readers return records or raise ParseError, nothing else
# ------------------------------------------------------------------------------------------------

_ZINC_BITS = st.sampled_from([*'ver:"3.0"\n\r,@`\\{}[]()<>-_.019TNM */', "<<", ">>", "ver:"])
_JSON_BITS = st.sampled_from([*'{}[],:"\\ \n1-.eE', '"_kind"', '"grid"', '"rows"', "true", "NaN"])


@given(st.one_of(st.text(max_size=60), st.lists(_ZINC_BITS, max_size=40).map("".join)))
def test_fuzz_zinc_rows(text: str) -> None:
    assert isinstance(_zinc_stream('ver:"3.0"\n' + text), (list, tuple))
    assert isinstance(_zinc_stream(text), (list, tuple))


@given(
    st.one_of(st.text(max_size=60), st.lists(_JSON_BITS, max_size=40).map("".join)),
    st.integers(1, 8),
)
def test_fuzz_json_rows(text: str, size: int) -> None:
    assert isinstance(_json_stream(text, size), (list, tuple))
    assert isinstance(_json_stream('{"_kind":"grid","rows":[' + text, size), (list, tuple))


# ------------------------------------------------------------------------------------------------
# read_records: progress, and the heap of a big import
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["trio", "zinc", "json"])
def test_read_records_ticks_every_char(fmt: str) -> None:
    recs = [{"id": hx.Ref(f"r{i}"), "dis": f"R {i}", "site": hx.MARKER} for i in range(50)]
    out = io.StringIO()
    write_records(out, fmt, recs)
    ticks: list[int] = []
    got = list(read_records(io.StringIO(out.getvalue()), fmt, ticks.append))
    assert got == recs
    assert sum(ticks) == len(out.getvalue())


def test_read_records_of_a_zinc_list_or_dict() -> None:
    assert list(read_records(io.StringIO("[{a:1},{b}]\n"), "zinc")) == [
        {"a": hx.Number(1)},
        {"b": hx.MARKER},
    ]
    assert list(read_records(io.StringIO("{a:1}"), "zinc")) == [{"a": hx.Number(1)}]
    with pytest.raises(hx.ParseError, match="expected a grid of records, not Number"):
        list(read_records(io.StringIO("12"), "zinc"))


def _records(n: int) -> list[dict[str, Any]]:
    return [
        {
            "id": hx.Ref(f"p{i:07d}"),
            "dis": f"Point {i}",
            "point": hx.MARKER,
            "area": hx.Number(i, "ft²"),
            "siteRef": hx.Ref("site"),
        }
        for i in range(n)
    ]


def _peak(fn: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def heap_of_import(path: Path, fmt: str) -> tuple[int, int]:
    """Peak Python heap reading every record of ``path``: streaming, and as a whole document."""

    def stream() -> None:
        with open(path, encoding="utf-8") as f:
            for _ in read_records(f, fmt):
                pass

    def whole() -> None:
        text = path.read_text(encoding="utf-8")
        (zinc.loads if fmt == "zinc" else hxjson.loads)(text)

    return _peak(stream), _peak(whole)


def _assert_bounded_heap(tmp_path: Path, fmt: str, count: int) -> None:
    path = tmp_path / f"big.{fmt}"
    with open(path, "w", encoding="utf-8") as f:
        write_records(f, fmt, _records(count))
    streaming, whole = heap_of_import(path, fmt)
    print(  # the figures (pytest -s): peak Python heap, streaming against the whole document
        f"{fmt}: {count} records, {path.stat().st_size / 1e6:.1f} MB: peak heap "
        f"{streaming / 1e6:.2f} MB streaming, {whole / 1e6:.1f} MB whole"
    )
    assert streaming < whole / 4, (streaming, whole)
    assert streaming < path.stat().st_size / 4, (streaming, path.stat().st_size)


@pytest.mark.parametrize("fmt", ["zinc", "json"])
def test_reading_a_big_file_keeps_the_heap_bounded(tmp_path: Path, fmt: str) -> None:
    _assert_bounded_heap(tmp_path, fmt, 20_000)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["zinc", "json"])
def test_reading_200000_records_keeps_the_heap_bounded(tmp_path: Path, fmt: str) -> None:
    _assert_bounded_heap(tmp_path, fmt, 200_000)
