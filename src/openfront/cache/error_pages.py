"""Custom error responses (guide §1.9): which page answers an error, with what status, and how
long the error is cached (CloudFront's CustomErrorResponses and ErrorCachingMinTTL)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from openfront.cache.policy import CustomErrorResponse

# CloudFront's default ErrorCachingMinTTL, for codes without a CustomErrorResponse.
DEFAULT_ERROR_CACHING_MIN_TTL = 10
# The codes CloudFront lets a CustomErrorResponse name.
CUSTOMISABLE = frozenset({400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504})
# The edge's refusals for CloudFront's own capacity or limits: never given a custom page.
_CAPACITY_DETAILS = frozenset({"CapacityExceeded", "LimitExceeded"})
# Viewer request fields that never reach the page request: the page is sent whole, never as a
# range or a 304 (the viewer's validators are about the object it asked for, not the page).
_NOT_FOR_THE_PAGE = frozenset(
    {"range", "if-range", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since"}
)


class Cause(Enum):
    """Who made the error status."""

    ORIGIN = "origin"  # the origin answered with it (fresh or from the cache)
    EDGE = "edge"  # the edge: origin unreachable (502) or timed out (504), geo or signature 403
    CAPACITY = "capacity"  # CloudFront's Capacity/Limit Exceeded 503


@dataclass(frozen=True, slots=True)
class ErrorPage:
    """Serve the object at ``path`` (through the behaviors) with status ``status``."""

    path: str
    status: int


def error_page(
    responses: Mapping[int, CustomErrorResponse], status: int, cause: Cause
) -> ErrorPage | None:
    """The page that replaces an error, or None to send the error itself.

    ResponseCode, when unset, keeps the error's own status. A response without a page path only
    sets the error caching TTL.
    """
    if cause is Cause.CAPACITY or status not in CUSTOMISABLE:
        return None
    found = responses.get(status)
    if found is None or found.response_page_path is None:
        return None
    return ErrorPage(found.response_page_path, found.response_code or status)


def has_page(responses: Mapping[int, CustomErrorResponse], status: int) -> bool:
    """Whether an origin error with ``status`` is answered with a page (cheap, for hit paths)."""
    found = responses.get(status)
    return found is not None and found.response_page_path is not None


def error_caching_min_ttl(responses: Mapping[int, CustomErrorResponse], status: int) -> int:
    """ErrorCachingMinTTL for ``status``: its CustomErrorResponse's, else CloudFront's 10 s."""
    found = responses.get(status)
    return DEFAULT_ERROR_CACHING_MIN_TTL if found is None else found.error_caching_min_ttl


def edge_error_cause(detail: str) -> Cause:
    """The cause of an error the edge made itself, from its log detail."""
    return Cause.CAPACITY if detail in _CAPACITY_DETAILS else Cause.EDGE


def page_request_fields(fields: Mapping[str, str]) -> dict[str, str]:
    """The viewer's request fields as the page request carries them (no Range, no If-*)."""
    return {n: v for n, v in fields.items() if n not in _NOT_FOR_THE_PAGE}


def page_available(status: int) -> bool:
    """A page answered with an error is missing: the viewer then gets that error as it came
    from the page's origin (guide §1.9), never a second page."""
    return status < 400
