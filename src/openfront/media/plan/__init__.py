"""PURE media planning: probe parsing, rejection, the HLS ladder, ffmpeg argument lists,
playlists, thumbnails and progress. Plain data in, plain data out: no processes, no asyncio."""

from openfront.media.plan.encode import EncodePlan, Settings, plan_encode
from openfront.media.plan.ladder import LADDER, Rendition, Rung, plan_ladder
from openfront.media.plan.probe import (
    AudioStream,
    ProbeResult,
    Unreadable,
    VideoStream,
    parse_probe,
)
from openfront.media.plan.reject import Limits, reject_reason

__all__ = [
    "LADDER",
    "AudioStream",
    "EncodePlan",
    "Limits",
    "ProbeResult",
    "Rendition",
    "Rung",
    "Settings",
    "Unreadable",
    "VideoStream",
    "parse_probe",
    "plan_encode",
    "plan_ladder",
    "reject_reason",
]
