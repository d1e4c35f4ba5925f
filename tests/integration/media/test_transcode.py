"""transcode() on real clips with the bundled ffmpeg: ladder, segments, playlists, poster,
thumbnails, progress, rejections, cancellation and timeouts."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from pathlib import Path

import pytest
from tests.integration.media.conftest import FAST, LANDSCAPE_SECONDS, Clips

from openfront._aio import create_task
from openfront.media import (
    MediaRejected,
    ProbeResult,
    TranscodeFailed,
    TranscodeResult,
    TranscodeTimeout,
    probe,
    reject_reason,
    transcode,
)
from openfront.media import ffmpeg as ffmpeg_module
from openfront.media.ffmpeg import ffmpeg_exe
from openfront.media.plan.playlists import MediaPlaylist, parse_media_playlist
from openfront.media.plan.probe import parse_probe

STREAM_INF = re.compile(r"^#EXT-X-STREAM-INF:(.*)$", re.M)


class Recorded:
    def __init__(self, result: TranscodeResult, progress: list[float]) -> None:
        self.result = result
        self.progress = progress


def _run(source: Path, out_dir: Path) -> Recorded:
    progress: list[float] = []
    result = asyncio.run(
        transcode(source, out_dir, on_progress=progress.append, settings=FAST, progress_interval=0)
    )
    return Recorded(result, progress)


@pytest.fixture(scope="module")
def landscape(clips: Clips, tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    return _run(clips.landscape, tmp_path_factory.mktemp("landscape") / "video")


@pytest.fixture(scope="module")
def portrait(clips: Clips, tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    return _run(clips.portrait, tmp_path_factory.mktemp("portrait") / "video")


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def media_playlists(result: TranscodeResult) -> dict[str, MediaPlaylist]:
    return {
        r.name: parse_media_playlist((result.out_dir / r.playlist).read_text())
        for r in result.renditions
    }


def picture_size(path: Path) -> tuple[int, int]:
    run = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True
    )
    probed = parse_probe(run.stderr)
    assert isinstance(probed, ProbeResult) and probed.video is not None
    return probed.video.display_size


def master_attributes(result: TranscodeResult) -> list[str]:
    return STREAM_INF.findall((result.out_dir / result.master_playlist).read_text())


def test_landscape_gets_240p_and_360p_and_nothing_larger(landscape: Recorded) -> None:
    result = landscape.result
    assert [(r.name, r.width, r.height) for r in result.renditions] == [
        ("240p", 426, 240),
        ("360p", 640, 360),
    ]
    assert result.duration == pytest.approx(LANDSCAPE_SECONDS)
    assert result.probe.audio is not None


def test_segments_are_four_to_six_seconds_and_aligned(landscape: Recorded) -> None:
    playlists = media_playlists(landscape.result)
    durations = {name: [s.duration for s in p.segments] for name, p in playlists.items()}
    assert len(set(map(tuple, durations.values()))) == 1  # same cuts in every rendition
    for name, playlist in playlists.items():
        directory = landscape.result.out_dir / "hls" / name
        assert playlist.ended and playlist.init_uri is not None
        assert (directory / playlist.init_uri).stat().st_size > 0
        *whole, last = playlist.segments
        assert len(whole) == 2 and all(4.0 <= s.duration <= 6.0 for s in whole)
        assert 0 < last.duration <= 6.0
        assert playlist.duration == pytest.approx(LANDSCAPE_SECONDS, abs=0.1)
        assert all((directory / s.uri).stat().st_size > 0 for s in playlist.segments)


def test_master_playlist_lists_every_rendition(landscape: Recorded) -> None:
    result = landscape.result
    text = (result.out_dir / result.master_playlist).read_text()
    assert text.startswith("#EXTM3U\n") and "#EXT-X-INDEPENDENT-SEGMENTS" in text
    entries = master_attributes(result)
    assert len(entries) == 2
    for entry, rendition in zip(entries, result.renditions, strict=True):
        assert f"BANDWIDTH={rendition.bandwidth}," in entry
        assert f"AVERAGE-BANDWIDTH={rendition.average_bandwidth}," in entry
        assert rendition.average_bandwidth <= rendition.bandwidth
        assert f"RESOLUTION={rendition.width}x{rendition.height}" in entry
        assert re.search(r'CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"', entry)
        assert "FRAME-RATE=15.000" in entry
    uris = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert uris == ["240p/index.m3u8", "360p/index.m3u8"]


def test_master_playlist_plays_in_ffmpeg(landscape: Recorded) -> None:
    """ffmpeg's HLS demuxer reads the master, picks renditions, decodes every segment."""
    master = landscape.result.out_dir / landscape.result.master_playlist
    decode = ["-map", "0:v:0", "-map", "0:a:0", "-f", "null", "-"]
    run = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", str(master), *decode],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0 and run.stderr == ""


def test_poster_and_thumbnails(landscape: Recorded) -> None:
    result = landscape.result
    poster = result.out_dir / result.poster
    assert poster.read_bytes()[:2] == b"\xff\xd8"
    assert picture_size(poster) == (640, 360)
    vtt = (result.out_dir / result.thumbnails).read_text()
    cues = re.findall(r"^(\S+) --> (\S+)\nsprite\.jpg#xywh=(\d+),0,160,90$", vtt, re.M)
    assert [c[:2] for c in cues][:2] == [
        ("00:00:00.000", "00:00:02.000"),
        ("00:00:02.000", "00:00:04.000"),
    ]
    assert cues[-1][1] == "00:00:09.000"
    assert picture_size(result.out_dir / result.sprite) == (160 * len(cues), 90)


