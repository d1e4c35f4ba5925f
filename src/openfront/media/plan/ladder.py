"""The HLS ladder for one source: which renditions, their sizes and bitrates.

A rung is named for the picture's short side, as YouTube does, so a portrait phone video
(1080x1920) gets the same "1080p" budget as a landscape one. Sizes keep the display aspect
ratio (sample aspect ratio and rotation applied), are even (4:2:0 chroma needs it) and never
exceed the source: nothing is upscaled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from openfront.media.plan.probe import VideoStream


@dataclass(frozen=True, slots=True)
class Rung:
    size: int  # the short side in pixels: 360 for "360p"
    video_kbps: int  # the cap (maxrate) at up to 30 fps
    audio_kbps: int


# Caps between Apple's HLS authoring table and MediaCMS's and PeerTube's ladders
# (docs/media-processing.md).
LADDER = (
    Rung(240, 400, 96),
    Rung(360, 800, 96),
    Rung(480, 1400, 128),
    Rung(720, 2800, 128),
    Rung(1080, 5000, 128),
)
HIGH_FPS = 31.0  # above this the caps are raised by HIGH_FPS_FACTOR
HIGH_FPS_FACTOR = 1.5
MAX_FPS = 60.0  # higher rates are halved until they fit: 120 → 60, 100 → 50
# A source between two rungs also gets a rendition at its own size when that is this much
# larger than the biggest rung below it (300p → 240p + 300p; 368p → 240p + 360p only).
OWN_SIZE_STEP = 1.15
MIN_VIDEO_KBPS = 100


@dataclass(frozen=True, slots=True)
class Rendition:
    name: str  # "360p": the directory and the label
    width: int
    height: int
    video_bitrate: int  # bits per second: the encoder's maxrate
    audio_bitrate: int | None  # None when the source has no audio


def plan_ladder(video: VideoStream, *, has_audio: bool) -> tuple[Rendition, ...]:
    """Renditions from the smallest up, none larger than the source."""
    width, height = video.display_size
    short = min(width, height)
    factor = HIGH_FPS_FACTOR if (video.fps or 0) > HIGH_FPS else 1.0
    kept = [rung for rung in LADDER if rung.size <= short]
    own = _own_rung(short, kept)
    if own is not None:
        kept.append(own)
    renditions = []
    for rung in kept:
        w, h = fit_short_side(width, height, rung.size)
        kbps = max(MIN_VIDEO_KBPS, round(rung.video_kbps * factor))
        audio = rung.audio_kbps * 1000 if has_audio else None
        renditions.append(Rendition(f"{min(w, h)}p", w, h, kbps * 1000, audio))
    return tuple(renditions)


def _own_rung(short: int, kept: list[Rung]) -> Rung | None:
    size = short - short % 2
    if size >= LADDER[-1].size or (kept and size < kept[-1].size * OWN_SIZE_STEP):
        return None
    below = kept[-1] if kept else None
    above = next(rung for rung in LADDER if rung.size > size)
    if below is None:  # smaller than the smallest rung: scale its cap by the pixel count
        kbps = round(above.video_kbps * (size / above.size) ** 2)
        return Rung(size, kbps, above.audio_kbps)
    share = (size - below.size) / (above.size - below.size)
    kbps = round(below.video_kbps + share * (above.video_kbps - below.video_kbps))
    return Rung(size, kbps, below.audio_kbps)


def fit_short_side(width: int, height: int, short: int) -> tuple[int, int]:
    """Scale (width, height) so its short side is `short`; even, never beyond the source."""
    if width >= height:
        return _even(width * short / height, width), _even(short, height)
    return _even(short, width), _even(height * short / width, height)


def fit_width(width: int, height: int, max_width: int) -> tuple[int, int]:
    """Scale down to at most `max_width` wide (a poster); even, never beyond the source."""
    target = min(width, max_width)
    return _even(target, width), _even(height * target / width, height)


def fit_long_side(width: int, height: int, long: int) -> tuple[int, int]:
    """Scale so the long side is `long` (a thumbnail); even, at least 2 px a side."""
    if width >= height:
        return _even(long, width), _even(height * long / width, height)
    return _even(width * long / height, width), _even(long, height)


def _even(exact: float, limit: int) -> int:
    """Round to an even number, at least 2 and at most the source's size rounded down to even."""
    ceiling = max(2, limit - limit % 2)
    return min(ceiling, max(2, round(exact / 2) * 2))


def output_fps(fps: float | None) -> float | None:
    """The rate renditions run at: the source's, halved while above MAX_FPS."""
    if fps is None or fps <= 0:
        return None
    while fps > MAX_FPS:
        fps /= 2
    return fps


def gop_frames(fps: float | None, segment_seconds: float) -> int:
    """Frames per segment: the keyframe interval, so every segment starts on a keyframe."""
    return max(1, math.ceil((fps or 30.0) * segment_seconds))
