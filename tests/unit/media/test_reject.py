"""reject_reason: each refusal with its one-line reason, and what passes."""

from __future__ import annotations

import pytest

from openfront.media.plan.probe import AudioStream, ProbeResult, VideoStream
from openfront.media.plan.reject import Limits, format_duration, is_still_image, reject_reason

H264 = VideoStream(index=0, codec="h264", width=640, height=360, fps=25.0, bitrate=1_000_000)
AAC = AudioStream(index=1, codec="aac", sample_rate=48000, channels=2, bitrate=128_000)
MP4 = "mov,mp4,m4a,3gp,3g2,mj2"


def probe(**changes: object) -> ProbeResult:
    fields: dict[str, object] = {
        "container": MP4,
        "duration": 10.0,
        "bitrate": 1_200_000,
        "video": H264,
        "audio": AAC,
    }
    fields.update(changes)
    return ProbeResult(**fields)  # type: ignore[arg-type]


def video(**changes: object) -> VideoStream:
    fields: dict[str, object] = {
        "index": 0,
        "codec": "h264",
        "width": 640,
        "height": 360,
        "fps": 25.0,
        "bitrate": 1_000_000,
    }
    fields.update(changes)
    return VideoStream(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "accepted",
    [
        probe(),
        probe(audio=None, bitrate=1_000_000),
        probe(container="matroska,webm", bitrate=None),  # no figures: nothing to compare
        probe(video=video(bitrate=None)),
        probe(container="gif", audio=None, video=video(codec="gif", bitrate=None)),  # animated
        probe(duration=0.5),
        probe(duration=6 * 3600.0),
        probe(video=video(width=7680, height=4320)),
        probe(video=video(width=16, height=16)),
        probe(video=video(fps=None)),
        probe(bitrate=920_000),  # 82 % of what the streams declare
        probe(container="avi", bitrate=400_000),  # nominal rates outside MP4: not compared
    ],
)
def test_accepted(accepted: ProbeResult) -> None:
    assert reject_reason(accepted) is None


@pytest.mark.parametrize(
    ("rejected", "reason"),
    [
        (
            probe(container="png_pipe", duration=None, bitrate=None, audio=None),
            "a still image (PNG), not a video",
        ),
        (probe(container="jpeg_pipe", duration=None), "a still image (JPEG), not a video"),
        (probe(container="image2", duration=0.04), "a still image (IMAGE2), not a video"),
        (
            probe(container="mp3", video=None, cover_art=True),
            "no video stream: the only picture is cover art (an audio file)",
        ),
        (probe(container="mp3", video=None), "no video stream: this is an audio file (aac)"),
        (probe(video=None, audio=None), "no video stream in the file"),
        (probe(video=video(codec="none")), "the video codec is not one ffmpeg can decode"),
        (
            probe(duration=None),
            "the file does not say how long it is; remux it into MP4 or MKV",
        ),
        (probe(duration=0.0), "too short: 0.00 s (at least 0.5 s)"),
        (probe(duration=0.04), "too short: 0.04 s (at least 0.5 s)"),
        (probe(duration=7 * 3600.0 + 300), "too long: 7 h 05 min (at most 6 h 00 min)"),
        (probe(video=video(width=0, height=0)), "the video stream has no picture size"),
        (probe(video=video(width=8, height=8)), "picture too small: 8x8 (at least 16 px a side)"),
        (
            probe(video=video(width=16384, height=1024)),
            "picture too large: 16384x1024 (at most 8192 px a side)",
        ),
        (
            probe(video=video(width=8192, height=8192)),
            "picture too large: 8192x8192 (at most 35389440 pixels)",
        ),
        (probe(video=video(fps=1000.0)), "frame rate too high: 1000 fps (at most 240)"),
        (
            probe(bitrate=432_000, video=video(bitrate=781_000), audio=AAC),
            "the file is incomplete: it holds 48% of the data its index lists, so the upload "
            "was probably cut short",
        ),
    ],
)
def test_rejected(rejected: ProbeResult, reason: str) -> None:
    assert reject_reason(rejected) == reason


def test_limits_are_adjustable() -> None:
    strict = Limits(max_duration=60.0, max_side=1920)
    assert (
        reject_reason(probe(duration=61.0), strict) == "too long: 1 min 01 s (at most 1 min 00 s)"
    )
    assert reject_reason(probe(video=video(width=2560, height=1440)), strict) is not None
    assert reject_reason(probe(duration=30.0), strict) is None


def test_rotation_counts_for_the_size_limits() -> None:
    tall = video(width=4000, height=8000, rotation=90)
    assert reject_reason(probe(video=tall), Limits(max_side=8192)) is None
    assert "8000x4000" in (reject_reason(probe(video=tall), Limits(max_side=4096)) or "")


@pytest.mark.parametrize(
    ("container", "still"),
    [("png_pipe", True), ("webp_pipe", True), ("image2", True), ("gif", False), (MP4, False)],
)
def test_is_still_image(container: str, still: bool) -> None:
    assert is_still_image(container) is still


@pytest.mark.parametrize(
    ("seconds", "text"), [(12.4, "12 s"), (250, "4 min 10 s"), (7500, "2 h 05 min")]
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
