"""Whether a probed file is a video we transcode, and if not, why in one sentence."""

from __future__ import annotations

from dataclasses import dataclass

from openfront.media.plan.probe import ProbeResult


@dataclass(frozen=True, slots=True)
class Limits:
    min_duration: float = 0.5  # seconds; one frame of a still image is 0.04 s
    max_duration: float = 6 * 3600.0
    min_side: int = 16  # pixels; x264 works on 16x16 macroblocks
    max_side: int = 8192  # H.264 level 6.2's widest picture
    max_pixels: int = 8192 * 4320  # 8K; a decode of anything larger outgrows a small worker
    max_fps: float = 240.0
    # A truncated MP4 whose index survived (written with faststart) still probes; its size
    # then falls short of what the index says the streams hold.
    min_data_ratio: float = 0.8


# Demuxers that read one picture (ffmpeg's `<format>_pipe` family and the image2 reader).
_STILL_IMAGE_CONTAINERS = frozenset({"image2", "image2pipe"})


def reject_reason(probe: ProbeResult, limits: Limits | None = None) -> str | None:
    """None when the file can be transcoded, else the reason for the uploader."""
    limits = limits or Limits()
    for check in (_not_a_video, _bad_duration, _bad_picture, _looks_truncated):
        reason = check(probe, limits)
        if reason is not None:
            return reason
    return None


def _not_a_video(probe: ProbeResult, limits: Limits) -> str | None:
    if is_still_image(probe.container):
        kind = probe.container.removesuffix("_pipe").upper()
        return f"a still image ({kind}), not a video"
    if probe.video is None:
        if probe.cover_art:
            return "no video stream: the only picture is cover art (an audio file)"
        if probe.audio is not None:
            return f"no video stream: this is an audio file ({probe.audio.codec})"
        return "no video stream in the file"
    if probe.video.codec in ("none", "unknown"):
        return "the video codec is not one ffmpeg can decode"
    return None


def _bad_duration(probe: ProbeResult, limits: Limits) -> str | None:
    duration = probe.duration
    if duration is None:
        return "the file does not say how long it is; remux it into MP4 or MKV"
    if duration < limits.min_duration:
        return f"too short: {duration:.2f} s (at least {limits.min_duration:g} s)"
    if duration > limits.max_duration:
        return (
            f"too long: {format_duration(duration)} "
            f"(at most {format_duration(limits.max_duration)})"
        )
    return None


def _bad_picture(probe: ProbeResult, limits: Limits) -> str | None:
    assert probe.video is not None  # _not_a_video ran first
    width, height = probe.video.display_size
    if width == 0 or height == 0:
        return "the video stream has no picture size"
    if min(width, height) < limits.min_side:
        return f"picture too small: {width}x{height} (at least {limits.min_side} px a side)"
    if max(width, height) > limits.max_side:
        return f"picture too large: {width}x{height} (at most {limits.max_side} px a side)"
    if width * height > limits.max_pixels:
        return f"picture too large: {width}x{height} (at most {limits.max_pixels} pixels)"
    fps = probe.video.fps
    if fps is not None and fps > limits.max_fps:
        return f"frame rate too high: {fps:g} fps (at most {limits.max_fps:g})"
    return None


def _looks_truncated(probe: ProbeResult, limits: Limits) -> str | None:
    # Only MP4/MOV stream rates are exact (summed from the sample tables); other formats may
    # declare a nominal rate that a whole file never reaches.
    streams = [s.bitrate for s in (probe.video, probe.audio) if s is not None]
    if not probe.container.startswith("mov,") or probe.bitrate is None or None in streams:
        return None
    declared = sum(rate for rate in streams if rate is not None)
    ratio = probe.bitrate / declared
    if ratio >= limits.min_data_ratio:
        return None
    return (
        f"the file is incomplete: it holds {ratio:.0%} of the data its index lists, "
        "so the upload was probably cut short"
    )


def is_still_image(container: str) -> bool:
    return container.endswith("_pipe") or container in _STILL_IMAGE_CONTAINERS


def format_duration(seconds: float) -> str:
    """`2 h 05 min`, `4 min 10 s`, `12 s`."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"
