"""Haystack tokenizer: formats.md section 2 and vectors 6.1."""

from __future__ import annotations

import contextlib
from datetime import time

import pytest
import vectors
from hypothesis import given
from hypothesis import strategies as st

import hxredis as hx
from hxredis.tokenizer import Token, Tokenizer, tokenize


@pytest.mark.parametrize("vec", vectors.section("6.1"), ids=lambda v: v.id)
def test_vectors(vec: vectors.Vector) -> None:
    source, expected = vec.fields
    text = vectors.value(source)
    err = vectors.error(expected)
    if err is not None:
        with pytest.raises(hx.ParseError) as info:
            tokenize(text)
        if err.msg is not None and not err.msg.startswith("("):
            assert info.value.msg.startswith(err.msg)
        if err.line is not None:
            assert info.value.line == err.line
            assert str(info.value).endswith(f"[line {err.line}]")
        return
    tokens = tokenize(text)
    want = vectors.value(expected)
    assert [t.type for t in tokens] == [w if isinstance(w, str) else w[0] for w in want]
    for tok, w in zip(tokens, want, strict=True):
        if not isinstance(w, str):
            vectors.assert_same(tok.val, w[1])


def test_token_positions() -> None:
    toks = tokenize('a  "x\ny" b\n  @c // note\n/* one\ntwo */ d')
    assert [(t.type, t.line, t.col) for t in toks] == [
        ("id", 1, 1),
        ("str", 1, 4),
        ("id", 2, 4),
        ("nl", 2, 5),
        ("ref", 3, 3),
        ("nl", 3, 13),
        ("id", 5, 8),
    ]
    assert toks[0] == Token("id", "a", 1, 1)


def test_error_position() -> None:
    with pytest.raises(hx.ParseError) as info:
        tokenize("a\n  b #")
    assert (info.value.line, info.value.col) == (2, 5)
    assert str(info.value) == "Unexpected symbol: '#' (0x23) [line 2]"


def test_eof_repeats() -> None:
    tok = Tokenizer("x")
    assert tok.next().type == "id"
    assert tok.next().type == "eof"
    assert tok.next().type == "eof"
    assert tokenize("   // only a comment") == []


@pytest.mark.parametrize(
    ("text", "types"),
    [
        (
            ", : :: ; [ ] { } ( )",
            "comma colon colon2 semicolon lbracket rbracket lbrace rbrace lparen rparen",
        ),
        ("< << <= > >> >=", "lt lt2 ltEq gt gt2 gtEq"),
        (
            "- -> == => = != ! / . ? & |",
            "minus arrow eq fnArrow assign notEq bang slash dot question amp pipe",
        ),
    ],
)
def test_operators(text: str, types: str) -> None:
    assert [t.type for t in tokenize(text)] == types.split()
    assert all(t.val is None for t in tokenize(text))


@pytest.mark.parametrize(
    ("text", "val"),
    [
        ('"\\b\\f\\r\\$\\\'\\`"', "\b\f\r$'`"),
        ('"\\ud83e\\udd73"', "\U0001f973"),  # UTF-16 surrogate pair
        ('"""a""b"""', 'a""b'),
        ('"\\u{0}"', "\x00"),
    ],
)
def test_str_escapes(text: str, val: str) -> None:
    assert tokenize(text) == [Token("str", val, 1, 1)]


@pytest.mark.parametrize(
    ("text", "val"),
    [
        ("`a\\:b\\/c\\?\\#\\[\\]\\@\\\\\\&\\=\\;`", "a\\:b\\/c\\?\\#\\[\\]\\@\\\\\\&\\=\\;"),
        ("`\\$ \\t`", "$ \t"),
        ("`a\rb`", "a\rb"),
    ],
)
def test_uri_escapes(text: str, val: str) -> None:
    assert tokenize(text) == [Token("uri", hx.Uri(val), 1, 1)]


@pytest.mark.parametrize(
    ("text", "val"),
    [
        ("0.5", hx.Number(0.5)),
        ("-0.5e-3", hx.Number(-0.0005)),
        ("5_", hx.Number(5, "_")),
        ("3x_y", None),  # unit text 'x_y' unknown
        ("1_000.5_kg", hx.Number(1000.5, "_kg")),  # custom unit
        ("7%", hx.Number(7, "%")),
        ("1:02", time(1, 2)),
        ("1:02:03.5", time(1, 2, 3, 500000)),
        ("12:00:00.123456789", time(12, 0, 0, 123456)),
    ],
)
def test_numbers(text: str, val: object) -> None:
    if val is None:
        with pytest.raises(hx.ParseError):
            tokenize(text)
    else:
        assert tokenize(text)[0].val == val


def test_hex_limits() -> None:
    assert tokenize("0x7fff_ffff_ffff_ffff")[0].val == hx.Number(float(0x7FFFFFFFFFFFFFFF))
    with pytest.raises(hx.ParseError):
        tokenize("0x8000000000000000")


def test_datetime_year_range() -> None:
    assert tokenize("1901-01-01T00:00:00Z")[0].type == "dateTime"
    for text in ("1900-12-31T23:59:59Z", "2100-01-01T00:00:00Z", "2020-02-30T00:00:00Z"):
        with pytest.raises(hx.ParseError, match="Invalid DateTime literal"):
            tokenize(text)


def test_datetime_offset_trusted() -> None:
    """The offset in the text fixes the instant, even if it disagrees with the zone rules."""
    (tok,) = tokenize("2020-07-01T12:00:00-05:00 London")
    assert tok.val.timestamp() == 1593622800
    assert hx.tz_name(tok.val) == "London"


@given(st.text(max_size=60))
def test_fuzz_text(text: str) -> None:
    try:
        tokens = tokenize(text)
    except hx.ParseError as e:
        assert e.line is not None and e.line >= 1
    else:
        assert all(isinstance(t, Token) for t in tokens)


_ALPHABET = st.sampled_from(
    [*'0123456789-:.eE+_xZT "`@^\\u{}$/%°abcNewYork\n\r\t', "/*", "*/", "//"]
)


@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_fuzz_token_like(text: str) -> None:
    with contextlib.suppress(hx.ParseError):
        tokenize(text)
