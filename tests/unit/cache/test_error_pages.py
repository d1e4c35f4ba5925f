"""Custom error responses and ErrorCachingMinTTL (guide §1.9)."""

from __future__ import annotations

from typing import Any

import pytest

from openfront.cache.decide import stale_hold_applies
from openfront.cache.entry import EntryMeta
from openfront.cache.error_pages import (
    Cause,
    ErrorPage,
    edge_error_cause,
    error_caching_min_ttl,
    error_page,
    has_page,
    page_available,
    page_request_fields,
)
from openfront.cache.freshness import compute_ttl
from openfront.cache.policy import CustomErrorResponse, TtlPolicy
from openfront.http.cache_control import parse_cache_control

RESPONSES = {
    404: CustomErrorResponse(404, "/errors/404.html", 200, 30),
    403: CustomErrorResponse(403, "/index.html", 200, 0),
    500: CustomErrorResponse(500, "/errors/5xx.html", 503, 10),
    502: CustomErrorResponse(502, "/errors/5xx.html", None, 10),  # ResponseCode unset
    503: CustomErrorResponse(503, "/errors/5xx.html", 503, 5),
    504: CustomErrorResponse(504, None, None, 0),  # TTL only, no page
}


@pytest.mark.parametrize(
    ("status", "cause", "expected"),
    [
        # Origin answers, fresh or from the cache.
        (404, Cause.ORIGIN, ErrorPage("/errors/404.html", 200)),
        (403, Cause.ORIGIN, ErrorPage("/index.html", 200)),
        (500, Cause.ORIGIN, ErrorPage("/errors/5xx.html", 503)),
        (503, Cause.ORIGIN, ErrorPage("/errors/5xx.html", 503)),
        # Errors the edge makes: origin unreachable or timed out, geo or signature refusals.
        (502, Cause.EDGE, ErrorPage("/errors/5xx.html", 502)),  # keeps its own status
        (403, Cause.EDGE, ErrorPage("/index.html", 200)),
        # CloudFront's capacity/limit 503 never gets the page.
        (503, Cause.CAPACITY, None),
        # A response without a page only sets the error caching TTL.
        (504, Cause.EDGE, None),
        (504, Cause.ORIGIN, None),
        # No CustomErrorResponse for the code, or a code CloudFront cannot customise.
        (400, Cause.ORIGIN, None),
        (401, Cause.ORIGIN, None),
        (200, Cause.ORIGIN, None),
    ],
)
def test_which_page(status: int, cause: Cause, expected: ErrorPage | None) -> None:
    assert error_page(RESPONSES, status, cause) == expected


def test_a_code_outside_cloudfronts_list_never_gets_a_page() -> None:
    odd = {410: CustomErrorResponse(410, "/gone.html", 200)}
    assert error_page(odd, 410, Cause.ORIGIN) is None


@pytest.mark.parametrize(
    ("status", "expected"),
    [(404, True), (403, True), (504, False), (400, False), (200, False)],
)
def test_has_page(status: int, expected: bool) -> None:
    assert has_page(RESPONSES, status) is expected


@pytest.mark.parametrize(
    ("status", "ttl"),
    [(404, 30), (403, 0), (503, 5), (504, 0), (400, 10), (414, 10), (502, 10)],
)
def test_error_caching_min_ttl(status: int, ttl: int) -> None:
    assert error_caching_min_ttl(RESPONSES, status) == ttl


@pytest.mark.parametrize(
    ("detail", "cause"),
    [
        ("ClientGeoBlocked", Cause.EDGE),
        ("OriginConnectError", Cause.EDGE),
        ("OriginReadError", Cause.EDGE),
        ("MissingKey", Cause.EDGE),
        ("CapacityExceeded", Cause.CAPACITY),
        ("LimitExceeded", Cause.CAPACITY),
    ],
)
def test_edge_error_cause(detail: str, cause: Cause) -> None:
    assert edge_error_cause(detail) is cause


def test_page_request_drops_range_and_validators() -> None:
    viewer = {
        "host": "cdn.example",
        "accept-encoding": "gzip",
        "range": "bytes=0-9",
        "if-range": '"x"',
        "if-none-match": '"x"',
        "if-match": '"x"',
        "if-modified-since": "Wed, 21 Oct 2015 07:28:00 GMT",
        "if-unmodified-since": "Wed, 21 Oct 2015 07:28:00 GMT",
    }
    assert page_request_fields(viewer) == {"host": "cdn.example", "accept-encoding": "gzip"}


@pytest.mark.parametrize(("status", "ok"), [(200, True), (204, True), (301, True), (404, False)])
def test_page_available(status: int, ok: bool) -> None:
    assert page_available(status) is ok


# --- how long an error object is kept ---------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cc", "policy", "ecmt", "store", "ttl"),
    [
        (404, None, TtlPolicy(), 30, True, 30),
        (404, None, TtlPolicy(), 0, False, 0),  # ErrorCachingMinTTL 0: the origin is asked again
        (404, "max-age=60", TtlPolicy(), 0, True, 60),
        # The origin's max-age is capped by the behavior's MaxTTL, ErrorCachingMinTTL is not.
        (404, "max-age=600", TtlPolicy(0, 60, 120), 10, True, 120),
        (503, "max-age=600", TtlPolicy(0, 0, 0), 10, True, 10),
        (403, "max-age=600", TtlPolicy(0, 60, 120), 5, True, 120),
    ],
)
def test_error_ttl(
    status: int, cc: str | None, policy: TtlPolicy, ecmt: int, store: bool, ttl: float
) -> None:
    d = compute_ttl(
        status,
        parse_cache_control(cc),
        expires=None,
        date=None,
        response_time=0.0,
        ttl=policy,
        error_caching_min_ttl=ecmt,
    )
    assert (d.store, d.ttl) == (store, ttl)


# --- serving a stale copy for ErrorCachingMinTTL after an origin failure -------------------------

T = 1_000_000.0


def stale(**kw: Any) -> EntryMeta:
    base: dict[str, Any] = {
        "key": b"k",
        "url": "/a",
        "status": 200,
        "headers": (),
        "body_size": 1,
        "request_time": T,
        "response_time": T,
        "initial_age": 0.0,
        "ttl": 100.0,
        "stale_if_error": -1.0,  # the origin sent none: CloudFront's default
    }
    base.update(kw)
    return EntryMeta(**base)


@pytest.mark.parametrize(
    ("meta", "now", "until", "status", "held"),
    [
        (stale(), T + 200, T + 205, 503, True),
        (stale(), T + 200, T + 205, None, True),  # no answer counts as a 5xx
        (stale(), T + 205, T + 205, 503, False),  # the window is over: ask again
        (stale(must_revalidate=True), T + 200, T + 205, 503, False),
        (stale(stale_if_error=50.0), T + 200, T + 205, 503, False),  # its own window is over
        (stale(stale_if_error=500.0), T + 200, T + 205, 503, True),
        (stale(stale_if_error=0.0), T + 200, T + 205, 503, False),
    ],
)
def test_stale_hold(
    meta: EntryMeta, now: float, until: float, status: int | None, held: bool
) -> None:
    assert stale_hold_applies(meta, now, until, status) is held