def test_progress_grows_and_ends_at_one(landscape: Recorded) -> None:
    progress = landscape.progress
    assert progress[0] == 0.0 and progress[-1] == 1.0
    assert progress == sorted(progress) and len(set(progress)) == len(progress)


def test_only_the_output_is_left(landscape: Recorded) -> None:
    result = landscape.result
    on_disk = sorted(
        p.relative_to(result.out_dir).as_posix()
        for p in result.out_dir.rglob("*")
        if not p.is_dir()
    )
    assert on_disk == list(result.files)
    assert not any(name.startswith("thumbs/thumb_") for name in on_disk)
    assert ".source" not in on_disk
    assert [p.name for p in result.out_dir.parent.iterdir()] == ["video"]


def test_portrait_is_laid_out_portrait(portrait: Recorded) -> None:
    result = portrait.result
    assert result.probe.video is not None and result.probe.video.rotation in (90, 270)
    assert [(r.name, r.width, r.height) for r in result.renditions] == [
        ("240p", 240, 426),
        ("360p", 360, 640),
    ]
    assert "RESOLUTION=360x640" in master_attributes(result)[1]
    assert picture_size(result.out_dir / result.poster) == (360, 640)
    assert "sprite.jpg#xywh=0,0,90,160" in (result.out_dir / result.thumbnails).read_text()


async def test_video_without_audio_replaces_an_older_output(clips: Clips, tmp_path: Path) -> None:
    out_dir = tmp_path / "video"
    out_dir.mkdir()
    (out_dir / "stale.txt").write_text("from an earlier run")
    (tmp_path / ".video.partial-deadbeef").mkdir()  # left by a crashed run
    result = await transcode(clips.silent, out_dir, settings=FAST)
    assert [(r.name, r.width, r.height) for r in result.renditions] == [("240p", 320, 240)]
    (entry,) = master_attributes(result)
    assert re.search(r'CODECS="avc1\.[0-9a-f]{6}"', entry)
    assert "stale.txt" not in result.files
    assert names(tmp_path) == ["video"]


@pytest.mark.parametrize(
    ("clip", "reason"),
    [
        ("notes", "not a video file: ffmpeg recognised no audio or video format in it"),
        ("picture", "a still image (PNG), not a video"),
        ("truncated", "the file is incomplete: its MP4 index (moov atom) is missing"),
        ("truncated_faststart", "the file is incomplete: it holds"),
        ("truncated_mkv", "the video stops at 4."),
    ],
)
async def test_rejected_with_a_reason(clips: Clips, tmp_path: Path, clip: str, reason: str) -> None:
    with pytest.raises(MediaRejected) as caught:
        await transcode(getattr(clips, clip), tmp_path / "video", settings=FAST)
    assert caught.value.reason.startswith(reason)
    assert "\n" not in caught.value.reason
    assert names(tmp_path) == []


async def test_probe_alone(clips: Clips) -> None:
    probed = await probe(clips.picture)
    assert probed.container == "png_pipe"
    assert reject_reason(probed) == "a still image (PNG), not a video"
    probed = await probe(clips.landscape)
    assert reject_reason(probed) is None
    assert probed.video is not None and probed.video.display_size == (640, 360)
    with pytest.raises(MediaRejected, match="not a video file"):
        await probe(clips.notes)
    with pytest.raises(FileNotFoundError):
        await probe(clips.notes.with_name("missing.mp4"))


def _children() -> list[int]:
    """Our live child processes (ffmpeg runs in its own session but stays our child)."""
    me = str(os.getpid())
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == me and fields[0] != "Z":
                found.append(int(entry.name))
    return found


async def test_cancel_kills_ffmpeg_and_leaves_nothing(clips: Clips, tmp_path: Path) -> None:
    before = set(_children())
    task: asyncio.Task[TranscodeResult] | None = None

    def cancel_once_encoding(fraction: float) -> None:
        # The first report above 0 comes from ffmpeg's progress pipe, while it runs.
        if fraction > 0 and task is not None and not task.cancelling():
            task.cancel()

    task = create_task(
        transcode(
            clips.landscape,
            tmp_path / "video",
            on_progress=cancel_once_encoding,
            settings=FAST,
            progress_interval=0,
        )
    )
    with pytest.raises(asyncio.CancelledError):
        await task
    assert names(tmp_path) == []
    assert set(_children()) <= before


async def test_timeout_stops_ffmpeg_and_leaves_nothing(clips: Clips, tmp_path: Path) -> None:
    with pytest.raises(TranscodeTimeout, match=r"took longer than 0\.05 s") as caught:
        await transcode(clips.landscape, tmp_path / "video", settings=FAST, timeout=0.05)
    assert isinstance(caught.value, TimeoutError)
    assert names(tmp_path) == []


async def test_missing_source(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        await transcode(tmp_path / "nothing.mp4", tmp_path / "video")
    assert names(tmp_path) == []


async def test_no_ffmpeg_is_a_one_line_failure(
    clips: Clips, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ffmpeg_module, "ffmpeg_exe", lambda: str(tmp_path / "no-ffmpeg"))
    with pytest.raises(TranscodeFailed, match=r"^cannot run ffmpeg: .*No such file"):
        await transcode(clips.silent, tmp_path / "video")
    assert names(tmp_path) == []
