"""Conditional requests answered from a stored response (RFC 9110 §13.1, §13.2.2)."""

from __future__ import annotations

import enum
import re
from typing import Literal

from openfront.http.dates import parse_http_date


class Precondition(enum.Enum):
    PROCEED = "proceed"  # serve the stored response (or the requested range)
    NOT_MODIFIED = "not-modified"  # 304
    FAILED = "failed"  # 412


# An entity-tag, possibly weak, or failing that any run of junk up to a comma: malformed lists
# are read as far as they make sense, and junk simply matches nothing that was sent properly.
_ETAG_ITEM = re.compile(r'(?:W/)?"[^"]*"|[^,\s]+')


def parse_etag_list(value: str) -> list[str] | Literal["*"]:
    """The entity-tags of If-Match/If-None-Match, or "*" (RFC 9110 §13.1.1-13.1.2)."""
    if value.strip() == "*":
        return "*"
    return _ETAG_ITEM.findall(value)


def _opaque(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag


def strong_match(a: str, b: str) -> bool:
    """Strong comparison: neither tag weak, and identical (RFC 9110 §8.8.3.2)."""
    return a == b and not a.startswith("W/")


def weak_match(a: str, b: str) -> bool:
    """Weak comparison: identical opaque tags, weak or not (RFC 9110 §8.8.3.2)."""
    return _opaque(a) == _opaque(b)


def _any_strong(tags: list[str] | Literal["*"], etag: str | None) -> bool:
    # "*" matches any current representation; answering from a stored one, there always is one.
    if tags == "*":
        return True
    return etag is not None and any(strong_match(t, etag) for t in tags)


def _any_weak(tags: list[str] | Literal["*"], etag: str | None) -> bool:
    if tags == "*":
        return True
    return etag is not None and any(weak_match(t, etag) for t in tags)


def _modified_after(last_modified: str | None, since: str | None) -> bool | None:
    """Whether Last-Modified is later than ``since``; None when either date is unusable."""
    lm = parse_http_date(last_modified)
    ts = parse_http_date(since)
    if lm is None or ts is None:
        return None
    return lm > ts


def evaluate_preconditions(
    method: str,
    *,
    if_match: str | None,
    if_none_match: str | None,
    if_modified_since: str | None,
    if_unmodified_since: str | None,
    etag: str | None,
    last_modified: str | None,
) -> Precondition:
    """Evaluate the request's preconditions in RFC 9110 §13.2.2 order."""
    etag = etag.strip() if etag else None
    if if_match is not None:
        if not _any_strong(parse_etag_list(if_match), etag):
            return Precondition.FAILED
    elif if_unmodified_since is not None:
        if _modified_after(last_modified, if_unmodified_since):
            return Precondition.FAILED
    safe = method in ("GET", "HEAD")
    if if_none_match is not None:
        if _any_weak(parse_etag_list(if_none_match), etag):
            return Precondition.NOT_MODIFIED if safe else Precondition.FAILED
    elif safe and if_modified_since is not None:
        if _modified_after(last_modified, if_modified_since) is False:
            return Precondition.NOT_MODIFIED
    return Precondition.PROCEED


def if_range_ok(if_range: str, etag: str | None, last_modified: str | None) -> bool:
    """Whether the Range header applies given If-Range (RFC 9110 §13.1.5)."""
    value = if_range.strip()
    if value.startswith(('"', "W/")):
        return etag is not None and strong_match(value, etag.strip())
    ts = parse_http_date(value)
    return ts is not None and ts == parse_http_date(last_modified)
