"""Header field helpers: lists, hop-by-hop, tokens, cookies and raw query strings."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openfront.http.headers import (
    HOP_BY_HOP,
    QueryParam,
    connection_tokens,
    is_token,
    join_query,
    parse_cookie_header,
    parse_query,
    split_comma,
    valid_field_value,
)

FUZZ = settings(deadline=None, max_examples=300)
TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", []),
        ("a", ["a"]),
        ("a,b", ["a", "b"]),
        (" a , b\t,\tc ", ["a", "b", "c"]),
        # Empty elements are dropped (RFC 9110 §5.6.1.2 examples).
        ("foo,bar", ["foo", "bar"]),
        ("foo ,bar,", ["foo", "bar"]),
        ("foo , ,bar,charlie", ["foo", "bar", "charlie"]),
        (",", []),
        (", ,", []),
        ("  ", []),
        # Quoted strings keep their commas and their quotes.
        ('"a,b", c', ['"a,b"', "c"]),
        ('W/"x,y", "z"', ['W/"x,y"', '"z"']),
        ('a="1,2", b', ['a="1,2"', "b"]),
        (r'"a\",b", c', [r'"a\",b"', "c"]),
        ('"unterminated, x', ['"unterminated, x']),
        ('"ends in backslash\\', ['"ends in backslash\\']),
        ("text/html;q=0.9, */*;q=0.8", ["text/html;q=0.9", "*/*;q=0.8"]),
    ],
)
def test_split_comma(value: str, expected: list[str]) -> None:
    assert split_comma(value) == expected


def test_hop_by_hop_set() -> None:
    assert {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "proxy-authenticate",
        "proxy-authorization",
    } == HOP_BY_HOP
    assert all(name == name.lower() for name in HOP_BY_HOP)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, set()),
        ("", set()),
        ("close", {"close"}),
        ("Keep-Alive, X-Custom", {"keep-alive", "x-custom"}),
        (" upgrade ,, HTTP2-Settings ", {"upgrade", "http2-settings"}),
        ('close, "quoted", bad token', {"close"}),  # non-tokens are not field names
    ],
)
def test_connection_tokens(value: str | None, expected: set[str]) -> None:
    assert connection_tokens(value) == expected


@pytest.mark.parametrize(
    ("s", "ok"),
    [
        ("GET", True),
        ("x-custom-header", True),
        (TCHAR, True),
        ("", False),
        ("a b", False),
        ("a:b", False),
        ('"a"', False),
        ("a,b", False),
        ("(a)", False),
        ("a\t", False),
        ("é", False),
        ("a\n", False),  # "$" must not match before a trailing newline
    ],
)
def test_is_token(s: str, ok: bool) -> None:
    assert is_token(s) is ok


@pytest.mark.parametrize(
    ("v", "ok"),
    [
        (b"", True),
        (b"text/html; charset=utf-8", True),
        (b"tab\tinside", True),
        (b"\xe9t\xe9", True),  # obs-text is allowed
        (b"a\rb", False),
        (b"a\nb", False),
        (b"a\x00b", False),
        (b"trailing\r\n", False),
    ],
)
def test_valid_field_value(v: bytes, ok: bool) -> None:
    assert valid_field_value(v) is ok


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", []),
        ("a=1", [("a", "1")]),
        ("a=1; b=2", [("a", "1"), ("b", "2")]),
        ("b=2;a=1", [("b", "2"), ("a", "1")]),  # order kept
        ("Name=1; name=2", [("Name", "1"), ("name", "2")]),  # case-sensitive names
        ("a=1; a=2", [("a", "1"), ("a", "2")]),
        ("a=", [("a", "")]),
        ('a="quoted value"', [("a", '"quoted value"')]),
        ("a=x=y", [("a", "x=y")]),
        (" a = 1 ;  b=2 ; ", [("a", "1"), ("b", "2")]),
        # Junk: pieces without "=" or without a name are dropped.
        ("junk; a=1; =2; ;;", [("a", "1")]),
        ("a=1,b=2", [("a", "1,b=2")]),  # only ";" separates
    ],
)
def test_parse_cookie_header(value: str, expected: list[tuple[str, str]]) -> None:
    assert parse_cookie_header(value) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", []),
        ("a=1", [("a", "1")]),
        ("color=red&size=large", [("color", "red"), ("size", "large")]),
        ("size=large&color=red", [("size", "large"), ("color", "red")]),  # order kept
        ("a=1;b=2", [("a", "1;b=2")]),  # only "&" separates (CloudFront)
        ("a", [("a", None)]),
        ("a=", [("a", "")]),
        ("=v", [("", "v")]),
        ("a=1=2", [("a", "1=2")]),
        ("a&&b", [("a", None), ("", None), ("b", None)]),
        ("&", [("", None), ("", None)]),
        ("q=%20x+y&Q=%2B", [("q", "%20x+y"), ("Q", "%2B")]),  # no decoding, case kept
    ],
)
def test_parse_query(query: str, expected: list[QueryParam]) -> None:
    assert parse_query(query) == expected
    assert join_query(expected) == query


def test_join_query_of_selected_pairs() -> None:
    pairs = parse_query("a=1&b&c=&d=4")
    assert join_query(p for p in pairs if p[0] in {"b", "c", "d"}) == "b&c=&d=4"
    assert join_query([]) == ""


@FUZZ
@given(st.text())
def test_query_round_trips(query: str) -> None:
    assert join_query(parse_query(query)) == query


@FUZZ
@given(st.text(alphabet="a=&;%+ "))
def test_query_round_trips_on_separator_soup(query: str) -> None:
    assert join_query(parse_query(query)) == query


@FUZZ
@given(st.text())
def test_split_comma_never_raises(value: str) -> None:
    for element in split_comma(value):
        assert element and element == element.strip(" \t")


@FUZZ
@given(st.lists(st.text(alphabet=TCHAR, min_size=1), max_size=8))
def test_split_comma_inverts_join(tokens: list[str]) -> None:
    assert split_comma(" , ".join(tokens)) == tokens


@FUZZ
@given(st.text())
def test_cookie_and_connection_parsers_never_raise(value: str) -> None:
    for name, _ in parse_cookie_header(value):
        assert name and "=" not in name and ";" not in name
    assert all(is_token(t) and t == t.lower() for t in connection_tokens(value))


@FUZZ
@given(st.binary())
def test_valid_field_value_agrees_with_membership(v: bytes) -> None:
    assert valid_field_value(v) is not any(c in v for c in b"\r\n\x00")


@FUZZ
@given(st.text())
def test_is_token_agrees_with_the_tchar_set(s: str) -> None:
    assert is_token(s) is (bool(s) and all(c in TCHAR for c in s))


def test_first_and_combined_values() -> None:
    from openfront.http.headers import combined_value, first_value

    fields = [("Vary", "A"), ("ETag", '"x"'), ("vary", "B")]
    assert first_value(fields, "vary") == "A"
    assert combined_value(fields, "vary") == "A, B"
    assert first_value(fields, "age") is None and combined_value(fields, "age") is None
