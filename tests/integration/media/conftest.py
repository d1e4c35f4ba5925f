"""Small clips made by the bundled ffmpeg once per session (lavfi testsrc2 and sine)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from openfront.media.ffmpeg import ffmpeg_exe
from openfront.media.plan.encode import Settings

# Tests trade quality for speed; the plan and the commands are the same as with the default.
FAST = Settings(preset="ultrafast")
LANDSCAPE_SECONDS = 9.0  # two whole 4 s segments and a short last one


@dataclass(frozen=True)
class Clips:
    landscape: Path  # 640x360, 15 fps, AAC, moov at the end
    portrait: Path  # the same pixels tagged to be shown turned by 90 degrees
    silent: Path  # 320x240, no audio
    picture: Path  # a PNG
    notes: Path  # a text file
    truncated: Path  # first half of the landscape clip: the MP4 index is lost
    truncated_faststart: Path  # first half of a faststart MP4: the index survives, data not
    truncated_mkv: Path  # first half of a Matroska file: the header still says 9 s


def ffmpeg(*args: str) -> None:
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args],
        check=True,
        timeout=60,
    )


def _cut_in_half(source: Path, target: Path) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    return target


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Clips:
    root = tmp_path_factory.mktemp("clips")
    testsrc = ["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=15"]
    tone = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
    h264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    landscape = root / "landscape.mp4"
    ffmpeg(*testsrc, *tone, "-t", str(LANDSCAPE_SECONDS), *h264, "-c:a", "aac", str(landscape))
    faststart = root / "faststart.mp4"
    ffmpeg("-i", str(landscape), "-c", "copy", "-t", "4", "-movflags", "+faststart", str(faststart))
    portrait = root / "portrait.mp4"
    ffmpeg("-display_rotation:v:0", "90", "-i", str(faststart), "-c", "copy", str(portrait))
    silent = root / "silent.mp4"
    small = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=15"]
    ffmpeg(*small, "-t", "2", *h264, str(silent))
    picture = root / "picture.png"
    ffmpeg(*small, "-frames:v", "1", str(picture))
    matroska = root / "landscape.mkv"
    ffmpeg("-i", str(landscape), "-c", "copy", str(matroska))
    notes = root / "notes.txt"
    notes.write_text("not a video\n" * 100)
    return Clips(
        landscape=landscape,
        portrait=portrait,
        silent=silent,
        picture=picture,
        notes=notes,
        truncated=_cut_in_half(landscape, root / "truncated.mp4"),
        truncated_faststart=_cut_in_half(faststart, root / "truncated-faststart.mp4"),
        truncated_mkv=_cut_in_half(matroska, root / "truncated.mkv"),
    )
