"""Where an upload goes: the seed's key layout, safe file names, and multipart part plans.

Pure functions over plain data. Keys themselves are built by ``openfront.storage.versioning``
(``videos/<user_id>/<epoch_ns>-<region>_<safe filename>``, the region making them unique across
regions); ``video_key`` is the older millisecond layout, which existing keys may still use.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass

MiB = 1024 * 1024
S3_MIN_PART = 5 * MiB  # every part but the last (S3 quick facts)
S3_MAX_PART = 5 * 1024 * MiB
S3_MAX_PARTS = 10_000
S3_MAX_OBJECT = 5 * 1024 * 1024 * MiB  # 5 TiB: the limit every S3-compatible store accepts
MAX_FILENAME = 100  # characters of the sanitised name, extension included
MAX_EXTENSION = 10
KEY_PREFIX = "videos"
FALLBACK_STEM = "video"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str) -> str:
    """``name`` as a key-safe file name: NFC, last path part, no control characters,
    ``[A-Za-z0-9._-]`` only (runs of others become one ``_``), capped, extension kept."""
    name = unicodedata.normalize("NFC", name)
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf"))
    clean = _UNSAFE.sub("_", name.strip()).rstrip("._-")
    stem, dot, ext = clean.rpartition(".")
    if not dot or not ext.isascii() or not ext.isalnum() or len(ext) > MAX_EXTENSION:
        stem, ext = clean, ""
    stem = stem.strip("._-") or FALLBACK_STEM
    suffix = f".{ext}" if ext else ""
    if len(stem) + len(suffix) > MAX_FILENAME:
        stem = stem[: MAX_FILENAME - len(suffix)].rstrip("._-") or FALLBACK_STEM
    return stem + suffix


def extension(name: str) -> str:
    """The lower-case extension of a (sanitised) file name, without the dot; "" if none."""
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def video_key(user_id: uuid.UUID, ts_ms: int, safe_name: str) -> str:
    return f"{KEY_PREFIX}/{user_id}/{ts_ms}_{safe_name}"


def derived_prefix(key: str) -> str:
    """Where files made from the upload live (HLS, poster): under the key itself plus ``/``,
    so deleting a video never touches another upload whose key starts the same way."""
    return key + "/"


@dataclass(frozen=True, slots=True)
class PartPlan:
    part_size: int
    count: int

    def size_of(self, part_number: int, total: int) -> int:
        """Bytes in part ``part_number`` (1-based) of an object of ``total`` bytes."""
        return min(self.part_size, total - (part_number - 1) * self.part_size)


def plan_parts(size: int, preferred: int) -> PartPlan:
    """Parts of at least ``preferred`` bytes (and S3's 5 MiB), few enough for S3's 10,000,
    rounded up to whole MiB so URLs and resumptions agree on the boundaries."""
    if size <= 0:
        raise ValueError("size must be positive")
    if size > S3_MAX_OBJECT:
        raise ValueError("larger than the largest S3 object (5 TiB)")
    part = max(preferred, S3_MIN_PART, -(-size // S3_MAX_PARTS))
    part = -(-part // MiB) * MiB
    part = min(part, S3_MAX_PART)
    return PartPlan(part, -(-size // part))
