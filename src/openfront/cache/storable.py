"""May a response be stored at all? (RFC 9111 §3, §3.5; guide §1.2, §1.8)."""

from __future__ import annotations

from dataclasses import dataclass

from openfront.cache.vary import vary_names
from openfront.http.cache_control import CacheControl


@dataclass(frozen=True, slots=True)
class Storability:
    ok: bool
    reason: str
    # The size is not known up front: the edge must stop storing once max_object_size is passed.
    limit_while_streaming: bool = False


def _authorized_ok(cc: CacheControl) -> bool:
    """RFC 9111 §3.5: a shared cache stores an authorised response only when told it may."""
    return cc.public or cc.must_revalidate or cc.s_maxage is not None


def storable(
    method: str,
    status: int,
    *,
    request_cc: CacheControl,
    response_cc: CacheControl,
    request_has_authorization: bool,
    vary: str | None,
    content_length: int | None,
    chunked_or_close_delimited: bool,
    cached_methods: frozenset[str],
    max_object_size: int,
) -> Storability:
    """Storage rules that do not depend on the TTL (no-store/private are CloudFront's MinTTL rule,
    in :func:`openfront.cache.freshness.compute_ttl`).

    ``request_cc`` is accepted but ignored on purpose: CloudFront ignores the viewer's
    Cache-Control, including ``no-store`` (guide §1.2).
    """
    if method not in cached_methods:
        return Storability(False, f"{method} is not a cached method of this behavior")
    if method != "GET":
        return Storability(False, f"only GET responses are stored, not {method}")
    if status < 200 or status == 304:
        return Storability(False, f"status {status} is not a storable final response")
    if request_has_authorization and not _authorized_ok(response_cc):
        return Storability(False, "request had Authorization and the response is not public")
    if vary_names(vary) is None:
        return Storability(False, "Vary: * never matches a later request")
    if content_length is not None:
        if content_length < 0:
            return Storability(False, f"invalid Content-Length {content_length}")
        if content_length > max_object_size:
            return Storability(
                False, f"Content-Length {content_length} exceeds max object size {max_object_size}"
            )
        return Storability(True, "storable")
    if chunked_or_close_delimited:
        return Storability(True, "storable; size unknown until the body ends", True)
    return Storability(True, "storable")
