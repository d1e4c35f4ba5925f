"""Probe a source and turn it into an HLS ladder, a poster and seek-bar thumbnails.

`transcode` is what the job runner calls. It works in a staging directory next to `out_dir`
and renames it into place at the end; a failure, timeout or cancellation leaves nothing behind.
ffmpeg always runs inside the staging directory on relative names (the source is reached
through a symlink), so no upload's file name ever reaches ffmpeg's command line or its output.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from openfront._aio import create_task
from openfront.media import staging
from openfront.media.errors import MediaRejected, TranscodeFailed, TranscodeTimeout
from openfront.media.ffmpeg import run_ffmpeg
from openfront.media.plan.diagnose import failure_reason
from openfront.media.plan.encode import (
    HLS_DIR,
    MASTER,
    MEDIA_PLAYLIST,
    POSTER,
    THUMBS_DIR,
    EncodePlan,
    Settings,
    plan_encode,
    poster_args,
    transcode_args,
)
from openfront.media.plan.playlists import (
    Variant,
    codecs,
    master_playlist,
    measure_bandwidth,
    parse_media_playlist,
)
from openfront.media.plan.probe import ProbeResult, Unreadable, parse_probe, probe_args
from openfront.media.plan.progress import ProgressParser, Throttle, stage
from openfront.media.plan.reject import reject_reason
from openfront.media.plan.thumbnails import SPRITE, VTT, sprite_args, thumbnails_vtt

SOURCE_LINK = ".source"
PROBE_LINES = 2000  # the header of a file with many streams, chapters and tags
# How long a transcode may take: a base plus so many seconds per second of video. The 1080p
# ladder from a 4K source runs at about 0.5x real time on 2 cores with the veryfast preset.
TIMEOUT_BASE = 120.0
TIMEOUT_PER_SECOND = 10.0
# Shares of the progress bar: ffmpeg's single pass is nearly all of the work.
ENCODE_SHARE = 0.95
POSTER_SHARE = 0.97
# The renditions must reach this share of the probed duration, else the source is cut short.
MIN_COVERAGE = 0.9


@dataclass(frozen=True, slots=True)
class RenditionOutput:
    name: str
    width: int
    height: int
    bandwidth: int  # peak segment bits per second (BANDWIDTH)
    average_bandwidth: int
    codecs: str
    playlist: str  # relative to out_dir: "hls/360p/index.m3u8"
    segments: int


@dataclass(frozen=True, slots=True)
class TranscodeResult:
    out_dir: Path
    probe: ProbeResult
    duration: float
    renditions: tuple[RenditionOutput, ...]
    files: tuple[str, ...]  # every file under out_dir, relative: what the uploader copies
    master_playlist: str = f"{HLS_DIR}/{MASTER}"
    poster: str = POSTER
    thumbnails: str = f"{THUMBS_DIR}/{VTT}"
    sprite: str = f"{THUMBS_DIR}/{SPRITE}"


async def probe(source: Path) -> ProbeResult:
    """What the file holds; MediaRejected if ffmpeg cannot read it (judge it with reject_reason)."""
    _check_source(source)
    workdir = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="openfront-probe-"))
    try:
        return await _probe(source, workdir)
    finally:
        await asyncio.to_thread(staging.discard, workdir)


async def transcode(
    source: Path,
    out_dir: Path,
    *,
    on_progress: Callable[[float], None] | None = None,
    settings: Settings | None = None,
    timeout: float | None = None,
    progress_interval: float = 0.5,
) -> TranscodeResult:
    """Probe, reject or transcode `source` into `out_dir` (replaced whole if it exists).

    on_progress gets a growing fraction at most every `progress_interval` seconds and 1.0 once
    the output is in place. timeout defaults to TIMEOUT_BASE + TIMEOUT_PER_SECOND x duration.
    Raises MediaRejected (not a video we take), TranscodeFailed or TranscodeTimeout.
    """
    settings = settings or Settings()
    _check_source(source)
    loop = asyncio.get_running_loop()
    throttle = Throttle(progress_interval)

    def report(value: float) -> None:
        if on_progress is not None and throttle.should_emit(value, loop.time()):
            on_progress(value)

    report(0.0)
    workdir = await asyncio.to_thread(staging.start, out_dir)
    limit = timeout
    try:
        async with asyncio.timeout(timeout) as scope:
            probed = await _probe(source, workdir)
            plan = _plan(probed, settings)
            if limit is None:
                limit = TIMEOUT_BASE + TIMEOUT_PER_SECOND * plan.duration
                scope.reschedule(loop.time() + limit)
            renditions = await _encode(plan, workdir, report)
        files = await asyncio.to_thread(_finish, workdir)
        await _publish(workdir, out_dir)
    except TimeoutError:
        reason = f"transcoding took longer than {limit:g} s and was stopped"
        raise TranscodeTimeout(reason) from None
    finally:
        await asyncio.to_thread(staging.discard, workdir)
    report(1.0)
    return TranscodeResult(out_dir, probed, plan.duration, renditions, files)


def _check_source(source: Path) -> None:
    if not source.is_file():
        raise FileNotFoundError(f"no such file: {source}")


async def _probe(source: Path, workdir: Path) -> ProbeResult:
    await asyncio.to_thread(_link, source, workdir / SOURCE_LINK)
    finished = await run_ffmpeg(
        probe_args(f"file:{SOURCE_LINK}"), cwd=workdir, tail_lines=PROBE_LINES
    )
    result = parse_probe(finished.stderr)
    if isinstance(result, Unreadable):
        raise MediaRejected(result.reason)
    return result


def _plan(probed: ProbeResult, settings: Settings) -> EncodePlan:
    reason = reject_reason(probed, settings.limits)
    if reason is not None:
        raise MediaRejected(reason)
    return plan_encode(probed, settings)


async def _encode(
    plan: EncodePlan, workdir: Path, report: Callable[[float], None]
) -> tuple[RenditionOutput, ...]:
    hls = workdir / HLS_DIR
    await asyncio.to_thread(_make_dirs, hls, workdir / THUMBS_DIR)
    parser = ProgressParser(plan.duration)

    def on_line(line: str) -> None:
        fraction = parser.feed(line)
        if fraction is not None:
            report(stage(fraction, 0.0, ENCODE_SHARE))

    finished = await run_ffmpeg(
        transcode_args(plan, f"file:../{SOURCE_LINK}"), cwd=hls, on_line=on_line
    )
    if finished.returncode != 0:
        raise TranscodeFailed(_ffmpeg_reason(finished.stderr, finished.returncode))
    report(ENCODE_SHARE)
    await _poster(plan, workdir)
    await _sprite(plan, workdir / THUMBS_DIR)
    report(POSTER_SHARE)
    return await asyncio.to_thread(_write_playlists, plan, workdir)


async def _poster(plan: EncodePlan, workdir: Path) -> None:
    """The frame at the poster time; the first frame if the video stream ends before it."""
    reason = "ffmpeg wrote no poster"
    for at in (None, 0.0):
        finished = await run_ffmpeg(poster_args(plan, f"file:{SOURCE_LINK}", at=at), cwd=workdir)
        if finished.returncode == 0 and await asyncio.to_thread(_nonempty, workdir / POSTER):
            return
        reason = _ffmpeg_reason(finished.stderr, finished.returncode)
    raise TranscodeFailed(f"poster: {reason}")


async def _sprite(plan: EncodePlan, thumbs: Path) -> None:
    """Tile the frames the transcode wrote into one sprite and write the WebVTT track."""
    frames = await asyncio.to_thread(_thumbnail_frames, thumbs)
    if not frames:
        raise TranscodeFailed("ffmpeg wrote no thumbnails")
    finished = await run_ffmpeg(sprite_args(plan.thumbnails, len(frames)), cwd=thumbs)
    if finished.returncode != 0 or not await asyncio.to_thread(_nonempty, thumbs / SPRITE):
        reason = _ffmpeg_reason(finished.stderr, finished.returncode)
        raise TranscodeFailed(f"thumbnails: {reason}")
    vtt = thumbnails_vtt(plan.thumbnails, len(frames), plan.duration)
    await asyncio.to_thread(_replace_frames, frames, thumbs / VTT, vtt)


def _thumbnail_frames(thumbs: Path) -> list[Path]:
    return sorted(thumbs.glob("thumb_*.jpg"))


def _replace_frames(frames: list[Path], vtt_path: Path, vtt: str) -> None:
    for frame in frames:
        frame.unlink()
    staging.write_text(vtt_path, vtt)


def _write_playlists(plan: EncodePlan, workdir: Path) -> tuple[RenditionOutput, ...]:
    """Check the media playlists ffmpeg wrote, then write the master playlist."""
    hls = workdir / HLS_DIR
    outputs: list[RenditionOutput] = []
    variants: list[Variant] = []
    for rendition in plan.renditions:
        directory = hls / rendition.name
        try:
            playlist = parse_media_playlist((directory / MEDIA_PLAYLIST).read_text("utf-8"))
            if not playlist.segments or playlist.init_uri is None or not playlist.ended:
                raise ValueError("the playlist is unfinished")
            sizes = [((directory / s.uri).stat().st_size, s.duration) for s in playlist.segments]
            bandwidth = measure_bandwidth(sizes)
            init = (directory / playlist.init_uri).read_bytes()
            codec = codecs(init, has_audio=plan.audio is not None)
        except (OSError, ValueError) as exc:
            detail = exc.strerror if isinstance(exc, OSError) else str(exc)  # no server paths
            reason = f"ffmpeg's {rendition.name} output is unusable: {detail}"
            raise TranscodeFailed(reason) from exc
        if playlist.duration < plan.duration * MIN_COVERAGE - 0.5:
            raise MediaRejected(
                f"the video stops at {playlist.duration:.2f} s of the {plan.duration:.2f} s its "
                "header announces: the file is incomplete, so the upload was probably cut short"
            )
        uri = f"{rendition.name}/{MEDIA_PLAYLIST}"
        variants.append(Variant(uri, bandwidth, rendition.width, rendition.height, codec, plan.fps))
        outputs.append(
            RenditionOutput(
                rendition.name,
                rendition.width,
                rendition.height,
                bandwidth.peak,
                bandwidth.average,
                codec,
                f"{HLS_DIR}/{uri}",
                len(playlist.segments),
            )
        )
    staging.write_text(hls / MASTER, master_playlist(variants))
    return tuple(outputs)


def _finish(workdir: Path) -> tuple[str, ...]:
    (workdir / SOURCE_LINK).unlink()
    return staging.files_under(workdir)


async def _publish(workdir: Path, out_dir: Path) -> None:
    """The rename runs to its end even if we are cancelled meanwhile: half a swap is worse."""
    task = create_task(asyncio.to_thread(staging.publish, workdir, out_dir), name="media-publish")
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        raise


def _link(source: Path, link: Path) -> None:
    os.symlink(source.resolve(), link)


def _make_dirs(*directories: Path) -> None:
    for directory in directories:
        directory.mkdir(parents=True, exist_ok=True)


def _nonempty(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 0


def _ffmpeg_reason(stderr: str, returncode: int) -> str:
    return failure_reason(stderr) or f"ffmpeg exited with status {returncode}"
