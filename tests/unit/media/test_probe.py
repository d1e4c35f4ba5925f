"""The `ffmpeg -i` header into a ProbeResult: samples printed by the bundled ffmpeg 9 and older."""

from __future__ import annotations

import pytest

from openfront.media.plan.probe import (
    FORMAT_WHITELIST,
    AudioStream,
    ProbeResult,
    Unreadable,
    VideoStream,
    parse_probe,
    probe_args,
    split_top_level,
)

LANDSCAPE = """\
Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'file:.source':
  Metadata:
    major_brand     : isom
    minor_version   : 512
    compatible_brands: isomiso2avc1mp41
    encoder         : Lavf63.1.102
  Duration: 00:00:03.00, start: 0.000000, bitrate: 1840 kb/s
  Stream #0:0[0x1](und): Video: h264 (Constrained Baseline) (avc1 / 0x31637661), \
yuv420p(progressive), 640x360 [SAR 1:1 DAR 16:9], 1761 kb/s, 25 fps, 25 tbr, 12800 tbn (default)
    Metadata:
      handler_name    : VideoHandler
      encoder         : Lavc63.1.102 libx264
  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 48000 Hz, mono, fltp, \
69 kb/s (default)
    Metadata:
      handler_name    : SoundHandler
At least one output file must be specified
"""

ROTATED = LANDSCAPE.replace(
    "      encoder         : Lavc63.1.102 libx264\n",
    "      encoder         : Lavc63.1.102 libx264\n"
    "    Side data:\n"
    "      Display Matrix: rotation of 90.00 degrees\n",
)

WEBM = """\
Input #0, matroska,webm, from 'file:.source':
  Metadata:
    ENCODER         : Lavf63.1.102
  Duration: 00:00:02.00, start: 0.000000, bitrate: 452 kb/s
  Stream #0:0: Video: vp9 (Profile 0), yuv420p(tv, progressive), 320x240, SAR 1:1 DAR 4:3, \
30 fps, 30 tbr, 1k tbn
    Metadata:
      ENCODER         : Lavc63.1.102 libvpx-vp9
      DURATION        : 00:00:02.000000000
At least one output file must be specified
"""

PNG = """\
Input #0, png_pipe, from 'file:.source':
  Duration: N/A, bitrate: N/A
  Stream #0:0: Video: png, rgb24(pc, gbr/unknown/unknown), 320x240 [SAR 1:1 DAR 4:3], 25 fps, \
25 tbr, 25 tbn
At least one output file must be specified
"""

COVER_ART = """\
Input #0, mp3, from 'file:.source':
  Metadata:
    encoder         : Lavf63.1.102
  Duration: 00:00:02.00, start: 0.025056, bitrate: 104 kb/s
  Stream #0:0: Audio: mp3 (mp3float), 44100 Hz, mono, fltp, 64 kb/s, start 0.025057
  Stream #0:1: Video: mjpeg (Baseline), yuvj420p(pc, bt470bg/unknown/unknown), 320x240 \
[SAR 1:1 DAR 4:3], 90k tbr, 90k tbn, start 0.025056 (attached pic)
    Metadata:
      comment         : Other
At least one output file must be specified
"""

# ffmpeg 4-6 printed rotation as stream metadata or as a lower-case side data line.
OLD_ROTATE_TAG = """\
Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'phone.mp4':
  Duration: 00:00:10.01, start: 0.000000, bitrate: 17236 kb/s
    Stream #0:0(eng): Video: h264 (High) (avc1 / 0x31637661), yuvj420p(pc, smpte170m), \
1920x1080, 17009 kb/s, SAR 1:1 DAR 16:9, 29.97 fps, 29.97 tbr, 90k tbn, 180k tbc (default)
    Metadata:
      rotate          : 270
      creation_time   : 2019-01-01T10:00:00.000000Z
    Stream #0:1(eng): Audio: aac (LC) (mp4a / 0x6134706D), 48000 Hz, stereo, fltp, 256 kb/s \
(default)
"""

