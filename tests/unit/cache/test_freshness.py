"""Age, freshness and CloudFront's TTL rules (RFC 9111 §4.2; guide §1.2, §1.9)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openfront.cache.freshness import (
    TtlDecision,
    compute_ttl,
    corrected_initial_age,
    current_age,
    effective_cache_control,
    stale_windows,
)
from openfront.cache.policy import TtlPolicy
from openfront.http.cache_control import CacheControl, parse_cache_control
from openfront.http.dates import format_http_date

T0 = 1_700_000_000.0  # response_time used throughout
DEFAULT = TtlPolicy()  # 0 / 86400 / 31536000
MIN60 = TtlPolicy(min_ttl=60, default_ttl=300, max_ttl=3600)
MIN0_SHORT = TtlPolicy(min_ttl=0, default_ttl=300, max_ttl=3600)
DISABLED = TtlPolicy(min_ttl=0, default_ttl=0, max_ttl=0)


def ttl_for(
    cc: str | None,
    policy: TtlPolicy = DEFAULT,
    *,
    status: int = 200,
    expires: str | None = None,
    date: float | None = None,
    error_min: int = 10,
) -> TtlDecision:
    return compute_ttl(
        status,
        parse_cache_control(cc),
        expires=expires,
        date=date,
        response_time=T0,
        ttl=policy,
        error_caching_min_ttl=error_min,
    )


# --- CDN-Cache-Control (RFC 9213) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("cc", "cdn", "expected"),
    [
        ("max-age=10", None, CacheControl(max_age=10)),
        ("max-age=10", "", CacheControl(max_age=10)),
        ("max-age=10", "max-age=600", CacheControl(max_age=600)),
        ("max-age=10, public", "no-store", CacheControl(no_store=True)),
        ("no-store", "s-maxage=5", CacheControl(s_maxage=5)),
        (None, "max-age=7", CacheControl(max_age=7)),
        # No directive we understand: Cache-Control still rules.
        ("max-age=10", "  , ", CacheControl(max_age=10)),
        ("max-age=10", "x-unknown", CacheControl(max_age=10)),
        (None, None, CacheControl()),
    ],
)
def test_effective_cache_control(cc: str | None, cdn: str | None, expected: CacheControl) -> None:
    assert effective_cache_control(cc, cdn) == expected


# --- RFC 9111 §4.2.3 age ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "date", "request_time", "response_time", "expected"),
    [
        # apparent_age = 102-101 = 1; response_delay = 2; corrected_age_value = 5+2 = 7 -> 7
        (5.0, 101.0, 100.0, 102.0, 7.0),
        # Date far in the past dominates: apparent_age = 102-40 = 62 > 0+2.
        (None, 40.0, 100.0, 102.0, 62.0),
        # Date in the future (origin clock ahead): apparent_age clamps to 0; delay alone counts.
        (None, 200.0, 100.0, 102.0, 2.0),
        # Age header from an upstream cache dominates.
        (3600.0, 101.0, 100.0, 101.5, 3601.5),
        # No Date, no Age: only the response delay.
        (None, None, 100.0, 100.25, 0.25),
        # Instant response, Date equal to response time.
        (0.0, 100.0, 100.0, 100.0, 0.0),
        # A negative Age value is ignored rather than making the response younger.
        (-50.0, 100.0, 100.0, 100.0, 0.0),
    ],
)
def test_corrected_initial_age(
    age: float | None,
    date: float | None,
    request_time: float,
    response_time: float,
    expected: float,
) -> None:
    assert corrected_initial_age(age, date, request_time, response_time) == pytest.approx(expected)


@given(
    age=st.none() | st.floats(0, 1e9),
    date=st.none() | st.floats(0, 2e9),
    request_time=st.floats(0, 2e9),
    delay=st.floats(0, 1e4),
)
def test_corrected_initial_age_is_never_negative_nor_below_age(
    age: float | None, date: float | None, request_time: float, delay: float
) -> None:
    result = corrected_initial_age(age, date, request_time, request_time + delay)
    assert result >= 0
    assert result >= (age or 0)


@pytest.mark.parametrize(
    ("initial", "response_time", "now", "expected"),
    [(7.0, 102.0, 102.0, 7.0), (7.0, 102.0, 112.0, 17.0), (0.0, 0.0, 86400.0, 86400.0)],
)
def test_current_age(initial: float, response_time: float, now: float, expected: float) -> None:
    assert current_age(initial, response_time, now) == expected


# --- CloudFront TTL algorithm (guide §1.2) ----------------------------------------------------


@pytest.mark.parametrize(
    ("cc", "policy", "store", "ttl"),
    [
        # no-cache / no-store / private: not stored with MinTTL 0, else kept for MinTTL.
        ("no-cache", DEFAULT, False, 0),
        ("no-store", DEFAULT, False, 0),
        ("private", DEFAULT, False, 0),
        ("private, max-age=600", DEFAULT, False, 0),
        ('no-cache="set-cookie"', DEFAULT, False, 0),
        ("no-store, s-maxage=600", DEFAULT, False, 0),
        ("no-cache", MIN60, True, 60),
        ("no-store, max-age=9999", MIN60, True, 60),
        ("private", MIN60, True, 60),
        # s-maxage beats max-age.
        ("max-age=100, s-maxage=200", DEFAULT, True, 200),
        ("s-maxage=200, max-age=100", DEFAULT, True, 200),
        ("s-maxage=0, max-age=100", DEFAULT, False, 0),
        # MinTTL == 0: min(h, MaxTTL).
        ("max-age=100", DEFAULT, True, 100),
        ("max-age=0", DEFAULT, False, 0),
        ("max-age=100", MIN0_SHORT, True, 100),
        ("max-age=99999", MIN0_SHORT, True, 3600),
        ("max-age=100", DISABLED, False, 0),
        # MinTTL > 0: clamp(h, MinTTL, MaxTTL).
        ("max-age=0", MIN60, True, 60),
        ("max-age=30", MIN60, True, 60),
        ("max-age=600", MIN60, True, 600),
        ("max-age=99999", MIN60, True, 3600),
        ("s-maxage=10", MIN60, True, 60),
        # Invalid max-age counts as 0 (stale).
        ("max-age=abc", DEFAULT, False, 0),
        ("max-age=abc", MIN60, True, 60),
        # No explicit freshness: DefaultTTL, or max(MinTTL, DefaultTTL).
        (None, DEFAULT, True, 86400),
        ("public", DEFAULT, True, 86400),
        (None, MIN0_SHORT, True, 300),
        (None, MIN60, True, 300),
        (None, TtlPolicy(min_ttl=900, default_ttl=300, max_ttl=3600), True, 900),
        (None, DISABLED, False, 0),
        # Stale directives and must-revalidate do not change the lifetime.
        ("max-age=100, stale-while-revalidate=30, must-revalidate", DEFAULT, True, 100),
    ],
)
def test_ttl_from_cache_control(cc: str | None, policy: TtlPolicy, store: bool, ttl: float) -> None:
    decision = ttl_for(cc, policy)
    assert (decision.store, decision.ttl) == (store, ttl)
    assert decision.reason


@pytest.mark.parametrize(
    ("cc", "expires", "date", "policy", "store", "ttl"),
    [
        # Expires - Date.
        (None, format_http_date(T0 + 500), T0 - 100, DEFAULT, True, 600),
        # Expires - response time when there is no Date.
        (None, format_http_date(T0 + 500), None, DEFAULT, True, 500),
        # max-age beats Expires.
        ("max-age=5", format_http_date(T0 + 500), T0, DEFAULT, True, 5),
        ("s-maxage=7", format_http_date(T0 + 500), T0, DEFAULT, True, 7),
        # Expires in the past, invalid, or "0": already expired.
        (None, format_http_date(T0 - 500), T0, DEFAULT, False, 0),
        (None, "0", T0, DEFAULT, False, 0),
        (None, "not a date", T0, DEFAULT, False, 0),
        (None, "", T0, DEFAULT, False, 0),
        (None, "0", T0, MIN60, True, 60),
        # Clamped like any explicit lifetime.
        (None, format_http_date(T0 + 10**6), T0, MIN0_SHORT, True, 3600),
        (None, format_http_date(T0 + 10), T0, MIN60, True, 60),
        # no-store wins over Expires.
        ("no-store", format_http_date(T0 + 500), T0, DEFAULT, False, 0),
    ],
)
def test_ttl_from_expires(
    cc: str | None,
    expires: str,
    date: float | None,
    policy: TtlPolicy,
    store: bool,
    ttl: float,
) -> None:
    decision = ttl_for(cc, policy, expires=expires, date=date)
    assert (decision.store, decision.ttl) == (store, ttl)


@pytest.mark.parametrize(
    ("status", "cc", "store", "ttl"),
    [
        # Heuristically cacheable statuses get DefaultTTL without explicit freshness.
        (200, None, True, 86400),
        (203, None, True, 86400),
        (204, None, True, 86400),
        (300, None, True, 86400),
        (301, None, True, 86400),
        (308, None, True, 86400),
        # Other statuses only with explicit freshness.
        (302, None, False, 0),
        (307, None, False, 0),
        (303, None, False, 0),
        (201, None, False, 0),
        (302, "max-age=60", True, 60),
        (307, "s-maxage=30", True, 30),
        (202, "max-age=60", True, 60),
        # Partial content is never stored here; neither are 304 and 1xx.
        (206, None, False, 0),
        (206, "max-age=600", False, 0),
        (304, "max-age=600", False, 0),
        (100, "max-age=600", False, 0),
    ],
)
def test_ttl_by_status(status: int, cc: str | None, store: bool, ttl: float) -> None:
    decision = ttl_for(cc, status=status)
    assert (decision.store, decision.ttl) == (store, ttl)


# --- error caching (guide §1.9) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cc", "error_min", "store", "ttl"),
    [
        # Always cached, for max(ErrorCachingMinTTL, max-age).
        *[(s, None, 10, True, 10) for s in (404, 414, 500, 501, 502, 503, 504)],
        (404, "max-age=300", 10, True, 300),
        (404, "max-age=5", 10, True, 10),
        (503, "s-maxage=120, max-age=5", 10, True, 120),
        (500, "max-age=0", 10, True, 10),
        (502, None, 30, True, 30),
        (404, None, 0, False, 0),
        (404, "max-age=20", 0, True, 20),
        # DefaultTTL and Expires do not apply to errors.
        (404, "public", 10, True, 10),
        # A restrictive Cache-Control keeps 404, 410, 414 and 501 out of the cache ...
        (404, "no-store", 10, False, 0),
        (414, "private", 10, False, 0),
        (501, "no-cache, max-age=60", 10, False, 0),
        # ... and is ignored on other errors.
        (500, "no-cache", 10, True, 10),
        (503, "private, max-age=60", 10, True, 60),
        (403, "no-store, max-age=60", 10, True, 60),
        # Cached only with max-age or s-maxage.
        *[(s, None, 10, False, 0) for s in (400, 403, 405, 412, 415)],
        *[(s, "max-age=60", 10, True, 60) for s in (400, 403, 405, 412, 415)],
        (403, "max-age=1", 10, True, 10),
        (400, "s-maxage=0", 10, True, 10),
        (403, "public", 10, False, 0),
        # 416 never; other errors never.
        (416, None, 10, False, 0),
        (416, "max-age=600", 10, False, 0),
        (401, "max-age=600", 10, False, 0),
        (409, "max-age=600", 10, False, 0),
        (410, None, 10, False, 0),  # heuristically cacheable by RFC, but not a CloudFront error
        (410, "max-age=600", 10, False, 0),
        (429, "max-age=600", 10, False, 0),
        (505, "max-age=600", 10, False, 0),
        (599, None, 10, False, 0),
    ],
)
def test_error_caching(
    status: int, cc: str | None, error_min: int, store: bool, ttl: float
) -> None:
    decision = ttl_for(cc, status=status, error_min=error_min)
    assert (decision.store, decision.ttl) == (store, ttl)


def test_error_ttl_ignores_min_ttl_but_counts_expires() -> None:
    decision = ttl_for(None, MIN60, status=404, expires=format_http_date(T0 + 3000), date=T0)
    assert decision == TtlDecision(True, 3000.0, decision.reason)
    short = ttl_for(None, MIN60, status=404, expires=format_http_date(T0 + 3), date=T0)
    assert short == TtlDecision(True, 10.0, short.reason)


@given(
    max_age=st.integers(0, 2**31),
    min_ttl=st.integers(0, 10**6),
    spread=st.integers(0, 10**7),
)
def test_explicit_ttl_stays_within_policy(max_age: int, min_ttl: int, spread: int) -> None:
    policy = TtlPolicy(min_ttl=min_ttl, default_ttl=min_ttl, max_ttl=min_ttl + spread)
    decision = ttl_for(f"max-age={max_age}", policy)
    assert decision.ttl <= policy.max_ttl
    if min_ttl > 0:
        assert decision.ttl >= min_ttl
    assert decision.store is (decision.ttl > 0)


@pytest.mark.parametrize(
    ("cc", "expected"),
    [
        (None, (0.0, 0.0)),
        ("max-age=1", (0.0, 0.0)),
        ("stale-while-revalidate=30", (30.0, 0.0)),
        ("stale-if-error=86400", (0.0, 86400.0)),
        ("stale-while-revalidate=5, stale-if-error=0", (5.0, 0.0)),
    ],
)
def test_stale_windows(cc: str | None, expected: tuple[float, float]) -> None:
    assert stale_windows(parse_cache_control(cc)) == expected
