"""Shared by the processing and playback tests: a small generated clip, an upload through the
API's presigned PUT, and waiting on a video's status with a deadline."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from openfront.media.ffmpeg import ffmpeg_exe

CLIP_SECONDS = 5.0
DEADLINE = 90.0
POLL = 0.05  # between two looks at the video's status


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """5 s of 640x360 at 15 fps with a tone: two renditions (240p, 360p), two segments."""
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", CLIP_SECONDS)


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """40 s of the same: a transcode that lasts long enough to kill a worker in the middle of
    it on an idle machine too."""
    return make_clip(tmp_path_factory.mktemp("clip") / "long.mp4", 40.0)


def make_clip(path: Path, seconds: float) -> bytes:
    subprocess.run(
        [
            ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=15",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast",
            "-pix_fmt", "yuv420p", "-c:a", "aac", str(path),
        ],
        check=True,
        timeout=60,
    )  # fmt: skip
    return path.read_bytes()


def processing(**overrides: Any) -> dict[str, Any]:
    """Quick settings: the in-process worker, fast polls, ultrafast x264."""
    return {"worker": True, "poll_interval": 0.1, "preset": "ultrafast", "lease": 10} | overrides


async def upload(
    client: httpx.AsyncClient, api: str, auth: dict[str, str], data: bytes, name: str
) -> dict[str, Any]:
    """Presigned PUT then complete: the video, queued."""
    r = await client.post(
        f"{api}/videos/upload-url",
        headers=auth,
        json={"filename": name, "size": len(data), "content_type": "video/mp4"},
    )
    assert r.status_code == 201, r.text
    answer = r.json()
    put = answer["upload"]
    r = await client.put(put["url"], content=data, headers=put["headers"])
    assert r.status_code == 200, r.text
    r = await client.post(
        f"{api}/videos/complete", headers=auth, json={"video_id": answer["video_id"]}
    )
    assert r.status_code == 200, r.text
    video: dict[str, Any] = r.json()
    return video


async def wait_for_video(
    client: httpx.AsyncClient,
    api: str,
    auth: dict[str, str],
    video_id: str,
    done: Callable[[dict[str, Any]], bool],
    seen: list[dict[str, Any]] | None = None,
    deadline: float = DEADLINE,
) -> dict[str, Any]:
    """GET the video until ``done`` says so; every answer is appended to ``seen``."""
    end = time.monotonic() + deadline
    while True:
        r = await client.get(f"{api}/videos/{video_id}", headers=auth)
        assert r.status_code == 200, r.text
        video: dict[str, Any] = r.json()
        if seen is not None:
            seen.append(video)
        if done(video):
            return video
        assert time.monotonic() < end, f"video never got there; last: {video}"
        await asyncio.sleep(POLL)