OLD_DISPLAYMATRIX = """\
Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'phone.mov':
  Duration: 00:00:05.00, start: 0.000000, bitrate: 9000 kb/s
  Stream #0:0[0x1](und): Video: hevc (Main) (hvc1 / 0x31637668), yuv420p(tv, bt709), \
1920x1080, 8800 kb/s, 59.94 fps, 59.94 tbr, 600 tbn (default)
    Side data:
      displaymatrix: rotation of -90.00 degrees
  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, 5.1(side), fltp, \
160 kb/s (default)
"""

INTERLACED_ANAMORPHIC = """\
Input #0, mpegts, from 'file:.source':
  Duration: 00:01:00.04, start: 1.400000, bitrate: 8000 kb/s
  Program 1
  Stream #0:0[0x100]: Video: mpeg2video (Main) ([2][0][0][0] / 0x0002), yuv420p(tv, \
top first), 720x576 [SAR 16:15 DAR 4:3], 25 fps, 25 tbr, 90k tbn
  Stream #0:1[0x101](fra): Audio: ac3 ([129][0][0][0] / 0x0081), 48000 Hz, 5.1(side), fltp, \
448 kb/s
"""

NO_FPS = """\
Input #0, flv, from 'file:.source':
  Duration: 00:00:30.00, start: 0.000000, bitrate: N/A
  Stream #0:0: Video: h264 (High), yuv420p(progressive), 1280x720, 1000k tbr, 1k tbn
  Stream #0:1: Audio: aac (LC), 44100 Hz, 2 channels, fltp
"""

UNKNOWN_CODEC = """\
Input #0, avi, from 'file:.source':
  Duration: 00:00:04.00, start: 0.000000, bitrate: 900 kb/s
  Stream #0:0: Video: none (ABCD / 0x44434241), none, 640x480, 25 fps, 25 tbr, 25 tbn
"""

SUBTITLES_FIRST = """\
Input #0, matroska,webm, from 'file:.source':
  Duration: 01:02:03.50, start: 0.000000, bitrate: 2500 kb/s
  Chapters:
    Chapter #0:0: start 0.000000, end 600.000000
  Stream #0:0(eng): Subtitle: subrip (srt)
  Stream #0:1(eng): Audio: opus, 48000 Hz, stereo, fltp (default)
  Stream #0:2(eng): Video: av1 (libdav1d) (Main), yuv420p10le(tv, bt709, progressive), \
3840x1600, SAR 1:1 DAR 12:5, 23.98 fps, 23.98 tbr, 1k tbn (default)
  Stream #0:3(jpn): Audio: aac (LC), 48000 Hz, stereo, fltp
"""


def test_landscape_mp4_with_audio() -> None:
    assert parse_probe(LANDSCAPE) == ProbeResult(
        container="mov,mp4,m4a,3gp,3g2,mj2",
        duration=3.0,
        bitrate=1_840_000,
        video=VideoStream(
            index=0,
            codec="h264",
            width=640,
            height=360,
            fps=25.0,
            pix_fmt="yuv420p",
            rotation=0,
            sar=(1, 1),
            bitrate=1_761_000,
        ),
        audio=AudioStream(index=1, codec="aac", sample_rate=48000, channels=1, bitrate=69_000),
    )


def _video(stderr: str) -> VideoStream:
    result = parse_probe(stderr)
    assert isinstance(result, ProbeResult) and result.video is not None
    return result.video


@pytest.mark.parametrize(
    ("stderr", "rotation", "display"),
    [
        (LANDSCAPE, 0, (640, 360)),
        (ROTATED, 90, (360, 640)),
        (OLD_ROTATE_TAG, 270, (1080, 1920)),
        (OLD_DISPLAYMATRIX, 270, (1080, 1920)),
        (WEBM, 0, (320, 240)),
        (INTERLACED_ANAMORPHIC, 0, (768, 576)),
    ],
)
def test_rotation_and_display_size(stderr: str, rotation: int, display: tuple[int, int]) -> None:
    video = _video(stderr)
    assert video.rotation == rotation
    assert video.display_size == display


def test_sample_aspect_ratio_in_brackets_or_as_its_own_field() -> None:
    assert _video(INTERLACED_ANAMORPHIC).sar == (16, 15)
    assert _video(WEBM).sar == (1, 1)
    assert _video(OLD_ROTATE_TAG).sar == (1, 1)


