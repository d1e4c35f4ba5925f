"""Where a video's processed files go in the bucket and the headers they are stored with.

Pure. Outputs live under the upload's key plus ``/`` (``keys_layout.derived_prefix``): the
source object keeps its seed key, deleting a video removes both, and no other upload's prefix
can overlap. ``<key>/hls/master.m3u8``, ``<key>/poster.jpg``, ``<key>/thumbs/thumbnails.vtt``.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from openfront.mediahub.keys_layout import derived_prefix

MASTER_PLAYLIST = "hls/master.m3u8"  # TranscodeResult's names, fixed by media.plan
POSTER = "poster.jpg"
THUMBNAILS = "thumbs/thumbnails.vtt"

# Segments, init segments and pictures never change under their name: a year, immutable.
IMMUTABLE = "public, max-age=31536000, immutable"
# Playlists are small and read first: short, so a re-processed video is picked up soon.
PLAYLIST = "public, max-age=60"

_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".ts": "video/mp2t",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".vtt": "text/vtt; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class OutputKeys:
    prefix: str
    hls: str
    poster: str
    thumbnails: str


def output_keys(source_key: str) -> OutputKeys:
    prefix = derived_prefix(source_key)
    return OutputKeys(prefix, prefix + MASTER_PLAYLIST, prefix + POSTER, prefix + THUMBNAILS)


def content_type(name: str) -> str:
    return _TYPES.get(posixpath.splitext(name)[1].lower(), "application/octet-stream")


def cache_control(name: str) -> str:
    return PLAYLIST if name.endswith(".m3u8") else IMMUTABLE


def upload_order(files: list[str] | tuple[str, ...]) -> list[list[str]]:
    """Batches to upload one after another: media, then media playlists, then the master.

    A player that finds a playlist then finds everything it names, even while a retry of a
    failed job is still uploading.
    """
    media = [f for f in files if not f.endswith(".m3u8")]
    playlists = [f for f in files if f.endswith(".m3u8") and f != MASTER_PLAYLIST]
    master = [f for f in files if f == MASTER_PLAYLIST]
    return [batch for batch in (sorted(media), sorted(playlists), master) if batch]
