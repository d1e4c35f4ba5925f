"""Conditional requests from a stored response (RFC 9110 §13.1, §13.2.2)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openfront.http.conditional import (
    Precondition,
    evaluate_preconditions,
    if_range_ok,
    parse_etag_list,
    strong_match,
    weak_match,
)

FUZZ = settings(deadline=None, max_examples=300)
PROCEED, NOT_MODIFIED, FAILED = Precondition.PROCEED, Precondition.NOT_MODIFIED, Precondition.FAILED

LM = "Sun, 06 Nov 1994 08:49:37 GMT"
BEFORE = "Sat, 05 Nov 1994 08:49:37 GMT"
AFTER = "Mon, 07 Nov 1994 08:49:37 GMT"
LM_RFC850 = "Sunday, 06-Nov-94 08:49:37 GMT"


@pytest.mark.parametrize(
    ("a", "b", "strong", "weak"),
    [
        # RFC 9110 §8.8.3.2 table.
        ('W/"1"', 'W/"1"', False, True),
        ('W/"1"', 'W/"2"', False, False),
        ('W/"1"', '"1"', False, True),
        ('"1"', '"1"', True, True),
        ('"1"', '"2"', False, False),
        ('"1"', "1", False, False),
        ('w/"1"', '"1"', False, False),  # the W/ prefix is case-sensitive
        ('""', '""', True, True),
    ],
)
def test_comparison(a: str, b: str, strong: bool, weak: bool) -> None:
    assert strong_match(a, b) is strong and strong_match(b, a) is strong
    assert weak_match(a, b) is weak and weak_match(b, a) is weak


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("*", "*"),
        ("  *  ", "*"),
        ('"xyzzy"', ['"xyzzy"']),
        ('"xyzzy", "r2d2xxxx", "c3piozzzz"', ['"xyzzy"', '"r2d2xxxx"', '"c3piozzzz"']),
        ('W/"xyzzy", W/"r2d2xxxx"', ['W/"xyzzy"', 'W/"r2d2xxxx"']),
        ('"a,b", "c"', ['"a,b"', '"c"']),  # a comma is a valid etagc
        ('"a",,"b" ,', ['"a"', '"b"']),
        ("", []),
        # Malformed lists are read leniently: junk stays as an item that matches only itself.
        ("abc, def", ["abc", "def"]),
        ('*, "a"', ["*", '"a"']),
        ('"unterminated', ['"unterminated']),
        ('"a" "b"', ['"a"', '"b"']),
    ],
)
def test_parse_etag_list(value: str, expected: list[str] | str) -> None:
    assert parse_etag_list(value) == expected


def evaluate(
    method: str = "GET",
    *,
    if_match: str | None = None,
    if_none_match: str | None = None,
    if_modified_since: str | None = None,
    if_unmodified_since: str | None = None,
    etag: str | None = '"v1"',
    last_modified: str | None = LM,
) -> Precondition:
    return evaluate_preconditions(
        method,
        if_match=if_match,
        if_none_match=if_none_match,
        if_modified_since=if_modified_since,
        if_unmodified_since=if_unmodified_since,
        etag=etag,
        last_modified=last_modified,
    )


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, PROCEED),
        # Step 1: If-Match, strong comparison.
        ({"if_match": '"v1"'}, PROCEED),
        ({"if_match": '"v0", "v1"'}, PROCEED),
        ({"if_match": '"v2"'}, FAILED),
        ({"if_match": "*"}, PROCEED),
        ({"if_match": "*", "etag": None}, PROCEED),  # the stored response is a representation
        ({"if_match": '"v1"', "etag": None}, FAILED),
        ({"if_match": 'W/"v1"'}, FAILED),
        ({"if_match": '"v1"', "etag": 'W/"v1"'}, FAILED),
        ({"if_match": ""}, FAILED),
        ({"if_match": '"v1"', "method": "PUT"}, PROCEED),
        ({"if_match": '"v2"', "method": "DELETE"}, FAILED),
        # Step 2: If-Unmodified-Since only without If-Match.
        ({"if_unmodified_since": LM}, PROCEED),
        ({"if_unmodified_since": AFTER}, PROCEED),
        ({"if_unmodified_since": BEFORE}, FAILED),
        ({"if_unmodified_since": BEFORE, "if_match": '"v1"'}, PROCEED),
        ({"if_unmodified_since": "not a date"}, PROCEED),
        ({"if_unmodified_since": BEFORE, "last_modified": None}, PROCEED),
        ({"if_unmodified_since": BEFORE, "last_modified": "junk"}, PROCEED),
        # Step 3: If-None-Match, weak comparison.
        ({"if_none_match": '"v1"'}, NOT_MODIFIED),
        ({"if_none_match": 'W/"v1"'}, NOT_MODIFIED),
        ({"if_none_match": '"v1"', "etag": 'W/"v1"'}, NOT_MODIFIED),
        ({"if_none_match": '"a", W/"v1"'}, NOT_MODIFIED),
        ({"if_none_match": '"v2"'}, PROCEED),
        ({"if_none_match": "*"}, NOT_MODIFIED),
        ({"if_none_match": '"v1"', "etag": None}, PROCEED),
        ({"if_none_match": '"v1"', "method": "HEAD"}, NOT_MODIFIED),
        ({"if_none_match": '"v1"', "method": "POST"}, FAILED),
        ({"if_none_match": "*", "method": "PUT"}, FAILED),
        ({"if_none_match": '"v2"', "method": "POST"}, PROCEED),
        # Step 4: If-Modified-Since only for GET/HEAD without If-None-Match.
        ({"if_modified_since": LM}, NOT_MODIFIED),
        ({"if_modified_since": AFTER}, NOT_MODIFIED),
        ({"if_modified_since": BEFORE}, PROCEED),
        ({"if_modified_since": LM_RFC850}, NOT_MODIFIED),
        ({"if_modified_since": LM, "method": "HEAD"}, NOT_MODIFIED),
        ({"if_modified_since": LM, "method": "POST"}, PROCEED),
        ({"if_modified_since": LM, "last_modified": None}, PROCEED),
        ({"if_modified_since": "yesterday"}, PROCEED),
        ({"if_modified_since": LM, "if_none_match": '"v2"'}, PROCEED),  # INM wins
        ({"if_modified_since": BEFORE, "if_none_match": '"v1"'}, NOT_MODIFIED),
        # Order: a failed If-Match wins over a matching If-None-Match.
        ({"if_match": '"v2"', "if_none_match": '"v1"'}, FAILED),
        ({"if_unmodified_since": BEFORE, "if_none_match": '"v1"'}, FAILED),
        ({"if_match": '"v1"', "if_none_match": '"v1"'}, NOT_MODIFIED),
        ({"if_match": '"v1"', "if_modified_since": LM}, NOT_MODIFIED),
    ],
)
def test_evaluate_preconditions(kwargs: dict[str, str | None], expected: Precondition) -> None:
    method = kwargs.pop("method", None) or "GET"
    assert evaluate(method, **kwargs) is expected


@pytest.mark.parametrize(
    ("if_range", "etag", "last_modified", "ok"),
    [
        ('"v1"', '"v1"', LM, True),
        ('"v2"', '"v1"', LM, False),
        ('W/"v1"', 'W/"v1"', LM, False),  # a weak tag never matches
        ('W/"v1"', '"v1"', LM, False),
        ('"v1"', 'W/"v1"', LM, False),
        ('"v1"', None, LM, False),
        (LM, '"v1"', LM, True),
        (LM_RFC850, '"v1"', LM, True),
        (LM, None, LM_RFC850, True),
        (BEFORE, '"v1"', LM, False),
        (AFTER, '"v1"', LM, False),  # only an exact match counts
        (LM, '"v1"', None, False),
        (LM, '"v1"', "junk", False),
        ("junk", '"v1"', LM, False),
        ("", '"v1"', LM, False),
        ('  "v1"  ', '"v1"', LM, True),
    ],
)
def test_if_range(if_range: str, etag: str | None, last_modified: str | None, ok: bool) -> None:
    assert if_range_ok(if_range, etag, last_modified) is ok


HEADER_TEXT = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.sampled_from(["*", '"v1"', 'W/"v1"', LM, BEFORE, AFTER, '"v1", W/"v2"']),
)


@FUZZ
@given(
    st.sampled_from(["GET", "HEAD", "POST", "PUT", "get"]),
    HEADER_TEXT,
    HEADER_TEXT,
    HEADER_TEXT,
    HEADER_TEXT,
    HEADER_TEXT,
    HEADER_TEXT,
)
def test_evaluate_never_raises(
    method: str,
    im: str | None,
    inm: str | None,
    ims: str | None,
    ius: str | None,
    etag: str | None,
    lm: str | None,
) -> None:
    result = evaluate(
        method,
        if_match=im,
        if_none_match=inm,
        if_modified_since=ims,
        if_unmodified_since=ius,
        etag=etag,
        last_modified=lm,
    )
    assert isinstance(result, Precondition)
    if method not in ("GET", "HEAD"):
        assert result is not NOT_MODIFIED


@FUZZ
@given(st.text())
def test_parse_etag_list_never_raises(value: str) -> None:
    tags = parse_etag_list(value)
    if tags != "*":
        for tag in tags:
            quoted = tag.startswith(('"', 'W/"'))
            assert quoted or (tag and not any(c in tag for c in ", \t"))


@FUZZ
@given(st.text(max_size=40), HEADER_TEXT, HEADER_TEXT)
def test_if_range_never_raises(if_range: str, etag: str | None, lm: str | None) -> None:
    assert isinstance(if_range_ok(if_range, etag, lm), bool)


@FUZZ
@given(
    st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters='"'))
)
def test_a_strong_tag_matches_itself_both_ways(opaque: str) -> None:
    tag = f'"{opaque}"'
    assert parse_etag_list(tag) == [tag]
    assert evaluate(if_match=tag, etag=tag) is PROCEED
    assert evaluate(if_none_match="W/" + tag, etag=tag) is NOT_MODIFIED
    assert if_range_ok(tag, tag, None)
