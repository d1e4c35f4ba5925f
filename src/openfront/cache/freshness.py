"""Age and freshness (RFC 9111 §4.2) with CloudFront's TTL rules (guide §1.2, §1.9)."""

from __future__ import annotations

from dataclasses import dataclass

from openfront.cache.policy import TtlPolicy
from openfront.http.cache_control import EMPTY, CacheControl, parse_cache_control
from openfront.http.dates import parse_http_date

# RFC 9111 §4.2.2: statuses that may be given a heuristic (here: DefaultTTL) lifetime.
HEURISTIC_STATUSES = frozenset({200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501})
# Guide §1.9: errors CloudFront caches even without max-age ...
ERRORS_ALWAYS_CACHED = frozenset({404, 414, 500, 501, 502, 503, 504})
# ... and errors it caches only when the origin sends max-age or s-maxage.
ERRORS_CACHED_IF_EXPLICIT = frozenset({400, 403, 405, 412, 415})
# The only errors a restrictive Cache-Control (no-store, no-cache, private) keeps out.
ERRORS_RESTRICTABLE = frozenset({404, 410, 414, 501})


@dataclass(frozen=True, slots=True)
class TtlDecision:
    store: bool
    ttl: float
    reason: str


def effective_cache_control(
    cache_control: str | None, cdn_cache_control: str | None
) -> CacheControl:
    """RFC 9213: a CDN-Cache-Control with directives replaces Cache-Control for the CDN."""
    if cdn_cache_control:
        cdn = parse_cache_control(cdn_cache_control)
        if cdn != EMPTY:
            return cdn
    return parse_cache_control(cache_control)


def corrected_initial_age(
    age_value: float | None,
    date_value: float | None,
    request_time: float,
    response_time: float,
) -> float:
    """RFC 9111 §4.2.3; a missing Date gives an apparent age of 0, a missing Age counts as 0."""
    apparent_age = 0.0 if date_value is None else max(0.0, response_time - date_value)
    response_delay = response_time - request_time
    corrected_age_value = max(0.0, age_value or 0.0) + response_delay
    return max(apparent_age, corrected_age_value)


def current_age(initial_age: float, response_time: float, now: float) -> float:
    """RFC 9111 §4.2.3: corrected_initial_age + resident_time."""
    return initial_age + (now - response_time)


def stale_windows(cc: CacheControl) -> tuple[float, float]:
    """(stale-while-revalidate, stale-if-error) in seconds, 0 when absent (RFC 5861)."""
    swr = cc.stale_while_revalidate
    sie = cc.stale_if_error
    return (0.0 if swr is None else float(swr), 0.0 if sie is None else float(sie))


def _decision(ttl: float, reason: str) -> TtlDecision:
    if ttl <= 0:
        return TtlDecision(False, 0.0, f"{reason}: lifetime 0")
    return TtlDecision(True, float(ttl), reason)


def _explicit_lifetime(
    cc: CacheControl, expires: str | None, date: float | None, response_time: float
) -> tuple[float, str] | None:
    """CloudFront's order: s-maxage, then max-age, then Expires (RFC 9111 §4.2.1)."""
    if cc.s_maxage is not None:
        return float(cc.s_maxage), "s-maxage"
    if cc.max_age is not None:
        return float(cc.max_age), "max-age"
    if expires is not None:
        expires_at = parse_http_date(expires)
        if expires_at is None:
            return 0.0, "invalid expires"  # RFC 9111 §5.3: an invalid date means already expired
        base = response_time if date is None else date
        return max(0.0, expires_at - base), "expires"
    return None


def _error_ttl(
    status: int,
    cc: CacheControl,
    error_caching_min_ttl: int,
    max_ttl: int,
    lifetime: tuple[float, str] | None,
) -> TtlDecision:
    """Guide §1.9: ttl = max(ErrorCachingMinTTL, the origin's s-maxage, max-age or Expires); the
    origin's value is capped by the behavior's MaxTTL, as for any object. no-store, no-cache and
    private keep only 404, 410, 414 and 501 out of the cache; CloudFront ignores them on other
    errors (custom-error-pages-expiration)."""
    if (cc.no_store or cc.no_cache or cc.private) and status in ERRORS_RESTRICTABLE:
        return TtlDecision(False, 0.0, f"error {status} with no-store/no-cache/private")
    explicit = None if lifetime is None else min(lifetime[0], max_ttl)
    if status in ERRORS_ALWAYS_CACHED:
        return _decision(max(error_caching_min_ttl, explicit or 0), f"error {status}")
    if status in ERRORS_CACHED_IF_EXPLICIT and explicit is not None:
        return _decision(max(error_caching_min_ttl, explicit), f"error {status} with max-age")
    return TtlDecision(False, 0.0, f"error {status} is not cached")


def _clamp(h: float, ttl: TtlPolicy) -> float:
    if ttl.min_ttl == 0:
        return min(h, ttl.max_ttl)
    return min(max(h, ttl.min_ttl), ttl.max_ttl)


def compute_ttl(
    status: int,
    cc: CacheControl,
    *,
    expires: str | None,
    date: float | None,
    response_time: float,
    ttl: TtlPolicy,
    error_caching_min_ttl: int = 10,
) -> TtlDecision:
    """How long CloudFront keeps a response fresh (guide §1.2 pseudo-code and §1.9 errors).

    ``cc`` is the effective Cache-Control (see :func:`effective_cache_control`); ``expires`` the raw
    Expires value (None when absent); ``date`` the parsed Date.
    """
    if status == 206:
        return TtlDecision(False, 0.0, "partial content is not stored (whole objects only)")
    if status < 200 or status == 304:
        return TtlDecision(False, 0.0, f"status {status} is not storable")
    if status >= 400:
        declared = _explicit_lifetime(cc, expires, date, response_time)
        return _error_ttl(status, cc, error_caching_min_ttl, ttl.max_ttl, declared)
    if cc.no_cache or cc.no_store or cc.private:
        # CloudFront keeps such responses for MinTTL when it is set (guide §1.2).
        return _decision(ttl.min_ttl, "no-cache/no-store/private, MinTTL")
    explicit = _explicit_lifetime(cc, expires, date, response_time)
    if explicit is None:
        if status not in HEURISTIC_STATUSES:
            return TtlDecision(False, 0.0, f"status {status} has no explicit freshness")
        return _decision(max(ttl.min_ttl, ttl.default_ttl), "DefaultTTL")
    lifetime, source = explicit
    return _decision(_clamp(lifetime, ttl), source)
