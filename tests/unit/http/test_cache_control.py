"""Cache-Control parsing (RFC 9111 §5.2)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openfront.http.cache_control import EMPTY, CacheControl, parse_cache_control

FUZZ = settings(deadline=None, max_examples=300)
DELTA_MAX = 2**31


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, EMPTY),
        ("", EMPTY),
        (" , ,, ", EMPTY),
        ("max-age=60", CacheControl(max_age=60)),
        ("MAX-AGE=60", CacheControl(max_age=60)),
        ("max-age = 60", CacheControl(max_age=60)),
        ("  max-age=60  ", CacheControl(max_age=60)),
        ('max-age="60"', CacheControl(max_age=60)),  # recipients accept both forms (§5.2)
        ("s-maxage=0, max-age=3600", CacheControl(max_age=3600, s_maxage=0)),
        (
            "public, max-age=31536000, immutable",
            CacheControl(public=True, max_age=31536000, immutable=True),
        ),
        ("no-store", CacheControl(no_store=True)),
        ("no-cache", CacheControl(no_cache=True)),
        ("private", CacheControl(private=True)),
        (
            'no-cache="Set-Cookie, X-Foo"',
            CacheControl(no_cache=True, no_cache_fields=("set-cookie", "x-foo")),
        ),
        ("no-cache=Set-Cookie", CacheControl(no_cache=True, no_cache_fields=("set-cookie",))),
        ('private="Authorization"', CacheControl(private=True, private_fields=("authorization",))),
        ('private=""', CacheControl(private=True)),
        # An unqualified no-cache/private covers the whole response, whatever else is listed.
        ('no-cache="set-cookie", no-cache', CacheControl(no_cache=True)),
        ('private, private="x"', CacheControl(private=True)),
        ('no-cache="a", no-cache="b, a"', CacheControl(no_cache=True, no_cache_fields=("a", "b"))),
        (
            "must-revalidate, proxy-revalidate",
            CacheControl(must_revalidate=True, proxy_revalidate=True),
        ),
        ("no-transform, only-if-cached", CacheControl(no_transform=True, only_if_cached=True)),
        (
            "stale-while-revalidate=30, stale-if-error=86400",
            CacheControl(stale_while_revalidate=30, stale_if_error=86400),
        ),
        ("max-stale", CacheControl(max_stale=DELTA_MAX)),
        ("max-stale=10", CacheControl(max_stale=10)),
        ("max-stale=abc", EMPTY),
        ("min-fresh=5", CacheControl(min_fresh=5)),
        ("min-fresh", EMPTY),
        ("stale-if-error=-1", EMPTY),
        # Invalid freshness means stale (RFC 9111 §4.2.1), not fresh for an unknown time.
        ("max-age=abc", CacheControl(max_age=0)),
        ("max-age", CacheControl(max_age=0)),
        ("max-age=-1", CacheControl(max_age=0)),
        ("max-age=1.5", CacheControl(max_age=0)),
        ("max-age=60 seconds", CacheControl(max_age=0)),
        ("s-maxage=", CacheControl(s_maxage=0)),
        ("max-age=²", CacheControl(max_age=0)),  # str.isdigit() is true, int() refuses
        ("max-age=٣", CacheControl(max_age=0)),  # Arabic-Indic digit
        # The first occurrence wins (RFC 9111 §4.2.1).
        ("max-age=60, max-age=10", CacheControl(max_age=60)),
        ("max-age=abc, max-age=10", CacheControl(max_age=0)),
        # delta-seconds past 2**31 become 2**31 (RFC 9111 §1.2.2), however long.
        ("max-age=2147483648", CacheControl(max_age=DELTA_MAX)),
        ("max-age=99999999999", CacheControl(max_age=DELTA_MAX)),
        ("max-age=" + "9" * 5000, CacheControl(max_age=DELTA_MAX)),
        ("max-age=0000000000000000060", CacheControl(max_age=DELTA_MAX)),
        ("max-age=0000000060", CacheControl(max_age=60)),
        # Unknown directives, with or without arguments, are ignored (§5.2.3).
        ('foo, bar="x, max-age=5", max-age=7', CacheControl(max_age=7)),
        ('community="UCI", no-store', CacheControl(no_store=True)),
        ('ext="a\\"b", public', CacheControl(public=True)),
        # An unterminated quoted string swallows the rest of the value.
        ('no-cache="a, max-age=5', CacheControl(no_cache=True, no_cache_fields=("a", "max-age=5"))),
        ("public,,,max-age=1,", CacheControl(public=True, max_age=1)),
        ("public;max-age=1", EMPTY),  # ";" is not a separator: one unknown directive
    ],
)
def test_parse(value: str | None, expected: CacheControl) -> None:
    assert parse_cache_control(value) == expected


def test_quoted_pairs_are_unescaped() -> None:
    cc = parse_cache_control(r'no-cache="x\-a, b\"c", max-age="6\0"')
    assert cc.no_cache_fields == ("x-a", 'b"c')
    assert cc.max_age == 60


def test_empty_value_returns_the_shared_instance() -> None:
    assert parse_cache_control("") is EMPTY
    assert parse_cache_control(",") is EMPTY


def test_value_is_frozen() -> None:
    cc = parse_cache_control("max-age=1")
    with pytest.raises(AttributeError):
        cc.max_age = 2  # type: ignore[misc]


DIRECTIVE_NAMES = st.sampled_from(
    [
        "max-age",
        "s-maxage",
        "no-cache",
        "no-store",
        "private",
        "public",
        "must-revalidate",
        "stale-while-revalidate",
        "stale-if-error",
        "max-stale",
        "min-fresh",
        "immutable",
        "x-ext",
    ]
)
ARGUMENTS = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.integers(min_value=-5, max_value=10**25).map(str),
    st.text(max_size=12).map(lambda s: '"' + s.replace('"', '\\"') + '"'),
)


@st.composite
def cache_control_values(draw: st.DrawFn) -> str:
    items = draw(st.lists(st.tuples(DIRECTIVE_NAMES, ARGUMENTS), max_size=8))
    seps = st.sampled_from([",", ", ", " ,\t", ",,"])
    out = ""
    for name, arg in items:
        out += name if arg is None else f"{name}={arg}"
        out += draw(seps)
    return out


def _check_invariants(cc: CacheControl) -> None:
    for value in (
        cc.max_age,
        cc.s_maxage,
        cc.stale_while_revalidate,
        cc.stale_if_error,
        cc.max_stale,
        cc.min_fresh,
    ):
        assert value is None or 0 <= value <= DELTA_MAX
    assert cc.no_cache or not cc.no_cache_fields
    assert cc.private or not cc.private_fields
    assert all(f == f.lower() and f.strip() == f and f for f in cc.no_cache_fields)


@FUZZ
@given(st.text())
def test_never_raises_on_any_text(value: str) -> None:
    _check_invariants(parse_cache_control(value))


@FUZZ
@given(cache_control_values())
def test_never_raises_on_directive_lists(value: str) -> None:
    _check_invariants(parse_cache_control(value))


@FUZZ
@given(st.integers(min_value=0, max_value=10**30), st.sampled_from(["max-age", "s-maxage"]))
def test_any_delta_is_clamped(n: int, name: str) -> None:
    cc = parse_cache_control(f"{name}={n}")
    assert (cc.max_age if name == "max-age" else cc.s_maxage) == min(n, DELTA_MAX)


@FUZZ
@given(st.integers(min_value=0, max_value=DELTA_MAX), st.integers(min_value=0, max_value=100))
def test_joining_field_lines_keeps_the_first_max_age(a: int, b: int) -> None:
    # Several Cache-Control lines arrive joined with ", " (RFC 9110 §5.3).
    assert parse_cache_control(f"public, max-age={a}, max-age={b}").max_age == a
