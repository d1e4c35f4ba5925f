"""Origin request headers, query and cookies (guide §1.4) and viewer Vary (§1.12)."""

from __future__ import annotations

import pytest

from openfront.cache.forward import (
    HeaderSelection,
    header_selection,
    origin_cookies,
    origin_query,
    origin_request_headers,
    response_vary_allowed,
)
from openfront.cache.policy import Behavior, KeyPolicy, Origin, OriginRequestPolicy

ORIGIN = Origin(id="o", domain="origin.example", port=80)

VIEWER: list[tuple[str, str]] = [
    ("Host", "d111.cloudfront.net"),
    ("User-Agent", "curl/8"),
    ("Accept", "*/*"),
    ("Accept-Language", "fr"),
    ("Accept-Charset", "utf-8"),
    ("Accept-Encoding", "gzip, deflate, br"),
    ("Referer", "https://r.example/"),
    ("Authorization", "Bearer t"),
    ("Cookie", "a=1"),
    ("Cache-Control", "no-cache"),
    ("Pragma", "no-cache"),
    ("If-None-Match", '"v1"'),
    ("If-Modified-Since", "Wed, 21 Oct 2015 07:28:00 GMT"),
    ("Range", "bytes=0-9"),
    ("If-Range", '"v1"'),
    ("Origin", "https://app.example"),
    ("Content-Type", "text/plain"),
    ("Content-Length", "4"),
    ("Transfer-Encoding", "chunked"),
    ("Connection", "keep-alive, X-Hop"),
    ("X-Hop", "1"),
    ("Keep-Alive", "timeout=5"),
    ("TE", "trailers"),
    ("Trailer", "X-T"),
    ("Upgrade", "websocket"),
    ("Expect", "100-continue"),
    ("Proxy-Authorization", "Basic x"),
    ("X-Forwarded-Proto", "https"),
    ("X-Real-IP", "1.2.3.4"),
    ("X-HTTP-Method-Override", "DELETE"),
    ("X-Edge-Thing", "1"),
    ("X-Amz-Cf-Id", "spoofed"),
    ("X-Custom", "c"),
    ("X-Forwarded-For", "192.0.2.4"),
    ("X-Forwarded-For", "192.0.2.3"),
    ("Via", "1.1 upstream"),
]


def behavior(key: KeyPolicy | None = None, orp: OriginRequestPolicy | None = None) -> Behavior:
    return Behavior(
        path_pattern="*",
        target_origin_id="o",
        key=key or KeyPolicy(),
        origin_request=orp or OriginRequestPolicy(),
    )


def build(
    b: Behavior,
    *,
    origin: Origin = ORIGIN,
    viewer: list[tuple[str, str]] | None = None,
    accept_encoding: str | None = None,
    cacheable: bool = True,
) -> list[tuple[str, str]]:
    return origin_request_headers(
        VIEWER if viewer is None else viewer,
        behavior=b,
        origin=origin,
        client_ip="192.0.2.2",
        request_id="REQ-1",
        via="1.1 edge1.openfront (OpenFront)",
        accept_encoding=accept_encoding,
        cacheable_fetch=cacheable,
    )


def names(headers: list[tuple[str, str]]) -> set[str]:
    return {n.lower() for n, _ in headers}


def value(headers: list[tuple[str, str]], name: str) -> str | None:
    found = [v for n, v in headers if n.lower() == name]
    assert len(found) <= 1, found
    return found[0] if found else None


def test_bare_policy_cacheable_fetch() -> None:
    out = build(behavior())
    assert out == [
        ("Host", "origin.example"),
        ("Origin", "https://app.example"),
        ("Content-Type", "text/plain"),
        ("User-Agent", "Amazon CloudFront"),
        ("X-Forwarded-For", "192.0.2.4, 192.0.2.3, 192.0.2.2"),
        ("Via", "1.1 upstream, 1.1 edge1.openfront (OpenFront)"),
        ("X-Amz-Cf-Id", "REQ-1"),
        ("Connection", "keep-alive"),
    ]


