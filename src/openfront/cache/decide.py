"""Cache decisions as a closed set of typed outcomes, for the edge's ``match`` (RFC 9111 §4)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from openfront.cache.entry import EntryMeta
from openfront.http.headers import HOP_BY_HOP

Headers = tuple[tuple[str, str], ...]

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Never taken from a 304: the stored body's framing and coding stay as they were (§3.2, §4.3.4).
_KEEP_STORED = frozenset(
    {"content-length", "transfer-encoding", "content-range", "content-encoding"}
)


@dataclass(frozen=True, slots=True)
class Fresh:
    """Serve the stored response."""

    age: float


@dataclass(frozen=True, slots=True)
class StaleServe:
    """Serve the stale response now and revalidate it in the background with ``headers``."""

    age: float
    headers: Headers


@dataclass(frozen=True, slots=True)
class Revalidate:
    """Ask the origin first, with these conditional headers (may be empty)."""

    headers: Headers


Lookup = Fresh | StaleServe | Revalidate


def conditional_headers(meta: EntryMeta) -> Headers:
    """Validators for revalidating ``meta`` (RFC 9111 §4.3.1)."""
    out: list[tuple[str, str]] = []
    if meta.etag:
        out.append(("If-None-Match", meta.etag))
    if meta.last_modified:
        out.append(("If-Modified-Since", meta.last_modified))
    return tuple(out)


def lookup(meta: EntryMeta, now: float, *, origin_may_be_down: bool = False) -> Lookup:
    """Fresh, stale within stale-while-revalidate (or stale-if-error when the origin is failing),
    or revalidate (RFC 9111 §4.2, §4.2.4; RFC 5861)."""
    age = meta.age(now)
    if age < meta.ttl:
        return Fresh(age)
    if not meta.must_revalidate:
        staleness = age - meta.ttl
        window = meta.stale_while_revalidate
        if origin_may_be_down:
            window = max(window, meta.stale_if_error)
        if staleness < window:
            return StaleServe(age, conditional_headers(meta))
    return Revalidate(conditional_headers(meta))


def on_error_may_serve_stale(meta: EntryMeta, now: float, status: int | None) -> bool:
    """RFC 5861 §4: serve stale on a 5xx or a failed connection (None) within stale-if-error.

    A negative ``stale_if_error`` means the origin sent none: CloudFront then serves the
    expired copy on origin errors anyway (guide §1.2, §1.9); ``stale-if-error=0`` turns it off.
    """
    if meta.must_revalidate:
        return False
    if status is not None and not 500 <= status <= 599:
        return False
    if meta.stale_if_error < 0:
        return True
    return meta.age(now) - meta.ttl < meta.stale_if_error


def stale_hold_applies(meta: EntryMeta, now: float, until: float, status: int | None) -> bool:
    """Whether to serve ``meta`` stale again without asking the origin.

    After the origin failed on this object (``status``: its 5xx, None for no answer) while a
    stale copy could be served, CloudFront keeps serving that copy for ErrorCachingMinTTL
    (``until``) and only then asks again (guide §1.9).
    """
    return now < until and on_error_may_serve_stale(meta, now, status)


def merge_not_modified(stored: Headers, fresh: Sequence[tuple[str, str]]) -> Headers:
    """RFC 9111 §4.3.4: a 304's fields replace the stored ones of the same name, in place."""
    nominated = {
        t.strip().lower() for n, v in fresh if n.lower() == "connection" for t in v.split(",")
    }
    skip = _KEEP_STORED | HOP_BY_HOP | nominated
    updates: dict[str, list[tuple[str, str]]] = {}
    for name, value in fresh:
        lname = name.lower()
        if lname not in skip:
            updates.setdefault(lname, []).append((name, value))
    if not updates:
        return stored
    out: list[tuple[str, str]] = []
    placed: set[str] = set()
    for name, value in stored:
        lname = name.lower()
        if lname not in updates:
            out.append((name, value))
        elif lname not in placed:
            out.extend(updates[lname])
            placed.add(lname)
    for lname, fields in updates.items():
        if lname not in placed:
            out.extend(fields)
    return tuple(out)


def invalidates_after_unsafe(method: str, status: int) -> bool:
    """RFC 9111 §4.4: a non-error response to an unsafe method invalidates the target URI."""
    return method not in _SAFE_METHODS and 200 <= status <= 399
