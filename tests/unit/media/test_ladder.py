"""The ladder: which renditions a source gets, their sizes and caps; never upscaled, always even."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openfront.media.plan.ladder import (
    LADDER,
    Rendition,
    fit_long_side,
    fit_short_side,
    fit_width,
    gop_frames,
    output_fps,
    plan_ladder,
)
from openfront.media.plan.probe import VideoStream

FUZZ = settings(deadline=None, max_examples=300)


def source(
    width: int,
    height: int,
    *,
    fps: float | None = 30.0,
    rotation: int = 0,
    sar: tuple[int, int] = (1, 1),
) -> VideoStream:
    return VideoStream(0, "h264", width, height, fps, "yuv420p", rotation, sar)


def sizes(renditions: tuple[Rendition, ...]) -> list[tuple[str, int, int]]:
    return [(r.name, r.width, r.height) for r in renditions]


@pytest.mark.parametrize(
    ("video", "expected"),
    [
        (source(640, 360), [("240p", 426, 240), ("360p", 640, 360)]),
        (
            source(1920, 1080),
            [
                ("240p", 426, 240),
                ("360p", 640, 360),
                ("480p", 854, 480),
                ("720p", 1280, 720),
                ("1080p", 1920, 1080),
            ],
        ),
        # Above 1080p the ladder stops at 1080p.
        (
            source(3840, 2160),
            [(n, w, h) for n, w, h in sizes(plan_ladder(source(1920, 1080), has_audio=True))],
        ),
        # A 300p source: 240p plus its own size.
        (source(400, 300), [("240p", 320, 240), ("300p", 400, 300)]),
        # 368p is within 15 % of 360p: no near-duplicate rendition.
        (source(654, 368), [("240p", 426, 240), ("360p", 640, 360)]),
        # Between 720p and 1080p: its own size on top.
        (
            source(1600, 900),
            [
                ("240p", 426, 240),
                ("360p", 640, 360),
                ("480p", 854, 480),
                ("720p", 1280, 720),
                ("900p", 1600, 900),
            ],
        ),
        # Smaller than every rung: just itself.
        (source(256, 144), [("144p", 256, 144)]),
        (source(177, 145), [("144p", 176, 144)]),
        # Portrait: named for the short side.
        (
            source(1080, 1920),
            [
                ("240p", 240, 426),
                ("360p", 360, 640),
                ("480p", 480, 854),
                ("720p", 720, 1280),
                ("1080p", 1080, 1920),
            ],
        ),
        # Rotated landscape pixels are shown portrait.
        (source(640, 360, rotation=90), [("240p", 240, 426), ("360p", 360, 640)]),
        (source(640, 360, rotation=180), [("240p", 426, 240), ("360p", 640, 360)]),
        # Anamorphic PAL DVD: 720x576 shown as 768x576 (4:3).
        (
            source(720, 576, sar=(16, 15)),
            [("240p", 320, 240), ("360p", 480, 360), ("480p", 640, 480), ("576p", 768, 576)],
        ),
        # Odd sizes round to even without passing the source.
        (source(641, 361), [("240p", 426, 240), ("360p", 640, 360)]),
    ],
)
def test_ladder_sizes(video: VideoStream, expected: list[tuple[str, int, int]]) -> None:
    assert sizes(plan_ladder(video, has_audio=True)) == expected


def test_bitrate_caps_from_the_table() -> None:
    ladder = plan_ladder(source(1920, 1080), has_audio=True)
    assert [r.video_bitrate for r in ladder] == [r.video_kbps * 1000 for r in LADDER]
    assert [r.audio_bitrate for r in ladder] == [96_000, 96_000, 128_000, 128_000, 128_000]


def test_high_frame_rates_get_higher_caps() -> None:
    normal = plan_ladder(source(1280, 720, fps=30.0), has_audio=True)
    fast = plan_ladder(source(1280, 720, fps=60.0), has_audio=True)
    assert [f.video_bitrate for f in fast] == [round(n.video_bitrate * 1.5) for n in normal]


def test_own_size_cap_is_interpolated_between_rungs() -> None:
    (_, own) = plan_ladder(source(400, 300), has_audio=True)
    # 300 is 50 % of the way from 240 (400 kb/s) to 360 (800 kb/s).
    assert own.video_bitrate == 600_000 and own.audio_bitrate == 96_000
    (tiny,) = plan_ladder(source(256, 144), has_audio=True)
    assert tiny.video_bitrate == 144_000  # 400 kb/s x (144/240)^2


def test_no_audio_means_no_audio_bitrate() -> None:
    assert all(r.audio_bitrate is None for r in plan_ladder(source(640, 360), has_audio=False))


@pytest.mark.parametrize(
    ("size", "limit", "expected"),
    [
        ((1920, 1080), 1280, (1280, 720)),
        ((640, 360), 1280, (640, 360)),
        ((1080, 1920), 1280, (1080, 1920)),
        ((3840, 1600), 1280, (1280, 534)),
    ],
)
def test_fit_width(size: tuple[int, int], limit: int, expected: tuple[int, int]) -> None:
    assert fit_width(*size, limit) == expected


@pytest.mark.parametrize(
    ("size", "expected"),
    [((1920, 1080), (160, 90)), ((1080, 1920), (90, 160)), ((100, 50), (100, 50))],
)
def test_fit_long_side(size: tuple[int, int], expected: tuple[int, int]) -> None:
    assert fit_long_side(*size, 160) == expected


@pytest.mark.parametrize(
    ("fps", "expected"),
    [
        (None, None),
        (0.0, None),
        (25.0, 25.0),
        (60.0, 60.0),
        (120.0, 60.0),
        (100.0, 50.0),
        (240.0, 60.0),
        (119.88, 59.94),
    ],
)
def test_output_fps(fps: float | None, expected: float | None) -> None:
    assert output_fps(fps) == (pytest.approx(expected) if expected else expected)


@pytest.mark.parametrize(
    ("fps", "frames"), [(25.0, 100), (30.0, 120), (29.97, 120), (None, 120), (23.976, 96)]
)
def test_gop_frames_for_four_second_segments(fps: float | None, frames: int) -> None:
    assert gop_frames(fps, 4) == frames


dimensions = st.integers(min_value=16, max_value=8192)


@FUZZ
@given(
    width=dimensions,
    height=dimensions,
    rotation=st.sampled_from([0, 90, 180, 270]),
    sar=st.sampled_from([(1, 1), (16, 15), (4, 3), (8, 9), (64, 45)]),
    fps=st.one_of(st.none(), st.floats(min_value=1, max_value=240)),
)
def test_never_upscaled_always_even(
    width: int, height: int, rotation: int, sar: tuple[int, int], fps: float | None
) -> None:
    video = source(width, height, fps=fps, rotation=rotation, sar=sar)
    shown_w, shown_h = video.display_size
    ladder = plan_ladder(video, has_audio=True)
    assert ladder
    for r in ladder:
        assert r.width % 2 == 0 and r.height % 2 == 0
        assert 2 <= r.width <= max(2, shown_w) and 2 <= r.height <= max(2, shown_h)
        assert r.name == f"{min(r.width, r.height)}p"
        # Portrait stays portrait, landscape stays landscape.
        assert (r.width >= r.height) == (shown_w >= shown_h) or r.width == r.height
    assert len({r.name for r in ladder}) == len(ladder)
    shorts = [min(r.width, r.height) for r in ladder]
    assert shorts == sorted(shorts) and shorts[-1] <= 1080
    rates = [r.video_bitrate for r in ladder]
    assert rates == sorted(rates) and len(set(rates)) == len(rates)


@FUZZ
@given(width=dimensions, height=dimensions, short=st.integers(min_value=2, max_value=8192))
def test_fit_short_side_keeps_the_aspect_ratio(width: int, height: int, short: int) -> None:
    short = min(short, width, height)
    w, h = fit_short_side(width, height, short)
    assert w % 2 == 0 and h % 2 == 0 and w <= max(2, width) and h <= max(2, height)
    if min(w, h) >= 100:  # rounding to even moves a small picture's ratio more than 2 %
        assert w / h == pytest.approx(width / height, rel=0.02)
