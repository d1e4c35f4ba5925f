"""When the edge compresses a response, and how its headers change (guide §1.7)."""

from __future__ import annotations

MIN_BYTES = 1_000
MAX_BYTES = 10_000_000
_STATUSES = frozenset({200, 403, 404})

# CloudFront's exact list of compressed content types.
COMPRESSIBLE_TYPES = frozenset(
    [f"application/{t}" for t in (
        "dash+xml", "eot", "font", "font-sfnt", "javascript", "json", "opentype", "otf",
        "pkcs7-mime", "protobuf", "rss+xml", "truetype", "ttf", "vnd.apple.mpegurl",
        "vnd.mapbox-vector-tile", "vnd.ms-fontobject", "xhtml+xml", "xml", "x-font-opentype",
        "x-font-truetype", "x-font-ttf", "x-httpd-cgi", "x-javascript", "x-mpegurl",
        "x-opentype", "x-otf", "x-perl", "x-ttf",
    )]
    + [f"font/{t}" for t in ("eot", "opentype", "otf", "ttf")]
    + ["image/svg+xml", "vnd.apple.mpegurl"]
    + [f"text/{t}" for t in (
        "css", "csv", "html", "javascript", "js", "plain", "richtext",
        "tab-separated-values", "xml", "x-component", "x-java-source", "x-script",
    )]
)  # fmt: skip


def choose_encoding(accept_encoding: str | None) -> str | None:
    """The coding for a normalised Accept-Encoding from the cache key: Brotli preferred."""
    if not accept_encoding:
        return None
    return "br" if "br" in accept_encoding.split(",") else "gzip"


def compressible(
    status: int, content_type: str | None, content_encoding: str | None, length: int | None
) -> bool:
    """CloudFront's conditions on the origin response (the behavior's Compress flag, TTLs above
    zero and the viewer's Accept-Encoding are checked by the caller)."""
    if status not in _STATUSES or length is None or not MIN_BYTES <= length <= MAX_BYTES:
        return False
    if content_encoding and content_encoding.strip().lower() != "identity":
        return False
    if not content_type:
        return False
    return content_type.partition(";")[0].strip().lower() in COMPRESSIBLE_TYPES


def weak_etag(etag: str | None) -> str | None:
    """A strong ETag becomes weak; a weak one stays; an invalid one is dropped (guide §1.7)."""
    if etag is None:
        return None
    if etag.startswith("W/"):
        return etag
    if etag.startswith('"'):
        return "W/" + etag
    return None
