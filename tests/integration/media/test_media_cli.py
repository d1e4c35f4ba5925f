"""`openfront media probe` and `openfront media transcode`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result
from tests.integration.media.conftest import Clips

from openfront.cli.main import main


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="openfront")


def test_help_lists_both_commands() -> None:
    result = run("media", "--help")
    assert result.exit_code == 0
    assert "probe" in result.output and "transcode" in result.output
    result = run("media", "transcode", "--help")
    assert all(o in result.output for o in ("--preset", "--crf", "--segment-seconds", "--timeout"))


def test_transcode(clips: Clips, tmp_path: Path) -> None:
    out_dir = tmp_path / "clip"
    result = run("media", "transcode", str(clips.silent), str(out_dir), "--preset", "ultrafast")
    assert result.exit_code == 0, result.output
    assert "240p" in result.output and "320x240" in result.output
    assert f"master:     {out_dir / 'hls/master.m3u8'}" in result.output
    assert (out_dir / "hls" / "master.m3u8").is_file()
    assert (out_dir / "poster.jpg").is_file()


def test_transcode_rejects_in_one_line(clips: Clips, tmp_path: Path) -> None:
    result = run("media", "transcode", str(clips.picture), str(tmp_path / "clip"))
    assert result.exit_code == 1
    assert result.output.strip() == "error: rejected: a still image (PNG), not a video"
    assert list(tmp_path.iterdir()) == []


def test_probe_accepted_prints_the_ladder(clips: Clips) -> None:
    result = run("media", "probe", str(clips.landscape))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["rejected"] is None
    assert summary["probe"]["video"]["width"] == 640
    assert [r["name"] for r in summary["renditions"]] == ["240p", "360p"]


def test_probe_rejected(clips: Clips) -> None:
    result = run("media", "probe", str(clips.notes))
    assert result.exit_code == 1
    assert "error: rejected: not a video file" in result.output
    result = run("media", "probe", str(clips.picture))
    assert result.exit_code == 1
    assert "error: rejected: a still image (PNG), not a video" in result.output


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    assert run("media", "probe", str(tmp_path / "missing.mp4")).exit_code == 2
    result = run("media", "transcode", str(tmp_path), str(tmp_path / "out"))
    assert result.exit_code == 2
