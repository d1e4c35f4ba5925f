"""What the edge sends to the origin (guide §1.4) and which Vary names reach viewers (§1.12)."""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass
from functools import lru_cache

from openfront.cache.key import parse_cookies
from openfront.cache.policy import Behavior, KeyPolicy, Origin, OriginRequestPolicy
from openfront.http.headers import HOP_BY_HOP

# Framing and connection management belong to the edge's own origin connection.
_CONNECTION_LEVEL = HOP_BY_HOP | {"content-length"}
# Viewer validators and ranges would make the origin answer with something the edge cannot store.
_CACHEABLE_FETCH_DROPS = frozenset({"cache-control", "pragma", "range"})
# Forwarded whatever the policies say (guide §1.4), body description included.
_ALWAYS_FORWARDED = frozenset({"origin", "content-type", "content-encoding"})
# Set by the edge itself: a viewer's copy is dropped, never forwarded.
_EDGE_SET = frozenset({"x-amz-cf-id", "cookie", "host", "x-forwarded-for", "via"})
USER_AGENT = "Amazon CloudFront"
_DEFAULT_PORTS = {"http-only": (80,), "https-only": (443,), "match-viewer": (80, 443)}
_VARY_ALWAYS = frozenset({"accept-encoding", "cookie"})


@dataclass(frozen=True, slots=True)
class HeaderSelection:
    """The viewer header names a behavior forwards (key policy ∪ origin request policy)."""

    all_viewer: bool
    names: frozenset[str]  # forwarded explicitly (always, even under allExcept)
    excluded: frozenset[str] = frozenset()  # only meaningful with all_viewer

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        name = name.lower()
        if name in self.names:
            return True
        return self.all_viewer and name not in self.excluded


@lru_cache(maxsize=256)
def _selection(key: KeyPolicy, orp: OriginRequestPolicy) -> HeaderSelection:
    key_names = frozenset(key.header_names) if key.headers == "whitelist" else frozenset()
    mode = orp.headers
    if mode in ("allViewer", "allViewerAndWhitelistCloudFront"):
        return HeaderSelection(True, key_names | orp.header_names)
    if mode == "allExcept":
        return HeaderSelection(True, key_names, orp.header_names - key_names)
    if mode == "whitelist":
        return HeaderSelection(False, key_names | orp.header_names)
    return HeaderSelection(False, key_names)


def header_selection(behavior: Behavior) -> HeaderSelection:
    """Which viewer headers ``behavior`` forwards to its origin."""
    return _selection(behavior.key, behavior.origin_request)


def _origin_host(origin: Origin) -> str:
    if origin.port in _DEFAULT_PORTS.get(origin.protocol, (80, 443)):
        return origin.domain
    return f"{origin.domain}:{origin.port}"


def _connection_nominated(viewer_headers: Sequence[tuple[str, str]]) -> frozenset[str]:
    """RFC 9110 §7.6.1: names listed in Connection are hop-by-hop too."""
    names: set[str] = set()
    for name, value in viewer_headers:
        if name.lower() == "connection":
            names.update(t.strip().lower() for t in value.split(",") if t.strip())
    return frozenset(names)


def _passes(name: str, selection: HeaderSelection, cacheable_fetch: bool) -> bool:
    if name.startswith("if-") or name in _CACHEABLE_FETCH_DROPS:
        return not cacheable_fetch
    return name in _ALWAYS_FORWARDED or name in selection


def _append(values: list[str], extra: str) -> str:
    return ", ".join([*values, extra]) if values else extra


