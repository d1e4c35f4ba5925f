"""HLS playlists (RFC 8216): read ffmpeg's media playlists, write the master playlist.

ffmpeg's own master playlist has BANDWIDTH, AVERAGE-BANDWIDTH, RESOLUTION and CODECS but no
FRAME-RATE and no EXT-X-INDEPENDENT-SEGMENTS, and it measures bandwidth before the last segment
is written. The master here is written from the finished segments instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

AAC_LC = "mp4a.40.2"  # ffmpeg's native AAC encoder writes the LC profile
VERSION = 7  # what ffmpeg writes in fMP4 media playlists; EXT-X-MAP needs at least 6


@dataclass(frozen=True, slots=True)
class Segment:
    uri: str
    duration: float


@dataclass(frozen=True, slots=True)
class MediaPlaylist:
    target_duration: int
    segments: tuple[Segment, ...]
    init_uri: str | None = None
    ended: bool = False

    @property
    def duration(self) -> float:
        return sum(segment.duration for segment in self.segments)


def parse_media_playlist(text: str) -> MediaPlaylist:
    """The parts of a VOD media playlist the master needs; ValueError if it is not one."""
    lines = [line.strip() for line in text.splitlines()]
    if not lines or lines[0] != "#EXTM3U":
        raise ValueError("not an HLS playlist (no #EXTM3U)")
    target = 0
    init_uri: str | None = None
    ended = False
    segments: list[Segment] = []
    pending: float | None = None
    for line in lines[1:]:
        if line.startswith("#EXT-X-TARGETDURATION:"):
            target = int(line.partition(":")[2])
        elif line.startswith("#EXT-X-MAP:"):
            init_uri = _attributes(line.partition(":")[2]).get("URI")
        elif line.startswith("#EXTINF:"):
            pending = float(line.partition(":")[2].partition(",")[0])
        elif line == "#EXT-X-ENDLIST":
            ended = True
        elif line and not line.startswith("#"):
            if pending is None:
                raise ValueError(f"segment {line!r} has no #EXTINF")
            segments.append(Segment(line, pending))
            pending = None
    return MediaPlaylist(target, tuple(segments), init_uri, ended)


def _attributes(text: str) -> dict[str, str]:
    """`URI="init_0.mp4",BYTERANGE="..."` → {"URI": "init_0.mp4", ...} (quoted values only)."""
    result: dict[str, str] = {}
    rest = text
    while rest:
        name, sep, rest = rest.partition("=")
        if not sep:
            break
        if rest.startswith('"'):
            value, _, rest = rest[1:].partition('"')
            rest = rest.removeprefix(",")
        else:
            value, _, rest = rest.partition(",")
        result[name.strip()] = value
    return result


@dataclass(frozen=True, slots=True)
class Bandwidth:
    peak: int  # bits per second of the busiest segment: BANDWIDTH
    average: int  # over the whole rendition: AVERAGE-BANDWIDTH


def measure_bandwidth(segments: Sequence[tuple[int, float]]) -> Bandwidth:
    """From (bytes, seconds) per segment. RFC 8216 §4.3.4.2: BANDWIDTH is the peak segment rate."""
    timed = [(size, seconds) for size, seconds in segments if seconds > 0]
    if not timed:
        raise ValueError("no segment with a duration")
    peak = max(size * 8 / seconds for size, seconds in timed)
    total = sum(size for size, _ in timed) * 8 / sum(seconds for _, seconds in timed)
    return Bandwidth(round(peak), round(total))


@dataclass(frozen=True, slots=True)
class Variant:
    uri: str
    bandwidth: Bandwidth
    width: int
    height: int
    codecs: str
    frame_rate: float | None


def master_playlist(variants: Sequence[Variant]) -> str:
    """The master playlist, renditions in the order given (smallest first)."""
    lines = ["#EXTM3U", f"#EXT-X-VERSION:{VERSION}", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for variant in variants:
        attributes = [
            f"BANDWIDTH={variant.bandwidth.peak}",
            f"AVERAGE-BANDWIDTH={variant.bandwidth.average}",
            f"RESOLUTION={variant.width}x{variant.height}",
            f'CODECS="{variant.codecs}"',
        ]
        if variant.frame_rate is not None:
            attributes.append(f"FRAME-RATE={variant.frame_rate:.3f}")
        lines += ["#EXT-X-STREAM-INF:" + ",".join(attributes), variant.uri]
    return "\n".join(lines) + "\n"


def avc_codec(init_segment: bytes) -> str:
    """RFC 6381 `avc1.PPCCLL` from the avcC box of an fMP4 init segment."""
    at = init_segment.find(b"avcC")
    record = init_segment[at + 4 : at + 8] if at >= 0 else b""
    if len(record) < 4 or record[0] != 1:
        raise ValueError("no AVC decoder configuration (avcC) in the init segment")
    return f"avc1.{record[1]:02x}{record[2]:02x}{record[3]:02x}"


def codecs(init_segment: bytes, *, has_audio: bool) -> str:
    video = avc_codec(init_segment)
    return f"{video},{AAC_LC}" if has_audio else video