def test_non_cacheable_fetch_forwards_validators_and_ranges() -> None:
    out = build(behavior(), cacheable=False)
    for name in (
        "cache-control",
        "pragma",
        "if-none-match",
        "if-modified-since",
        "range",
        "if-range",
    ):
        assert name in names(out), name
    assert value(out, "range") == "bytes=0-9"


REMOVED = {
    "accept",
    "accept-language",
    "accept-charset",
    "accept-encoding",
    "referer",
    "authorization",
    "cookie",
    "content-length",
    "transfer-encoding",
    "x-hop",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
    "expect",
    "proxy-authorization",
    "x-forwarded-proto",
    "x-real-ip",
    "x-http-method-override",
    "x-edge-thing",
    "x-custom",
}


@pytest.mark.parametrize("cacheable", [True, False])
def test_unforwarded_headers_are_removed(cacheable: bool) -> None:
    out = build(behavior(), cacheable=cacheable)
    assert not (names(out) & REMOVED)
    assert value(out, "x-amz-cf-id") == "REQ-1"


@pytest.mark.parametrize(
    ("b", "forwarded", "removed"),
    [
        (
            behavior(key=KeyPolicy(headers="whitelist", header_names=("accept-language",))),
            {"accept-language"},
            {"accept", "authorization"},
        ),
        (
            behavior(
                orp=OriginRequestPolicy(
                    headers="whitelist",
                    header_names=frozenset({"authorization", "x-custom", "referer"}),
                )
            ),
            {"authorization", "x-custom", "referer"},
            {"accept", "accept-language"},
        ),
        (
            behavior(orp=OriginRequestPolicy(headers="allViewer")),
            {"accept", "accept-language", "authorization", "x-custom", "referer", "x-real-ip"},
            {"cookie", "content-length", "transfer-encoding", "te", "x-hop", "keep-alive"},
        ),
        (
            behavior(
                orp=OriginRequestPolicy(
                    headers="allViewerAndWhitelistCloudFront",
                    header_names=frozenset({"cloudfront-viewer-country"}),
                )
            ),
            {"accept", "authorization", "x-custom"},
            {"cookie", "content-length"},
        ),
        (
            behavior(
                orp=OriginRequestPolicy(
                    headers="allExcept", header_names=frozenset({"host", "authorization"})
                )
            ),
            {"accept", "x-custom", "referer"},
            {"authorization", "cookie"},
        ),
        (
            # Everything in the key reaches the origin, even when allExcept names it.
            behavior(
                key=KeyPolicy(headers="whitelist", header_names=("authorization",)),
                orp=OriginRequestPolicy(
                    headers="allExcept", header_names=frozenset({"authorization"})
                ),
            ),
            {"authorization", "accept"},
            set(),
        ),
        (
            # "none" in the key ignores leftover names.
            behavior(key=KeyPolicy(headers="none", header_names=("accept",))),
            set(),
            {"accept"},
        ),
    ],
)
def test_policy_forwarding(b: Behavior, forwarded: set[str], removed: set[str]) -> None:
    out = build(b)
    assert forwarded <= names(out)
    assert not (removed & names(out))
    # Validators never reach the origin on a cacheable fetch, whatever the policy.
    assert not ({"if-none-match", "range", "cache-control"} & names(out))


@pytest.mark.parametrize(
    ("b", "origin", "host", "ua"),
    [
        (behavior(), ORIGIN, "origin.example", "Amazon CloudFront"),
        (
            behavior(
                orp=OriginRequestPolicy(
                    headers="whitelist", header_names=frozenset({"host", "user-agent"})
                )
            ),
            ORIGIN,
            "d111.cloudfront.net",
            "curl/8",
        ),
        (
            behavior(orp=OriginRequestPolicy(headers="allViewer")),
            ORIGIN,
            "d111.cloudfront.net",
            "curl/8",
        ),
        (
            behavior(
                orp=OriginRequestPolicy(headers="allExcept", header_names=frozenset({"host"}))
            ),
            ORIGIN,
            "origin.example",
            "curl/8",
        ),
        (
            behavior(),
            Origin(id="o", domain="o.example", port=8080),
            "o.example:8080",
            "Amazon CloudFront",
        ),
        (
            behavior(),
            Origin(id="o", domain="o.example", port=443, protocol="https-only"),
            "o.example",
            "Amazon CloudFront",
        ),
        (
            behavior(),
            Origin(id="o", domain="o.example", port=443),
            "o.example:443",
            "Amazon CloudFront",
        ),
        # A parent edge selects its distribution by the viewer's Host.
        (
            behavior(),
            Origin(id="p", domain="parent", port=8081, is_parent_edge=True),
            "d111.cloudfront.net",
            "Amazon CloudFront",
        ),
    ],
)
def test_host_and_user_agent(b: Behavior, origin: Origin, host: str, ua: str) -> None:
    out = build(b, origin=origin)
    assert out[0] == ("Host", host)
    assert value(out, "host") == host
    assert value(out, "user-agent") == ua


