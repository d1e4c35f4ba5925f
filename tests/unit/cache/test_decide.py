"""Cache decisions (RFC 9111 §4, RFC 5861)."""

from __future__ import annotations

from typing import Any, assert_never

import pytest

from openfront.cache.decide import (
    Fresh,
    Lookup,
    Revalidate,
    StaleServe,
    invalidates_after_unsafe,
    lookup,
    merge_not_modified,
    on_error_may_serve_stale,
)
from openfront.cache.entry import EntryMeta

T = 1_000_000.0
ETAG = '"v1"'
LM = "Wed, 21 Oct 2015 07:28:00 GMT"


def entry(**kw: Any) -> EntryMeta:
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
    }
    base.update(kw)
    return EntryMeta(**base)


BOTH = (("If-None-Match", ETAG), ("If-Modified-Since", LM))


@pytest.mark.parametrize(
    ("kw", "now", "down", "expected"),
    [
        ({}, T, False, Fresh(0.0)),
        ({}, T + 99.5, False, Fresh(99.5)),
        ({"initial_age": 30.0}, T + 60, False, Fresh(90.0)),
        # Expired: revalidate with whatever validators we have.
        ({}, T + 100, False, Revalidate(())),
        ({"initial_age": 30.0}, T + 70, False, Revalidate(())),
        ({"etag": ETAG}, T + 200, False, Revalidate((("If-None-Match", ETAG),))),
        ({"last_modified": LM}, T + 200, False, Revalidate((("If-Modified-Since", LM),))),
        ({"etag": ETAG, "last_modified": LM}, T + 200, False, Revalidate(BOTH)),
        ({"ttl": 0.0}, T, False, Revalidate(())),
        # stale-while-revalidate window.
        (
            {"stale_while_revalidate": 30.0, "etag": ETAG},
            T + 110,
            False,
            StaleServe(110.0, (("If-None-Match", ETAG),)),
        ),
        ({"stale_while_revalidate": 30.0}, T + 129.9, False, StaleServe(129.9, ())),
        ({"stale_while_revalidate": 30.0}, T + 130, False, Revalidate(())),
        ({"stale_while_revalidate": 30.0, "must_revalidate": True}, T + 110, False, Revalidate(())),
        # stale-if-error applies only when the origin is known to be failing.
        ({"stale_if_error": 60.0}, T + 150, False, Revalidate(())),
        ({"stale_if_error": 60.0}, T + 150, True, StaleServe(150.0, ())),
        ({"stale_if_error": 60.0}, T + 160, True, Revalidate(())),
        ({"stale_if_error": 60.0, "must_revalidate": True}, T + 150, True, Revalidate(())),
        ({}, T + 50, True, Fresh(50.0)),
    ],
)
def test_lookup(kw: dict[str, Any], now: float, down: bool, expected: Lookup) -> None:
    result = lookup(entry(**kw), now, origin_may_be_down=down)
    assert type(result) is type(expected)
    match result:
        case Fresh(age=age):
            assert isinstance(expected, Fresh)
            assert age == pytest.approx(expected.age)
        case StaleServe(age=age, headers=headers):
            assert isinstance(expected, StaleServe)
            assert age == pytest.approx(expected.age)
            assert headers == expected.headers
        case Revalidate(headers=headers):
            assert isinstance(expected, Revalidate)
            assert headers == expected.headers
        case _:
            assert_never(result)


@pytest.mark.parametrize(
    ("kw", "now", "status", "expected"),
    [
        ({"stale_if_error": 60.0}, T + 150, 500, True),
        ({"stale_if_error": 60.0}, T + 150, 503, True),
        ({"stale_if_error": 60.0}, T + 150, None, True),  # connection failure or timeout
        ({"stale_if_error": 60.0}, T + 159.9, 504, True),
        ({"stale_if_error": 60.0}, T + 160, 502, False),
        ({"stale_if_error": 60.0}, T + 150, 404, False),
        ({"stale_if_error": 60.0}, T + 150, 403, False),
        ({"stale_if_error": 60.0}, T + 150, 200, False),
        ({"stale_if_error": 60.0, "must_revalidate": True}, T + 150, 500, False),
        ({}, T + 150, 500, False),
        ({}, T + 150, None, False),
        ({}, T + 50, 500, True),  # still fresh
    ],
)
def test_on_error_may_serve_stale(
    kw: dict[str, Any], now: float, status: int | None, expected: bool
) -> None:
    assert on_error_may_serve_stale(entry(**kw), now, status) is expected


STORED = (
    ("Content-Type", "text/html"),
    ("Content-Length", "1234"),
    ("Content-Encoding", "gzip"),
    ("ETag", '"v1"'),
    ("Cache-Control", "max-age=60"),
    ("Set-Cookie", "a=1"),
    ("Set-Cookie", "b=2"),
    ("X-Keep", "k"),
)


@pytest.mark.parametrize(
    ("fresh", "expected"),
    [
        ([], STORED),
        (
            [("Cache-Control", "max-age=600"), ("Date", "Thu, 01 Jan 2026 00:00:00 GMT")],
            (
                *STORED[:4],
                ("Cache-Control", "max-age=600"),
                *STORED[5:],
                ("Date", "Thu, 01 Jan 2026 00:00:00 GMT"),
            ),
        ),
        (
            # All values of a named field are replaced, at the first one's place.
            [("set-cookie", "c=3")],
            (*STORED[:5], ("set-cookie", "c=3"), ("X-Keep", "k")),
        ),
        (
            # Framing and coding of the stored body are never taken from a 304.
            [
                ("Content-Length", "0"),
                ("Transfer-Encoding", "chunked"),
                ("Content-Range", "bytes 0-0/1"),
                ("Content-Encoding", "br"),
            ],
            STORED,
        ),
        (
            # Hop-by-hop fields, including Connection-nominated ones, are not stored.
            [("Connection", "close, X-Hop"), ("X-Hop", "1"), ("Keep-Alive", "x"), ("ETag", '"v2"')],
            (*STORED[:3], ("ETag", '"v2"'), *STORED[4:]),
        ),
    ],
)
def test_merge_not_modified(
    fresh: list[tuple[str, str]], expected: tuple[tuple[str, str], ...]
) -> None:
    assert merge_not_modified(STORED, fresh) == expected


@pytest.mark.parametrize(
    ("method", "status", "expected"),
    [
        ("POST", 200, True),
        ("PUT", 201, True),
        ("DELETE", 204, True),
        ("PATCH", 303, True),
        ("PURGE", 200, True),  # unknown methods are unsafe
        ("POST", 404, False),
        ("POST", 500, False),
        ("POST", 100, False),
        ("GET", 200, False),
        ("HEAD", 200, False),
        ("OPTIONS", 200, False),
        ("TRACE", 200, False),
    ],
)
def test_invalidates_after_unsafe(method: str, status: int, expected: bool) -> None:
    assert invalidates_after_unsafe(method, status) is expected
