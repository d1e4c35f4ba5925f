"""The encode plan for one accepted source and the ffmpeg argument lists that carry it out.

One ffmpeg process decodes the source once and writes every rendition (`-var_stream_map`) plus
the thumbnail frames; on 2 cores that beat one process per rendition by about 15 % in wall time
and in CPU time (docs/media-processing.md has the measurement). The poster is a second, short
process that seeks straight to its frame; a third tiles the thumbnails into a sprite.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openfront.media.plan.ladder import (
    Rendition,
    fit_width,
    gop_frames,
    output_fps,
    plan_ladder,
)
from openfront.media.plan.probe import AudioStream, ProbeResult, VideoStream, input_args
from openfront.media.plan.reject import Limits, reject_reason
from openfront.media.plan.thumbnails import FRAME_PATTERN, ThumbnailPlan, plan_thumbnails

HLS_DIR = "hls"
MASTER = "master.m3u8"
MEDIA_PLAYLIST = "index.m3u8"
SEGMENT_PATTERN = "seg_%05d.m4s"
THUMBS_DIR = "thumbs"
POSTER = "poster.jpg"
AUDIO_RATE = 48000


@dataclass(frozen=True, slots=True)
class Settings:
    preset: str = "veryfast"  # x264: medium is ~2.5x slower for ~10 % fewer bits
    crf: int = 23  # quality target; each rendition is also capped at its rung's bitrate
    segment_seconds: int = 4  # HLS segment and keyframe interval
    poster_at: float = 0.10  # share of the duration where the poster frame is taken
    poster_max_width: int = 1280
    thumbnail_long_side: int = 160
    max_thumbnails: int = 100
    thumbnail_interval: int = 2  # seconds, raised for long videos to stay under max_thumbnails
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        if not 2 <= self.segment_seconds <= 10:
            raise ValueError("segment_seconds must be between 2 and 10")
        if not 0 <= self.crf <= 51:
            raise ValueError("crf must be between 0 and 51")
        if not 0.0 <= self.poster_at < 1.0:
            raise ValueError("poster_at must be in [0, 1)")


@dataclass(frozen=True, slots=True)
class EncodePlan:
    video: VideoStream
    audio: AudioStream | None
    duration: float
    renditions: tuple[Rendition, ...]
    fps: float | None  # the renditions' frame rate (None: as the source, unknown)
    gop: int
    thumbnails: ThumbnailPlan
    poster_time: float
    poster_size: tuple[int, int]
    settings: Settings


def plan_encode(probe: ProbeResult, settings: Settings | None = None) -> EncodePlan:
    """The whole plan for an accepted probe; ValueError with the reason for a rejected one."""
    settings = settings or Settings()
    reason = reject_reason(probe, settings.limits)
    if reason is not None:
        raise ValueError(reason)
    video, duration = probe.video, probe.duration
    assert video is not None and duration is not None  # reject_reason checked both
    display = video.display_size
    fps = output_fps(video.fps)
    return EncodePlan(
        video=video,
        audio=probe.audio,
        duration=duration,
        renditions=plan_ladder(video, has_audio=probe.audio is not None),
        fps=fps,
        gop=gop_frames(fps, settings.segment_seconds),
        thumbnails=plan_thumbnails(
            duration,
            display,
            long_side=settings.thumbnail_long_side,
            max_count=settings.max_thumbnails,
            min_interval=settings.thumbnail_interval,
        ),
        poster_time=duration * settings.poster_at,
        poster_size=fit_width(display[0], display[1], settings.poster_max_width),
        settings=settings,
    )


def filter_graph(plan: EncodePlan) -> str:
    """Decode once, split into one branch per rendition plus one for the sprite."""
    before: list[str] = []
    if plan.video.interlaced:
        before.append("bwdif=mode=send_frame")
    if plan.fps is not None and plan.video.fps is not None and plan.fps < plan.video.fps:
        before.append(f"fps={_number(plan.fps)}")
    count = len(plan.renditions)
    outputs = "".join(f"[s{k}]" for k in range(count + 1))
    chains = [f"[0:{plan.video.index}]" + ",".join([*before, f"split={count + 1}"]) + outputs]
    for k, rendition in enumerate(plan.renditions):
        size = f"{rendition.width}:{rendition.height}"
        chains.append(f"[s{k}]scale={size},setsar=1,format=yuv420p[v{k}]")
    chains.append(f"[s{count}]{plan.thumbnails.frames_filter()}[thumbs]")
    return ";".join(chains)


def transcode_args(plan: EncodePlan, url: str) -> list[str]:
    """All renditions and the sprite in one run; relative paths, run it from `<out>/hls`."""
    settings = plan.settings
    args = [
        *("-hide_banner", "-nostdin", "-loglevel", "error", "-y"),
        *input_args(url),
        *("-progress", "pipe:1", "-nostats", "-stats_period", "0.5"),
        *("-filter_complex", filter_graph(plan)),
        # Phone videos carry GPS positions in their metadata; none of it is republished.
        *("-map_metadata", "-1", "-map_chapters", "-1"),
    ]
    for k in range(len(plan.renditions)):
        args += ["-map", f"[v{k}]"]
        if plan.audio is not None:
            args += ["-map", f"0:{plan.audio.index}"]
    args += [
        *("-c:v", "libx264", "-preset", settings.preset, "-profile:v", "high"),
        *("-crf", str(settings.crf)),
    ]
    for k, rendition in enumerate(plan.renditions):
        kbps = rendition.video_bitrate // 1000
        args += [f"-maxrate:v:{k}", f"{kbps}k", f"-bufsize:v:{k}", f"{2 * kbps}k"]
    # Keyframes at the same instants in every rendition (no scene-cut extras) so segment k of
    # each rendition covers the same time and players can switch between any two segments.
    args += [
        *("-g", str(plan.gop), "-keyint_min", str(plan.gop), "-sc_threshold", "0"),
        *("-force_key_frames", f"expr:gte(t,n_forced*{settings.segment_seconds})"),
    ]
    if plan.audio is not None:
        channels = min(plan.audio.channels or 2, 2)
        args += ["-c:a", "aac", "-ac", str(channels), "-ar", str(AUDIO_RATE)]
        for k, rendition in enumerate(plan.renditions):
            args += [f"-b:a:{k}", f"{(rendition.audio_bitrate or 0) // 1000}k"]
    args += [
        *("-max_muxing_queue_size", "1024", "-f", "hls"),
        *("-hls_time", str(settings.segment_seconds), "-hls_list_size", "0"),
        *("-hls_playlist_type", "vod", "-hls_flags", "independent_segments"),
        *("-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4"),
        *("-hls_segment_filename", f"%v/{SEGMENT_PATTERN}"),
        *("-var_stream_map", var_stream_map(plan)),
        f"%v/{MEDIA_PLAYLIST}",
        *("-map", "[thumbs]", "-c:v", "mjpeg", "-q:v", "5", "-fps_mode", "passthrough"),
        f"../{THUMBS_DIR}/{FRAME_PATTERN}",
    ]
    return args


def var_stream_map(plan: EncodePlan) -> str:
    """`v:0,a:0,name:240p v:1,a:1,name:360p`: each rendition's directory is its name."""
    entries = []
    for k, rendition in enumerate(plan.renditions):
        audio = f"a:{k}," if plan.audio is not None else ""
        entries.append(f"v:{k},{audio}name:{rendition.name}")
    return " ".join(entries)


def poster_args(plan: EncodePlan, url: str, *, at: float | None = None) -> list[str]:
    """One JPEG frame at `at` seconds (the plan's poster time by default); run from `<out>`."""
    width, height = plan.poster_size
    seconds = plan.poster_time if at is None else at
    return [
        *("-hide_banner", "-nostdin", "-loglevel", "error", "-y"),
        *("-ss", f"{seconds:.3f}"),
        *input_args(url),
        *("-map", f"0:{plan.video.index}", "-frames:v", "1"),
        *("-vf", f"scale={width}:{height},setsar=1", "-q:v", "3", "-update", "1", POSTER),
    ]


def _number(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")