def test_user_agent_forwarded_but_absent_is_not_invented() -> None:
    b = behavior(
        orp=OriginRequestPolicy(headers="whitelist", header_names=frozenset({"user-agent"}))
    )
    out = build(b, viewer=[("Host", "h")])
    assert value(out, "user-agent") is None


NORMALISING = KeyPolicy(accept_encoding_gzip=True, accept_encoding_brotli=True)


@pytest.mark.parametrize(
    ("b", "ae", "expected"),
    [
        (behavior(key=NORMALISING), "br,gzip", "br,gzip"),
        (behavior(key=NORMALISING), "gzip", "gzip"),
        (behavior(key=NORMALISING), None, "identity"),
        # Normalisation wins over allViewer.
        (
            behavior(key=NORMALISING, orp=OriginRequestPolicy(headers="allViewer")),
            "br,gzip",
            "br,gzip",
        ),
        # Explicitly forwarded without normalisation: the viewer's value as sent.
        (
            behavior(key=KeyPolicy(headers="whitelist", header_names=("accept-encoding",))),
            None,
            "gzip, deflate, br",
        ),
        (behavior(orp=OriginRequestPolicy(headers="allViewer")), None, "gzip, deflate, br"),
        # Neither: dropped.
        (behavior(), None, None),
    ],
)
def test_accept_encoding(b: Behavior, ae: str | None, expected: str | None) -> None:
    assert value(build(b, accept_encoding=ae), "accept-encoding") == expected


@pytest.mark.parametrize(
    ("viewer", "xff", "via"),
    [
        ([], "192.0.2.2", "1.1 edge1.openfront (OpenFront)"),
        ([("x-forwarded-for", "a, b")], "a, b, 192.0.2.2", "1.1 edge1.openfront (OpenFront)"),
        ([("X-Forwarded-For", " ")], "192.0.2.2", "1.1 edge1.openfront (OpenFront)"),
        (
            [("VIA", "1.0 x"), ("Via", "1.1 y")],
            "192.0.2.2",
            "1.0 x, 1.1 y, 1.1 edge1.openfront (OpenFront)",
        ),
    ],
)
def test_forwarded_for_and_via_are_appended(
    viewer: list[tuple[str, str]], xff: str, via: str
) -> None:
    out = build(behavior(), viewer=viewer)
    assert value(out, "x-forwarded-for") == xff
    assert value(out, "via") == via


def test_custom_headers_override() -> None:
    origin = Origin(
        id="o",
        domain="origin.example",
        port=80,
        custom_headers=(("X-Origin-Secret", "s3cr3t"), ("User-Agent", "mine"), ("origin", "fixed")),
    )
    out = build(behavior(), origin=origin)
    assert value(out, "x-origin-secret") == "s3cr3t"
    assert value(out, "user-agent") == "mine"
    assert value(out, "origin") == "fixed"
    assert out[-3:] == list(origin.custom_headers)


def test_duplicate_forwarded_headers_keep_order_and_case() -> None:
    b = behavior(orp=OriginRequestPolicy(headers="whitelist", header_names=frozenset({"x-a"})))
    out = build(b, viewer=[("X-A", "1"), ("x-a", "2")])
    assert [(n, v) for n, v in out if n.lower() == "x-a"] == [("X-A", "1"), ("x-a", "2")]