def test_interlaced_and_pixel_format() -> None:
    video = _video(INTERLACED_ANAMORPHIC)
    assert video.interlaced and video.pix_fmt == "yuv420p" and video.codec == "mpeg2video"
    assert not _video(WEBM).interlaced
    assert _video(SUBTITLES_FIRST).pix_fmt == "yuv420p10le"


def test_frame_rates() -> None:
    assert _video(OLD_ROTATE_TAG).fps == pytest.approx(29.97)
    assert _video(OLD_DISPLAYMATRIX).fps == pytest.approx(59.94)
    assert _video(NO_FPS).fps is None  # 1000k tbr is a timebase, not a rate


def test_audio_channels_and_missing_fields() -> None:
    result = parse_probe(OLD_DISPLAYMATRIX)
    assert isinstance(result, ProbeResult) and result.audio is not None
    assert (result.audio.channels, result.audio.sample_rate) == (6, 44100)
    result = parse_probe(NO_FPS)
    assert isinstance(result, ProbeResult) and result.audio is not None
    assert (result.audio.channels, result.audio.bitrate) == (2, None)
    assert result.bitrate is None and result.duration == 30.0


def test_picks_the_video_stream_after_subtitles_and_the_first_audio() -> None:
    result = parse_probe(SUBTITLES_FIRST)
    assert isinstance(result, ProbeResult)
    assert result.video is not None and result.video.index == 2
    assert result.video.codec == "av1" and result.video.display_size == (3840, 1600)
    assert result.audio is not None and (result.audio.index, result.audio.codec) == (1, "opus")
    assert result.duration == pytest.approx(3723.5)


def test_still_image_has_no_duration() -> None:
    result = parse_probe(PNG)
    assert isinstance(result, ProbeResult)
    assert (result.container, result.duration, result.bitrate) == ("png_pipe", None, None)
    assert result.video is not None and result.video.codec == "png"


def test_cover_art_is_not_a_video_stream() -> None:
    result = parse_probe(COVER_ART)
    assert isinstance(result, ProbeResult)
    assert result.video is None and result.cover_art
    assert result.audio is not None and result.audio.codec == "mp3"


def test_unknown_codec() -> None:
    assert _video(UNKNOWN_CODEC).codec == "none"


@pytest.mark.parametrize(
    ("stderr", "reason"),
    [
        (
            "[in#0 @ 0x55aad1d61d00] Error opening input: Invalid data found when processing "
            "input\nError opening input file file:.source.\nError opening input files: Invalid "
            "data found when processing input\n",
            "not a video file",
        ),
        (
            "[in#0 @ 0x564ad6f94080] moov atom not found\n[in#0 @ 0x564ad6f93d00] Error opening "
            "input: Invalid data found when processing input\nError opening input file "
            "file:.source.\nError opening input files: Invalid data found when processing input\n",
            "upload was probably cut short",
        ),
        (
            "[in#0 @ 0x55ae291a0180] Format not on whitelist 'mov,mp4'\n[in#0 @ 0x55ae2919fe40] "
            "Error opening input: Invalid argument\nError opening input file file:.source.\n",
            "unsupported file format",
        ),
        ("", "ffmpeg printed nothing"),
    ],
)
def test_unreadable_files(stderr: str, reason: str) -> None:
    result = parse_probe(stderr)
    assert isinstance(result, Unreadable)
    assert reason in result.reason


def test_probe_args_restrict_protocols_and_demuxers() -> None:
    args = probe_args("file:.source")
    assert args[-2:] == ["-i", "file:.source"]
    assert args[args.index("-protocol_whitelist") + 1] == "file"
    allowed = args[args.index("-format_whitelist") + 1].split(",")
    assert allowed == FORMAT_WHITELIST.split(",")
    assert not {"hls", "concat", "image2", "dash", "http"} & set(allowed)


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("a, b", ["a", "b"]),
        ("yuv420p(tv, bt709, progressive), 1x1", ["yuv420p(tv, bt709, progressive)", "1x1"]),
        ("640x360 [SAR 1:1, DAR 16:9], 25 fps", ["640x360 [SAR 1:1, DAR 16:9]", "25 fps"]),
        ("unbalanced), x", ["unbalanced)", "x"]),
    ],
)
def test_split_top_level(text: str, parts: list[str]) -> None:
    assert split_top_level(text) == parts