def origin_request_headers(
    viewer_headers: Sequence[tuple[str, str]],
    *,
    behavior: Behavior,
    origin: Origin,
    client_ip: str,
    request_id: str,
    via: str,
    accept_encoding: str | None,
    cacheable_fetch: bool,
) -> list[tuple[str, str]]:
    """The header block for the origin request, without Cookie and framing (guide §1.4).

    ``accept_encoding`` is the normalised value from the cache key.
    """
    selection = header_selection(behavior)
    hop = _CONNECTION_LEVEL | _connection_nominated(viewer_headers)
    normalising = behavior.key.accept_encoding_gzip or behavior.key.accept_encoding_brotli
    forward_host = origin.is_parent_edge or "host" in selection
    host = _origin_host(origin)
    xff: list[str] = []
    vias: list[str] = []
    out: list[tuple[str, str]] = []
    for name, value in viewer_headers:
        lname = name.lower()
        if lname in hop:
            continue
        if lname in _EDGE_SET:
            if lname == "x-forwarded-for" and value.strip():
                xff.append(value.strip())
            elif lname == "via" and value.strip():
                vias.append(value.strip())
            elif lname == "host" and forward_host:
                host = value
            continue
        if lname == "accept-encoding" and normalising:
            continue
        if _passes(lname, selection, cacheable_fetch):
            out.append((name, value))
    if "user-agent" not in selection:
        out.append(("User-Agent", USER_AGENT))
    if normalising:
        out.append(("Accept-Encoding", accept_encoding or "identity"))
    out.append(("X-Forwarded-For", _append(xff, client_ip)))
    out.append(("Via", _append(vias, via)))
    out.append(("X-Amz-Cf-Id", request_id))
    out.append(("Connection", "keep-alive"))
    return _with_custom_headers([("Host", host), *out], origin.custom_headers)


def _with_custom_headers(
    headers: list[tuple[str, str]], custom: tuple[tuple[str, str], ...]
) -> list[tuple[str, str]]:
    """The origin's custom headers replace any same-named header."""
    if not custom:
        return headers
    overridden = {n.lower() for n, _ in custom}
    return [h for h in headers if h[0].lower() not in overridden] + list(custom)


def _selects(mode: str, names: Container[str], name: str) -> bool:
    """Whether a none/whitelist/allExcept/all selection keeps the parameter or cookie ``name``."""
    if mode == "all":
        return True
    if mode == "whitelist":
        return name in names
    return mode == "allExcept" and name not in names


def origin_query(query: str, behavior: Behavior) -> str:
    """Query parameters selected by the key or the origin request policy, in the order sent."""
    key, orp = behavior.key, behavior.origin_request
    if not query or (key.query_strings == "none" and orp.query_strings == "none"):
        return ""
    if key.query_strings == "all" or orp.query_strings == "all":
        return query
    kept = [
        part
        for part in query.split("&")
        if _selects(key.query_strings, key.query_string_names, part.partition("=")[0])
        or _selects(orp.query_strings, orp.query_string_names, part.partition("=")[0])
    ]
    return "&".join(kept)


def origin_cookies(cookie_header: str | None, behavior: Behavior) -> str | None:
    """Cookies selected by the key or the origin request policy, sorted by name, "; " joined."""
    key, orp = behavior.key, behavior.origin_request
    if not cookie_header or (key.cookies == "none" and orp.cookies == "none"):
        return None
    chosen = [
        (name, pair)
        for name, pair in parse_cookies(cookie_header)
        if _selects(key.cookies, key.cookie_names, name)
        or _selects(orp.cookies, orp.cookie_names, name)
    ]
    chosen.sort(key=lambda c: c[0])
    return "; ".join(pair for _, pair in chosen) or None


def response_vary_allowed(vary_value: str, forwarded_header_names: Container[str]) -> str | None:
    """The Vary names a viewer may see: Accept-Encoding, Cookie and forwarded headers (§1.12).

    User-Agent passes when a CloudFront-Is-*-Viewer device header is forwarded; ``*`` never does.
    ``forwarded_header_names`` holds lower-case names (a :class:`HeaderSelection` works too).
    """
    kept: list[str] = []
    for item in vary_value.split(","):
        name = item.strip()
        lname = name.lower()
        if not name or name == "*":
            continue
        if lname in _VARY_ALWAYS or lname in forwarded_header_names:
            kept.append(name)
        elif lname == "user-agent" and _device_headers_forwarded(forwarded_header_names):
            kept.append(name)
    return ", ".join(kept) or None


_DEVICE_HEADERS = tuple(
    f"cloudfront-is-{d}-viewer"
    for d in ("android", "desktop", "ios", "mobile", "smarttv", "tablet")
)


def _device_headers_forwarded(forwarded: Container[str]) -> bool:
    return any(h in forwarded for h in _DEVICE_HEADERS)
