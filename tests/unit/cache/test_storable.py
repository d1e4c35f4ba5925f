"""Storage rules independent of the TTL (RFC 9111 §3, §3.5; guide §1.2)."""

from __future__ import annotations

from typing import Any

import pytest

from openfront.cache.storable import Storability, storable
from openfront.http.cache_control import parse_cache_control

GET_HEAD = frozenset({"GET", "HEAD"})
WITH_OPTIONS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX = 1000


def check(
    method: str = "GET",
    status: int = 200,
    *,
    request_cc: str | None = None,
    response_cc: str | None = None,
    auth: bool = False,
    vary: str | None = None,
    content_length: int | None = 10,
    streamed: bool = False,
    cached_methods: frozenset[str] = GET_HEAD,
) -> Storability:
    return storable(
        method,
        status,
        request_cc=parse_cache_control(request_cc),
        response_cc=parse_cache_control(response_cc),
        request_has_authorization=auth,
        vary=vary,
        content_length=content_length,
        chunked_or_close_delimited=streamed,
        cached_methods=cached_methods,
        max_object_size=MAX,
    )


@pytest.mark.parametrize(
    ("kwargs", "ok", "reason"),
    [
        ({}, True, "storable"),
        # Methods: only GET is stored, and only when the behavior caches it.
        ({"method": "HEAD"}, False, "only GET"),
        ({"method": "OPTIONS", "cached_methods": WITH_OPTIONS}, False, "only GET"),
        ({"method": "OPTIONS"}, False, "not a cached method"),
        ({"method": "POST"}, False, "not a cached method"),
        ({"method": "GET", "cached_methods": frozenset({"HEAD"})}, False, "not a cached method"),
        # Statuses that are never stored as responses.
        ({"status": 304}, False, "status 304"),
        ({"status": 101}, False, "status 101"),
        # Viewer Cache-Control is ignored (CloudFront).
        ({"request_cc": "no-store"}, True, "storable"),
        ({"request_cc": "no-cache, max-age=0"}, True, "storable"),
        # Response no-store/private are the TTL rule's business (MinTTL may keep them).
        ({"response_cc": "no-store"}, True, "storable"),
        ({"response_cc": "private"}, True, "storable"),
        # Authorization (§3.5).
        ({"auth": True}, False, "Authorization"),
        ({"auth": True, "response_cc": "max-age=60"}, False, "Authorization"),
        ({"auth": True, "response_cc": "public"}, True, "storable"),
        ({"auth": True, "response_cc": "must-revalidate"}, True, "storable"),
        ({"auth": True, "response_cc": "s-maxage=60"}, True, "storable"),
        # Vary.
        ({"vary": "*"}, False, "Vary: *"),
        ({"vary": "Accept-Encoding, *"}, False, "Vary: *"),
        ({"vary": "Accept-Encoding"}, True, "storable"),
        ({"vary": ""}, True, "storable"),
        # Size.
        ({"content_length": MAX}, True, "storable"),
        ({"content_length": MAX + 1}, False, "exceeds max object size"),
        ({"content_length": 0}, True, "storable"),
        ({"content_length": -1}, False, "invalid Content-Length"),
        ({"content_length": None}, True, "storable"),
    ],
)
def test_storable(kwargs: dict[str, Any], ok: bool, reason: str) -> None:
    result = check(**kwargs)
    assert result.ok is ok
    assert reason in result.reason


@pytest.mark.parametrize(
    ("content_length", "streamed", "limit"),
    [(None, True, True), (10, True, False), (None, False, False), (10, False, False)],
)
def test_unknown_size_is_limited_while_streaming(
    content_length: int | None, streamed: bool, limit: bool
) -> None:
    result = check(content_length=content_length, streamed=streamed)
    assert result.ok
    assert result.limit_while_streaming is limit
