"""What a source file holds, read from the header `ffmpeg -i FILE` prints on stderr.

The static ffmpeg we ship has no ffprobe, and ffmpeg's only machine-readable dump
(`-print_graphs_format json`) lists streams without codec, duration or frame rate. The
`Input #0` header is the same text moviepy and imageio parse; its shape has held since ffmpeg 1.x.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from openfront.media.plan.diagnose import failure_reason

# Demuxers the probe and the transcode may use. Playlists and references to other files (hls,
# concat, dash, image2 sequences) are left out: they make ffmpeg open paths the upload names.
# Still-image and audio demuxers are in so their files are recognised and refused by name.
FORMAT_WHITELIST = (
    "mov,mp4,matroska,webm,avi,flv,mpegts,mpeg,ogg,asf,mxf,m4v,h264,hevc,dv,nut,gif,apng,"
    "png_pipe,jpeg_pipe,webp_pipe,bmp_pipe,tiff_pipe,gif_pipe,jpegxl_pipe,mp3,wav,flac,aac"
)


def input_args(url: str) -> list[str]:
    """The input part of every ffmpeg command: local files only, known demuxers only."""
    return ["-protocol_whitelist", "file", "-format_whitelist", FORMAT_WHITELIST, "-i", url]


def probe_args(url: str) -> list[str]:
    """`ffmpeg -i URL` with no output: the header goes to stderr and ffmpeg exits 1."""
    return ["-hide_banner", "-nostdin", *input_args(url)]


@dataclass(frozen=True, slots=True)
class VideoStream:
    index: int  # the absolute stream index, for `-map 0:N`
    codec: str
    width: int  # coded size, before rotation and sample aspect ratio
    height: int
    fps: float | None
    pix_fmt: str | None = None
    rotation: int = 0  # 0, 90, 180 or 270 (ffmpeg turns the picture upright when decoding)
    sar: tuple[int, int] = (1, 1)
    bitrate: int | None = None  # bits per second
    interlaced: bool = False

    @property
    def display_size(self) -> tuple[int, int]:
        """Width and height as shown: sample aspect ratio applied, then the rotation."""
        sar_num, sar_den = self.sar
        width = self.width
        if sar_num > 0 and sar_den > 0 and sar_num != sar_den:
            width = max(1, round(self.width * sar_num / sar_den))
        if self.rotation in (90, 270):
            return self.height, width
        return width, self.height


@dataclass(frozen=True, slots=True)
class AudioStream:
    index: int
    codec: str
    sample_rate: int | None = None
    channels: int | None = None
    bitrate: int | None = None


@dataclass(frozen=True, slots=True)
class ProbeResult:
    container: str  # ffmpeg's demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    duration: float | None  # seconds; None when the file does not say
    bitrate: int | None = None  # whole file, bits per second (from its size for most formats)
    video: VideoStream | None = None  # the first video stream that is not cover art
    audio: AudioStream | None = None
    cover_art: bool = False  # an attached picture (album art), not a video


@dataclass(frozen=True, slots=True)
class Unreadable:
    """ffmpeg could not open the file; `reason` is one line for the uploader."""

    reason: str


_INPUT = re.compile(r"^Input #0, (.+), from '", re.M)
_DURATION = re.compile(r"^\s+Duration: (?:(\d+):(\d\d):(\d\d(?:\.\d+)?)|N/A)(.*)$", re.M)
_BITRATE = re.compile(r"bitrate: (\d+) kb/s")
_STREAM = re.compile(
    r"^\s+Stream #0:(\d+)(?:\[[^\]]*\])?(?:\([^)]*\))?: "
    r"(Video|Audio|Subtitle|Data|Attachment): (.*)$"
)
_SIZE = re.compile(r"^(\d+)x(\d+)(?:\s*\[SAR (\d+):(\d+) DAR \d+:\d+\])?")
_SAR = re.compile(r"^SAR (\d+):(\d+) DAR \d+:\d+$")
_RATE = re.compile(r"^(\d+(?:\.\d+)?)(k?) (fps|tbr)$")
_KBPS = re.compile(r"^(\d+) kb/s")
_HZ = re.compile(r"^(\d+) Hz$")
_ROTATION = re.compile(
    r"^\s+(?:display ?matrix: rotation of|rotate\s*:)\s*(-?\d+(?:\.\d+)?)",
    re.I,
)
_CHANNELS = {
    "mono": 1,
    "stereo": 2,
    "2.1": 3,
    "3.0": 3,
    "quad": 4,
    "4.0": 4,
    "5.0": 5,
    "5.1": 6,
    "6.1": 7,
    "7.1": 8,
}


def parse_probe(stderr: str) -> ProbeResult | Unreadable:
    """The `Input #0` header into a ProbeResult, or the reason ffmpeg gave for not reading it."""
    container = _INPUT.search(stderr)
    if container is None:
        return Unreadable(failure_reason(stderr) or "ffmpeg printed nothing about the file")
    duration, bitrate = _duration_line(stderr)
    videos: list[VideoStream] = []
    audio: AudioStream | None = None
    cover_art = False
    current: VideoStream | None = None
    for line in stderr.splitlines():
        stream = _STREAM.match(line)
        if stream is not None:
            index, kind, rest = int(stream[1]), stream[2], stream[3]
            current = None
            if kind == "Video" and "(attached pic)" in rest:
                cover_art = True
            elif kind == "Video":
                current = _video(index, rest)
                videos.append(current)
            elif kind == "Audio" and audio is None:
                audio = _audio(index, rest)
            continue
        rotation = _ROTATION.match(line)
        if rotation is not None and current is not None:
            turned = _with_rotation(current, float(rotation[1]))
            videos[-1] = current = turned
    return ProbeResult(
        container=container[1],
        duration=duration,
        bitrate=bitrate,
        video=videos[0] if videos else None,
        audio=audio,
        cover_art=cover_art,
    )


def _duration_line(stderr: str) -> tuple[float | None, int | None]:
    match = _DURATION.search(stderr)
    if match is None:
        return None, None
    duration = None
    if match[1] is not None:
        duration = int(match[1]) * 3600 + int(match[2]) * 60 + float(match[3])
    bitrate = _BITRATE.search(match[4])
    return duration, int(bitrate[1]) * 1000 if bitrate else None


def _video(index: int, rest: str) -> VideoStream:
    parts = split_top_level(rest)
    codec = parts[0].split()[0] if parts and parts[0] else "none"
    width = height = 0
    sar = (1, 1)
    fps: float | None = None
    tbr: float | None = None
    bitrate: int | None = None
    pix_fmt: str | None = None
    interlaced = False
    for position, part in enumerate(parts[1:], start=1):
        if (size := _SIZE.match(part)) is not None:
            width, height = int(size[1]), int(size[2])
            if size[3] is not None:
                sar = (int(size[3]), int(size[4]))
        elif (aspect := _SAR.match(part)) is not None:
            sar = (int(aspect[1]), int(aspect[2]))
        elif (rate := _RATE.match(_strip_flags(part))) is not None:
            value = float(rate[1]) * (1000 if rate[2] else 1)
            if rate[3] == "fps":
                fps = value
            else:
                tbr = value
        elif (kbps := _KBPS.match(part)) is not None:
            bitrate = int(kbps[1]) * 1000
        elif position == 1:
            pix_fmt, _, details = part.partition("(")
            pix_fmt = pix_fmt.strip() or None
            interlaced = any(f"{field} " in details for field in ("top", "bottom"))
    # Without an fps figure ffmpeg's tbr is its best guess; 90k and the like are timebases.
    if fps is None and tbr is not None and tbr <= 1000:
        fps = tbr
    return VideoStream(index, codec, width, height, fps, pix_fmt, 0, sar, bitrate, interlaced)


def _audio(index: int, rest: str) -> AudioStream:
    parts = split_top_level(rest)
    codec = parts[0].split()[0] if parts and parts[0] else "none"
    sample_rate = channels = bitrate = None
    for part in parts[1:]:
        if (hz := _HZ.match(part)) is not None:
            sample_rate = int(hz[1])
        elif (kbps := _KBPS.match(part)) is not None:
            bitrate = int(kbps[1]) * 1000
        elif channels is None:
            channels = _channel_count(part)
    return AudioStream(index, codec, sample_rate, channels, bitrate)


def _channel_count(part: str) -> int | None:
    layout = part.partition("(")[0].strip()
    if layout in _CHANNELS:
        return _CHANNELS[layout]
    count, _, word = layout.partition(" ")
    return int(count) if count.isdigit() and word == "channels" else None


def _with_rotation(video: VideoStream, degrees: float) -> VideoStream:
    return replace(video, rotation=round(degrees / 90) % 4 * 90)


def _strip_flags(part: str) -> str:
    """`25 tbn (default)` → `25 tbn`: dispositions follow the last field."""
    return part.split(" (", 1)[0].strip()


def split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside (...) or [...]: `yuv420p(tv, bt709)` stays whole."""
    parts: list[str] = []
    depth = 0
    start = 0
    for position, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]" and depth > 0:
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:position].strip())
            start = position + 1
    parts.append(text[start:].strip())
    return parts
