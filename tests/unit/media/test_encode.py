"""The encode plan and its ffmpeg argument lists (lists, never shell strings)."""

from __future__ import annotations

import dataclasses

import pytest

from openfront.media.plan.encode import (
    Settings,
    filter_graph,
    plan_encode,
    poster_args,
    transcode_args,
    var_stream_map,
)
from openfront.media.plan.probe import AudioStream, ProbeResult, VideoStream

VIDEO = VideoStream(index=0, codec="h264", width=1280, height=720, fps=30.0)
AUDIO = AudioStream(index=1, codec="aac", sample_rate=44100, channels=6)
PROBE = ProbeResult("mov,mp4,m4a,3gp,3g2,mj2", duration=60.0, video=VIDEO, audio=AUDIO)


def value(args: list[str], option: str) -> str:
    return args[args.index(option) + 1]


def values(args: list[str], option: str) -> list[str]:
    return [args[i + 1] for i, arg in enumerate(args) if arg == option]


def test_plan_for_720p_with_audio() -> None:
    plan = plan_encode(PROBE)
    assert [r.name for r in plan.renditions] == ["240p", "360p", "480p", "720p"]
    assert (plan.fps, plan.gop, plan.duration) == (30.0, 120, 60.0)
    assert plan.poster_time == pytest.approx(6.0)
    assert plan.poster_size == (1280, 720)
    assert (plan.thumbnails.interval, plan.thumbnails.count) == (2, 30)
    assert (plan.thumbnails.width, plan.thumbnails.height) == (160, 90)


def test_rejected_probe_cannot_be_planned() -> None:
    with pytest.raises(ValueError, match="still image"):
        plan_encode(dataclasses.replace(PROBE, container="png_pipe"))


def test_transcode_args_one_pass_all_renditions() -> None:
    args = transcode_args(plan_encode(PROBE), "file:../.source")
    assert all(isinstance(arg, str) for arg in args)
    assert value(args, "-protocol_whitelist") == "file"
    assert args.index("-format_whitelist") < args.index("-i")
    assert value(args, "-i") == "file:../.source"
    assert value(args, "-progress") == "pipe:1" and "-nostats" in args
    assert values(args, "-map") == [
        "[v0]", "0:1", "[v1]", "0:1", "[v2]", "0:1", "[v3]", "0:1", "[thumbs]",
    ]  # fmt: skip
    assert value(args, "-var_stream_map") == (
        "v:0,a:0,name:240p v:1,a:1,name:360p v:2,a:2,name:480p v:3,a:3,name:720p"
    )
    assert value(args, "-f") == "hls" and value(args, "-hls_time") == "4"
    assert value(args, "-hls_segment_type") == "fmp4"
    assert value(args, "-hls_playlist_type") == "vod"
    assert value(args, "-hls_segment_filename") == "%v/seg_%05d.m4s"
    assert "%v/index.m3u8" in args and "../thumbs/thumb_%04d.jpg" in args
    assert value(args, "-map_metadata") == "-1"


def test_keyframes_aligned_across_renditions() -> None:
    args = transcode_args(plan_encode(PROBE, Settings(segment_seconds=6)), "file:x")
    assert value(args, "-force_key_frames") == "expr:gte(t,n_forced*6)"
    assert value(args, "-sc_threshold") == "0"
    assert value(args, "-g") == value(args, "-keyint_min") == "180"
    assert value(args, "-hls_time") == "6"


def test_bitrate_caps_and_audio_per_rendition() -> None:
    args = transcode_args(plan_encode(PROBE), "file:x")
    assert values(args, "-maxrate:v:0") == ["400k"] and values(args, "-bufsize:v:0") == ["800k"]
    assert values(args, "-maxrate:v:3") == ["2800k"]
    assert [value(args, f"-b:a:{k}") for k in range(4)] == ["96k", "96k", "128k", "128k"]
    assert value(args, "-ac") == "2"  # 5.1 is mixed down to stereo
    assert value(args, "-ar") == "48000"
    assert value(args, "-crf") == "23" and value(args, "-preset") == "veryfast"


def test_without_audio() -> None:
    plan = plan_encode(dataclasses.replace(PROBE, audio=None))
    args = transcode_args(plan, "file:x")
    assert values(args, "-map") == ["[v0]", "[v1]", "[v2]", "[v3]", "[thumbs]"]
    assert "-c:a" not in args
    assert var_stream_map(plan) == "v:0,name:240p v:1,name:360p v:2,name:480p v:3,name:720p"


def test_filter_graph_splits_once() -> None:
    assert filter_graph(plan_encode(PROBE)) == (
        "[0:0]split=5[s0][s1][s2][s3][s4];"
        "[s0]scale=426:240,setsar=1,format=yuv420p[v0];"
        "[s1]scale=640:360,setsar=1,format=yuv420p[v1];"
        "[s2]scale=854:480,setsar=1,format=yuv420p[v2];"
        "[s3]scale=1280:720,setsar=1,format=yuv420p[v3];"
        "[s4]fps=1/2,scale=160:90,setsar=1[thumbs]"
    )


def test_filter_graph_deinterlaces_and_halves_high_frame_rates() -> None:
    video = dataclasses.replace(VIDEO, index=2, fps=119.88, interlaced=True)
    graph = filter_graph(plan_encode(dataclasses.replace(PROBE, video=video)))
    assert graph.startswith("[0:2]bwdif=mode=send_frame,fps=59.94,split=5")


def test_poster_args_seek_before_the_input() -> None:
    plan = plan_encode(
        dataclasses.replace(PROBE, video=dataclasses.replace(VIDEO, width=3840, height=2160))
    )
    args = poster_args(plan, "file:.source")
    assert args.index("-ss") < args.index("-i")
    assert value(args, "-ss") == "6.000"
    assert value(args, "-vf") == "scale=1280:720,setsar=1"
    assert value(args, "-frames:v") == "1" and args[-1] == "poster.jpg"
    assert value(poster_args(plan, "file:.source", at=0.0), "-ss") == "0.000"


@pytest.mark.parametrize(
    "bad", [{"segment_seconds": 1}, {"segment_seconds": 11}, {"crf": 52}, {"poster_at": 1.0}]
)
def test_settings_are_checked(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Settings(**bad)  # type: ignore[arg-type]
