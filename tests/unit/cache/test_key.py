"""Cache keys (guide §1.3)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openfront.cache.key import (
    CacheKey,
    cache_key,
    normalise_accept_encoding,
    normalise_host,
    select_query,
)
from openfront.cache.policy import KeyPolicy

BARE = KeyPolicy()
WITH_HOST = KeyPolicy(headers="whitelist", header_names=("host",))


def key_for(
    *,
    host: str = "d111.example.net",
    path: str = "/a.jpg",
    query: str = "",
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    cookie: str | None = None,
    policy: KeyPolicy = BARE,
) -> CacheKey:
    hdrs = dict(headers or {})
    return cache_key(
        host=host,
        path=path,
        query=query,
        method=method,
        header=hdrs.get,
        cookie_header=cookie,
        policy=policy,
    )


def test_bare_key_layout() -> None:
    k = key_for(query="x=1", headers={"accept-encoding": "gzip"}, cookie="a=1")
    assert k == CacheKey(b"\x00\x00/a.jpg\x00\x00", "/a.jpg", None)


def test_host_is_keyed_only_when_the_policy_names_it() -> None:
    # CloudFront keys on the distribution and the path; Host enters via the header list.
    assert key_for(host="a.example").key == key_for(host="b.example").key
    k = key_for(policy=WITH_HOST)
    assert k == CacheKey(b"\x00d111.example.net\x00/a.jpg\x00\x00", "/a.jpg", None)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("Example.COM", "example.com"),
        ("example.com:80", "example.com"),
        ("example.com:443", "example.com"),
        ("example.com:8080", "example.com:8080"),
        ("example.com.", "example.com"),
        ("[::1]:80", "[::1]"),
        ("[::1]:8443", "[::1]:8443"),
    ],
)
def test_normalise_host(host: str, expected: str) -> None:
    assert normalise_host(host) == expected
    assert key_for(host=host, policy=WITH_HOST).key == key_for(host=expected, policy=WITH_HOST).key


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ({"method": "GET"}, {"method": "HEAD"}, True),
        ({"method": "GET"}, {"method": "OPTIONS"}, False),
        ({"path": "/a.jpg"}, {"path": "/A.jpg"}, False),
        ({"path": "/a"}, {"path": "/a/"}, False),
        ({"host": "a.example"}, {"host": "b.example"}, True),
        (
            {"host": "a.example", "policy": WITH_HOST},
            {"host": "b.example", "policy": WITH_HOST},
            False,
        ),
        ({"query": "x=1"}, {"query": "x=2"}, True),  # query not in the key by default
    ],
)
def test_key_identity(a: dict[str, object], b: dict[str, object], same: bool) -> None:
    assert (key_for(**a).key == key_for(**b).key) is same  # type: ignore[arg-type]


def test_options_is_keyed_separately() -> None:
    assert key_for(method="OPTIONS").key.startswith(b"OPTIONS\x00")


@pytest.mark.parametrize(
    ("behavior", "names", "query", "expected"),
    [
        ("none", frozenset(), "a=1&b=2", ""),
        ("all", frozenset(), "color=red&size=large", "color=red&size=large"),
        ("all", frozenset(), "size=large&color=red", "size=large&color=red"),
        ("all", frozenset(), "a=1;b=2&&c", "a=1;b=2&&c"),  # only '&' separates, kept as sent
        ("whitelist", frozenset({"b", "a"}), "c=3&b=2&a=1&b=4", "b=2&a=1&b=4"),
        ("whitelist", frozenset({"a"}), "A=1&a=2", "a=2"),  # names are case-sensitive
        ("whitelist", frozenset({"a"}), "a&a=&ab=1", "a&a="),
        ("whitelist", frozenset({"a;b"}), "a;b=1&a=2", "a;b=1"),
        ("whitelist", frozenset({"z"}), "a=1", ""),
        ("allExcept", frozenset({"utm_source"}), "id=7&utm_source=x&p=2", "id=7&p=2"),
        ("allExcept", frozenset({"a"}), "a=1", ""),
        ("allExcept", frozenset(), "b=1&a=2", "b=1&a=2"),
        ("all", frozenset(), "", ""),
    ],
)
def test_select_query(behavior: str, names: frozenset[str], query: str, expected: str) -> None:
    assert select_query(query, behavior, names) == expected  # type: ignore[arg-type]
    policy = KeyPolicy(query_strings=behavior, query_string_names=names)  # type: ignore[arg-type]
    k = key_for(query=query, policy=policy)
    assert k.url == (f"/a.jpg?{expected}" if expected else "/a.jpg")


def test_query_order_and_case_make_distinct_entries() -> None:
    policy = KeyPolicy(query_strings="all")
    keys = {
        key_for(query=q, policy=policy).key
        for q in ("color=red&size=large", "size=large&color=red", "Color=red&size=large", "")
    }
    assert len(keys) == 4


@pytest.mark.parametrize(
    ("value", "gzip", "brotli", "expected"),
    [
        ("gzip, deflate, br", True, True, "br,gzip"),
        ("br;q=1.0, gzip;q=0.8, *;q=0.1", True, True, "br,gzip"),
        ("gzip, deflate, br, zstd", True, False, "gzip"),
        ("gzip, deflate, br", False, True, "br"),
        ("gzip", True, True, "gzip"),
        ("br", True, True, "br"),
        ("BR, GZIP", True, True, "br,gzip"),
        ("deflate", True, True, None),
        ("identity", True, True, None),
        ("*", True, True, None),
        ("", True, True, None),
        (None, True, True, None),
        ("gzip;q=0, br", True, True, "br"),
        ("gzip;q=0.000, br;q=0", True, True, None),
        ("gzip; q=0.5", True, True, "gzip"),
        ("gzip;q=bogus", True, True, None),
        ("x-gzip", True, True, None),
        ("gzip", False, True, None),
    ],
)
def test_normalise_accept_encoding(
    value: str | None, gzip: bool, brotli: bool, expected: str | None
) -> None:
    assert normalise_accept_encoding(value, gzip=gzip, brotli=brotli) == expected


def test_accept_encoding_in_key_only_when_enabled() -> None:
    enabled = KeyPolicy(accept_encoding_gzip=True, accept_encoding_brotli=True)
    a = key_for(headers={"accept-encoding": "gzip, deflate, br"}, policy=enabled)
    b = key_for(headers={"accept-encoding": "br,gzip"}, policy=enabled)
    c = key_for(headers={"accept-encoding": "gzip"}, policy=enabled)
    d = key_for(headers={}, policy=enabled)
    e = key_for(headers={"accept-encoding": "deflate"}, policy=enabled)
    assert a.key == b.key and a.accept_encoding == "br,gzip"
    assert len({a.key, c.key, d.key}) == 3
    assert d.key == e.key and d.accept_encoding is None
    assert key_for(headers={"accept-encoding": "gzip"}).accept_encoding is None


def test_headers_in_policy_order() -> None:
    policy = KeyPolicy(headers="whitelist", header_names=("origin", "x-device"))
    k = key_for(headers={"x-device": "tv", "origin": "https://o", "other": "z"}, policy=policy)
    assert k.key.endswith(b"\x00Hhttps://o\x00Htv")
    swapped = key_for(headers={"x-device": "https://o", "origin": "tv"}, policy=policy)
    missing = key_for(headers={"x-device": "tv"}, policy=policy)
    assert len({k.key, swapped.key, missing.key}) == 3
    # "none" ignores any names left in the policy.
    ignored = KeyPolicy(headers="none", header_names=("origin",))
    assert key_for(headers={"origin": "x"}, policy=ignored).key == key_for().key


@pytest.mark.parametrize(
    ("behavior", "names", "cookie", "expected"),
    [
        ("none", frozenset(), "a=1", b""),
        ("all", frozenset(), "b=2; a=1", b"\x00Ca=1\x00Cb=2"),
        ("all", frozenset(), "b=2;a=1;;  ", b"\x00Ca=1\x00Cb=2"),
        ("whitelist", frozenset({"session"}), "Session=x; session=y; z=1", b"\x00Csession=y"),
        ("allExcept", frozenset({"_ga"}), "_ga=1; lang=fr; id=3", b"\x00Cid=3\x00Clang=fr"),
        ("whitelist", frozenset({"flag"}), "flag; x=1", b"\x00Cflag"),
        ("all", frozenset(), "k=v=w", b"\x00Ck=v=w"),
        ("all", frozenset(), None, b""),
    ],
)
def test_cookies_sorted_by_name(
    behavior: str, names: frozenset[str], cookie: str | None, expected: bytes
) -> None:
    policy = KeyPolicy(cookies=behavior, cookie_names=names)  # type: ignore[arg-type]
    k = key_for(cookie=cookie, policy=policy)
    assert k.key == key_for().key + expected


def test_cookie_order_does_not_split_the_cache() -> None:
    policy = KeyPolicy(cookies="all")
    assert (
        key_for(cookie="a=1; b=2", policy=policy).key
        == key_for(cookie="b=2; a=1", policy=policy).key
    )


def test_header_and_cookie_fields_cannot_be_confused() -> None:
    policy = KeyPolicy(headers="whitelist", header_names=("x",), cookies="all")
    a = key_for(headers={"x": "Cy=1"}, policy=policy)
    b = key_for(headers={"x": ""}, cookie="y=1", policy=policy)
    assert a.key != b.key


@pytest.mark.parametrize(
    "kwargs",
    [
        {"path": "/a\x00b"},
        {"host": "a\x00", "policy": WITH_HOST},
        {"query": "a=\x00", "policy": KeyPolicy(query_strings="all")},
        {"headers": {"x": "\x00"}, "policy": KeyPolicy(headers="whitelist", header_names=("x",))},
        {"cookie": "a=\x00", "policy": KeyPolicy(cookies="all")},
    ],
)
def test_nul_is_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="NUL"):
        key_for(**kwargs)  # type: ignore[arg-type]


def test_non_utf8_safe_inputs_do_not_crash() -> None:
    k = key_for(path="/\udcff\ud800é")
    assert isinstance(k.key, bytes)


_part = st.text(alphabet="ab=1&", max_size=6)


@given(q1=_part, q2=_part, p1=_part, p2=_part)
def test_all_query_key_is_injective(q1: str, q2: str, p1: str, p2: str) -> None:
    policy = KeyPolicy(query_strings="all")
    k1 = key_for(path="/" + p1, query=q1, policy=policy)
    k2 = key_for(path="/" + p2, query=q2, policy=policy)
    assert (k1.key == k2.key) is (p1 == p2 and q1 == q2)


def test_cache_key_is_a_frozen_value() -> None:
    a, b = key_for(), key_for()
    assert a == b and hash(a) == hash(b)
    with pytest.raises(AttributeError):
        a.url = "/other"  # type: ignore[misc]


def test_host_memo_stays_bounded() -> None:
    from openfront.cache import key as key_module

    for i in range(3000):
        assert normalise_host(f"H{i}.Example:80") == f"h{i}.example"
    assert len(key_module._HOSTS) <= key_module._MAX_HOSTS