@pytest.mark.parametrize(
    ("key", "orp", "query", "expected"),
    [
        (KeyPolicy(), OriginRequestPolicy(), "a=1&b=2", ""),
        (KeyPolicy(query_strings="all"), OriginRequestPolicy(), "b=2&a=1", "b=2&a=1"),
        (KeyPolicy(), OriginRequestPolicy(query_strings="all"), "b=2&a=1", "b=2&a=1"),
        (
            KeyPolicy(query_strings="whitelist", query_string_names=frozenset({"c"})),
            OriginRequestPolicy(query_strings="whitelist", query_string_names=frozenset({"a"})),
            "a=1&b=2&c=3&a=4",
            "a=1&c=3&a=4",
        ),
        (
            KeyPolicy(query_strings="allExcept", query_string_names=frozenset({"a", "b"})),
            OriginRequestPolicy(query_strings="whitelist", query_string_names=frozenset({"b"})),
            "a=1&b=2&c=3",
            "b=2&c=3",
        ),
        (
            KeyPolicy(query_strings="whitelist", query_string_names=frozenset({"x"})),
            OriginRequestPolicy(),
            "x=1&y=2",
            "x=1",
        ),
        (KeyPolicy(query_strings="all"), OriginRequestPolicy(), "", ""),
    ],
)
def test_origin_query(key: KeyPolicy, orp: OriginRequestPolicy, query: str, expected: str) -> None:
    assert origin_query(query, behavior(key, orp)) == expected


@pytest.mark.parametrize(
    ("key", "orp", "cookie", "expected"),
    [
        (KeyPolicy(), OriginRequestPolicy(), "a=1", None),
        (KeyPolicy(cookies="all"), OriginRequestPolicy(), None, None),
        (KeyPolicy(cookies="all"), OriginRequestPolicy(), "b=2; a=1", "a=1; b=2"),
        (KeyPolicy(), OriginRequestPolicy(cookies="all"), "b=2;a=1", "a=1; b=2"),
        (
            KeyPolicy(cookies="whitelist", cookie_names=frozenset({"s"})),
            OriginRequestPolicy(cookies="whitelist", cookie_names=frozenset({"lang"})),
            "z=0; s=1; lang=fr; S=2",
            "lang=fr; s=1",
        ),
        (
            KeyPolicy(cookies="allExcept", cookie_names=frozenset({"_ga"})),
            OriginRequestPolicy(),
            "_ga=1; b=2",
            "b=2",
        ),
        (
            KeyPolicy(cookies="whitelist", cookie_names=frozenset({"x"})),
            OriginRequestPolicy(),
            "a=1",
            None,
        ),
    ],
)
def test_origin_cookies(
    key: KeyPolicy, orp: OriginRequestPolicy, cookie: str | None, expected: str | None
) -> None:
    assert origin_cookies(cookie, behavior(key, orp)) == expected


@pytest.mark.parametrize(
    ("vary", "forwarded", "expected"),
    [
        ("Accept-Encoding", frozenset(), "Accept-Encoding"),
        ("Accept-Encoding, Cookie", frozenset(), "Accept-Encoding, Cookie"),
        ("User-Agent", frozenset(), None),
        ("User-Agent", frozenset({"cloudfront-is-mobile-viewer"}), "User-Agent"),
        ("Origin, X-Other, Accept-Encoding", frozenset({"origin"}), "Origin, Accept-Encoding"),
        ("*", frozenset(), None),
        ("", frozenset(), None),
        ("origin", HeaderSelection(True, frozenset()), "origin"),
        ("Origin", HeaderSelection(True, frozenset(), frozenset({"origin"})), None),
    ],
)
def test_response_vary_allowed(
    vary: str, forwarded: frozenset[str] | HeaderSelection, expected: str | None
) -> None:
    assert response_vary_allowed(vary, forwarded) == expected


def test_header_selection_of_behavior() -> None:
    b = behavior(
        key=KeyPolicy(headers="whitelist", header_names=("origin",)),
        orp=OriginRequestPolicy(headers="whitelist", header_names=frozenset({"x-a"})),
    )
    sel = header_selection(b)
    assert "origin" in sel and "X-A" in sel and "x-b" not in sel and 3 not in sel
