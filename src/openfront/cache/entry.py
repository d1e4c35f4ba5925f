"""What the cache keeps about one stored response (everything but the body)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openfront.cache.response_headers import EditedHead


@dataclass(slots=True)
class EntryMeta:
    """Metadata of one stored response.

    Times are seconds since the epoch. ``initial_age`` is the corrected initial age of RFC 9111
    §4.2.3, so ``current_age = initial_age + (now - response_time)``. ``ttl`` is the freshness
    lifetime after CloudFront's Min/Default/Max TTL clamp. ``headers`` are the origin's response
    headers as stored (hop-by-hop fields removed), in order; the edge pre-serialises them once.
    """

    key: bytes
    url: str  # path plus "?query" when the key had one: what an invalidation path matches
    status: int
    headers: tuple[tuple[str, str], ...]
    body_size: int
    request_time: float
    response_time: float
    initial_age: float
    ttl: float
    stale_while_revalidate: float = 0.0
    stale_if_error: float = 0.0  # negative: the origin sent none (CloudFront's default applies)
    must_revalidate: bool = False
    etag: str | None = None
    last_modified: str | None = None
    vary: tuple[str, ...] = ()  # lower-case header names from the response's Vary
    stored_at: float = 0.0  # when this copy entered the cache; invalidations compare against it
    content_type: str | None = None  # for the access log (sc-content-type)
    # The stored header block serialised once for the wire (not persisted; rebuilt on load).
    wire: bytes = b""
    # Status line + wire + Content-Length of the whole stored body (not persisted).
    head: bytes = b""
    # This head as a response headers policy edits it (not persisted; checked by identity).
    edited: EditedHead | None = field(default=None, compare=False, repr=False)

    def age(self, now: float) -> float:
        return self.initial_age + (now - self.response_time)

    def to_dict(self) -> dict[str, object]:
        return {
            "key": self.key.hex(),
            "url": self.url,
            "status": self.status,
            "headers": [list(h) for h in self.headers],
            "body_size": self.body_size,
            "request_time": self.request_time,
            "response_time": self.response_time,
            "initial_age": self.initial_age,
            "ttl": self.ttl,
            "stale_while_revalidate": self.stale_while_revalidate,
            "stale_if_error": self.stale_if_error,
            "must_revalidate": self.must_revalidate,
            "etag": self.etag,
            "last_modified": self.last_modified,
            "vary": list(self.vary),
            "stored_at": self.stored_at,
            "content_type": self.content_type,
        }

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> EntryMeta:
        """Inverse of :meth:`to_dict`; raises ValueError/TypeError/KeyError on a bad record."""
        headers = d["headers"]
        vary = d["vary"]
        if not isinstance(headers, list) or not isinstance(vary, list):
            raise TypeError("headers and vary must be lists")
        etag = d["etag"]
        lm = d["last_modified"]
        return cls(
            key=bytes.fromhex(str(d["key"])),
            url=str(d["url"]),
            status=int(d["status"]),  # type: ignore[call-overload]
            headers=tuple((str(n), str(v)) for n, v in headers),
            body_size=int(d["body_size"]),  # type: ignore[call-overload]
            request_time=float(d["request_time"]),  # type: ignore[arg-type]
            response_time=float(d["response_time"]),  # type: ignore[arg-type]
            initial_age=float(d["initial_age"]),  # type: ignore[arg-type]
            ttl=float(d["ttl"]),  # type: ignore[arg-type]
            stale_while_revalidate=float(d["stale_while_revalidate"]),  # type: ignore[arg-type]
            stale_if_error=float(d["stale_if_error"]),  # type: ignore[arg-type]
            must_revalidate=bool(d["must_revalidate"]),
            etag=None if etag is None else str(etag),
            last_modified=None if lm is None else str(lm),
            vary=tuple(str(v) for v in vary),
            stored_at=float(d["stored_at"]),  # type: ignore[arg-type]
            content_type=None if d.get("content_type") is None else str(d["content_type"]),
        )
