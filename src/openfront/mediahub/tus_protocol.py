"""tus 1.0.0 headers: parsing and the protocol's constants (pure; the routes use them).

Each parser raises :class:`TusHeaderError` with a sentence for the client; the route turns it
into 400 (or the status it carries).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

TUS_VERSION = "1.0.0"
EXTENSIONS = ("creation", "creation-with-upload", "termination", "checksum", "expiration")
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
CHECKSUM_MISMATCH = 460  # tus checksum extension: not an IANA status, so no reason phrase
_DIGITS = re.compile(r"^[0-9]{1,20}$")
_KEY = re.compile(r"^[^\s,]+$")
ALGORITHMS: dict[str, Callable[[], Any]] = {
    "sha1": hashlib.sha1,
    "md5": hashlib.md5,
    "sha256": hashlib.sha256,
}


class TusHeaderError(ValueError):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def parse_length(value: str | None, header: str) -> int:
    """A non-negative integer header (``Upload-Length``, ``Upload-Offset``)."""
    if value is None:
        raise TusHeaderError(f"{header} is required")
    value = value.strip()
    if not _DIGITS.match(value):
        raise TusHeaderError(f"{header} must be a non-negative integer")
    return int(value)


def parse_metadata(value: str | None) -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64value`` pairs (value optional),
    unique keys; values decoded as UTF-8 text."""
    if value is None or not value.strip():
        return {}
    out: dict[str, str] = {}
    for pair in value.split(","):
        parts = pair.strip().split(" ")
        if len(parts) > 2 or not parts[0] or not _KEY.match(parts[0]):
            raise TusHeaderError(f"Upload-Metadata: {pair.strip()[:40]!r} is not 'key base64'")
        key = parts[0]
        if key in out:
            raise TusHeaderError(f"Upload-Metadata: key {key!r} is given twice")
        raw = parts[1] if len(parts) == 2 else ""
        try:
            out[key] = base64.b64decode(raw, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise TusHeaderError(
                f"Upload-Metadata: the value of {key!r} is not base64 of UTF-8 text"
            ) from None
    return out


def encode_metadata(values: dict[str, str]) -> str:
    return ",".join(
        f"{k} {base64.b64encode(v.encode('utf-8')).decode('ascii')}" for k, v in values.items()
    )


@dataclass(frozen=True, slots=True)
class Checksum:
    algorithm: str
    digest: bytes

    def hasher(self) -> Any:
        return ALGORITHMS[self.algorithm]()


def parse_checksum(value: str | None) -> Checksum | None:
    """``Upload-Checksum: <algorithm> <base64 digest>``; an unknown algorithm is 400."""
    if value is None:
        return None
    algorithm, _, encoded = value.strip().partition(" ")
    algorithm = algorithm.lower()
    if algorithm not in ALGORITHMS:
        raise TusHeaderError(
            f"Upload-Checksum: algorithm {algorithm!r} is not supported "
            f"(use {', '.join(ALGORITHMS)})"
        )
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise TusHeaderError("Upload-Checksum: the digest is not base64") from None
    if len(digest) != ALGORITHMS[algorithm]().digest_size:
        raise TusHeaderError(f"Upload-Checksum: not a {algorithm} digest (wrong length)")
    return Checksum(algorithm, digest)


def method_of(method: str, override: str | None) -> str:
    """The request's method, replaced by ``X-HTTP-Method-Override`` as tus requires."""
    return override.strip().upper() if override and override.strip() else method.upper()
