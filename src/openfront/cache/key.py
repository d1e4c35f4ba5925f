"""The cache key a cache policy builds from a request (guide §1.3).

Key layout, fields joined by NUL: method ("" unless OPTIONS), host, path, selected query,
normalised Accept-Encoding, then one ``H<value>`` per policy header and one ``C<name=value>`` per
selected cookie. HTTP forbids NUL in all of these, so a NUL in an input is refused (ValueError)
rather than allowed to forge another key.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import lru_cache

from openfront.cache.policy import CookieBehavior, KeyPolicy, QueryStringBehavior


@dataclass(frozen=True, slots=True)
class CacheKey:
    key: bytes
    url: str  # path plus "?query" when the key has one: what invalidation paths match
    accept_encoding: str | None  # normalised value for the key and the origin, when enabled


def normalise_host(host: str) -> str:
    """Lower-case host without a default port (or the trailing dot of an absolute name)."""
    known = _HOSTS.get(host)
    if known is not None:
        return known
    norm = host.lower()
    if norm.endswith(":80"):
        norm = norm[:-3]
    elif norm.endswith(":443"):
        norm = norm[:-4]
    norm = norm[:-1] if norm.endswith(".") else norm
    if len(_HOSTS) >= _MAX_HOSTS:
        _HOSTS.clear()  # a flood of made-up Host values must not grow memory without bound
    _HOSTS[host] = norm
    return norm


# A handful of host names take nearly all requests: remember their normal form.
_HOSTS: dict[str, str] = {}
_MAX_HOSTS = 1024


@lru_cache(maxsize=512)
def _codings(value: str) -> tuple[bool, bool]:
    """(gzip accepted, br accepted); a coding with q=0 is refused (RFC 9110 §12.5.3)."""
    gzip = br = False
    for item in value.lower().split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip()
        if coding not in ("gzip", "br"):
            continue
        accepted = True
        for param in params.split(";"):
            name, _, q = param.partition("=")
            if name.strip() == "q":
                try:
                    accepted = float(q.strip()) > 0
                except ValueError:
                    accepted = False
        if coding == "gzip":
            gzip = accepted
        else:
            br = accepted
    return gzip, br


def normalise_accept_encoding(value: str | None, *, gzip: bool, brotli: bool) -> str | None:
    """CloudFront's normalised Accept-Encoding: "br,gzip", "gzip", "br" or None (guide §1.3)."""
    if not value:
        return None
    has_gzip, has_br = _codings(value)
    use_br = brotli and has_br
    use_gzip = gzip and has_gzip
    if use_br and use_gzip:
        return "br,gzip"
    if use_gzip:
        return "gzip"
    return "br" if use_br else None


def select_query(query: str, behavior: QueryStringBehavior, names: Collection[str]) -> str:
    """The query parameters a policy keeps, as sent (split on '&' only, order and case kept)."""
    if not query or behavior == "none":
        return ""
    if behavior == "all":
        return query
    keep_named = behavior == "whitelist"
    kept = [p for p in query.split("&") if (p.partition("=")[0] in names) == keep_named]
    return "&".join(kept)


def parse_cookies(cookie_header: str | None) -> list[tuple[str, str]]:
    """(name, "name=value") pairs from a Cookie header, in the order sent."""
    if not cookie_header:
        return []
    out = []
    for item in cookie_header.split(";"):
        pair = item.strip()
        if pair:
            out.append((pair.partition("=")[0].rstrip(), pair))
    return out


def select_cookies(
    cookies: list[tuple[str, str]], behavior: CookieBehavior, names: Collection[str]
) -> list[tuple[str, str]]:
    """Cookies a policy keeps, sorted by name (CloudFront sorts them, guide §1.3)."""
    if behavior == "none" or not cookies:
        return []
    if behavior == "all":
        kept = cookies
    else:
        keep_named = behavior == "whitelist"
        kept = [c for c in cookies if (c[0] in names) == keep_named]
    return sorted(kept, key=lambda c: c[0])


def _encode(fields: list[str]) -> bytes:
    joined = "\x00".join(fields)
    if joined.count("\x00") != len(fields) - 1:
        raise ValueError("a cache-key input contains a NUL character")
    return joined.encode("utf-8", "surrogatepass")


# Building a frozen dataclass through __init__ costs twice as much as setting its slots directly;
# this runs once per request.
_new = object.__new__
_slots = vars(CacheKey)
_set_key: Callable[[CacheKey, bytes], None] = _slots["key"].__set__
_set_url: Callable[[CacheKey, str], None] = _slots["url"].__set__
_set_ae: Callable[[CacheKey, str | None], None] = _slots["accept_encoding"].__set__


def _make_key(key: bytes, url: str, accept_encoding: str | None) -> CacheKey:
    made: CacheKey = _new(CacheKey)
    _set_key(made, key)
    _set_url(made, url)
    _set_ae(made, accept_encoding)
    return made


def cache_key(
    *,
    host: str,
    path: str,
    query: str,
    method: str,
    header: Callable[[str], str | None],
    cookie_header: str | None,
    policy: KeyPolicy,
) -> CacheKey:
    """Build the cache key for one request under ``policy`` (guide §1.3)."""
    method_field = "OPTIONS" if method == "OPTIONS" else ""
    selected = select_query(query, policy.query_strings, policy.query_string_names)
    url = f"{path}?{selected}" if selected else path
    ae: str | None = None
    if policy.accept_encoding_gzip or policy.accept_encoding_brotli:
        ae = normalise_accept_encoding(
            header("accept-encoding"),
            gzip=policy.accept_encoding_gzip,
            brotli=policy.accept_encoding_brotli,
        )
    # CloudFront keys on the distribution (the edge's key prefix) and the path; the viewer's Host
    # enters only when the policy names it, as UseOriginCacheControlHeaders does.
    keyed_host = policy.headers != "none" and "host" in policy.header_names
    fields = [method_field, normalise_host(host) if keyed_host else "", path, selected, ae or ""]
    if policy.headers != "none":
        fields.extend("H" + (header(name) or "") for name in policy.header_names if name != "host")
    if policy.cookies != "none" and cookie_header:
        chosen = select_cookies(parse_cookies(cookie_header), policy.cookies, policy.cookie_names)
        fields.extend("C" + pair for _, pair in chosen)
    return _make_key(_encode(fields), url, ae)
