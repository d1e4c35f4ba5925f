"""Seek-bar previews: one JPEG sprite of small frames and a WebVTT track pointing into it.

A `thumbnails.vtt` whose cues are `sprite.jpg#xywh=x,y,w,h` is what Video.js
(videojs-vtt-thumbnails), Plyr (previewThumbnails), Vidstack, JW Player and Shaka's UI read; a
single sprite costs one request instead of one per thumbnail.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from openfront.media.plan.ladder import fit_long_side

SPRITE = "sprite.jpg"
VTT = "thumbnails.vtt"


FRAME_PATTERN = "thumb_%04d.jpg"  # the single frames, tiled into the sprite then removed


@dataclass(frozen=True, slots=True)
class ThumbnailPlan:
    interval: int  # seconds between thumbnails
    count: int  # expected; the sprite is laid out for the frames ffmpeg actually wrote
    width: int  # one tile
    height: int
    max_columns: int = 10

    def frames_filter(self) -> str:
        """One small frame every `interval` seconds, as a branch of the transcode's graph.

        The frames leave as separate JPEGs: a `tile` filter in that graph would hold its one
        output until the end, and ffmpeg's scheduler would then hold back the whole run.
        """
        return f"fps=1/{self.interval},scale={self.width}:{self.height},setsar=1"

    def grid(self, count: int) -> tuple[int, int]:
        columns = max(1, min(self.max_columns, count))
        return columns, max(1, math.ceil(count / columns))


def plan_thumbnails(
    duration: float,
    display: tuple[int, int],
    *,
    long_side: int = 160,
    max_count: int = 100,
    min_interval: int = 2,
) -> ThumbnailPlan:
    """Every `interval` seconds (longer for long videos so there are at most `max_count`)."""
    interval = max(min_interval, math.ceil(duration / max_count))
    count = max(1, math.ceil(duration / interval))
    width, height = fit_long_side(display[0], display[1], long_side)
    return ThumbnailPlan(interval, count, width, height)


def sprite_args(plan: ThumbnailPlan, count: int) -> list[str]:
    """Tile the `count` frames into SPRITE; run from the thumbnails directory."""
    columns, rows = plan.grid(count)
    return [
        *("-hide_banner", "-nostdin", "-loglevel", "error", "-y"),
        *("-f", "image2", "-framerate", "1", "-start_number", "1", "-i", FRAME_PATTERN),
        *("-vf", f"tile={columns}x{rows}", "-frames:v", "1", "-q:v", "5", "-update", "1"),
        SPRITE,
    ]


def thumbnails_vtt(plan: ThumbnailPlan, count: int, duration: float, sprite: str = SPRITE) -> str:
    """WebVTT cues, one per tile, left to right then top to bottom."""
    columns, _ = plan.grid(count)
    lines = ["WEBVTT", ""]
    for index in range(count):
        start = index * plan.interval
        end = min(duration, start + plan.interval)
        if end <= start:
            break
        x = index % columns * plan.width
        y = index // columns * plan.height
        lines += [
            f"{_timestamp(start)} --> {_timestamp(end)}",
            f"{sprite}#xywh={x},{y},{plan.width},{plan.height}",
            "",
        ]
    return "\n".join(lines)


def _timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"
