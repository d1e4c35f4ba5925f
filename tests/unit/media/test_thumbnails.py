"""Seek-bar thumbnails: the plan, the sprite grid and the WebVTT track."""

from __future__ import annotations

import pytest

from openfront.media.plan.thumbnails import plan_thumbnails, sprite_args, thumbnails_vtt


@pytest.mark.parametrize(
    ("duration", "interval", "count"),
    [(9.0, 2, 5), (0.6, 2, 1), (200.0, 2, 100), (201.0, 3, 67), (7200.0, 72, 100)],
)
def test_interval_grows_to_keep_at_most_a_hundred(
    duration: float, interval: int, count: int
) -> None:
    plan = plan_thumbnails(duration, (1280, 720))
    assert (plan.interval, plan.count) == (interval, count)


def test_tile_size_follows_the_display_aspect() -> None:
    assert (plan_thumbnails(10, (1920, 1080)).width, plan_thumbnails(10, (1920, 1080)).height) == (
        160,
        90,
    )
    portrait = plan_thumbnails(10, (1080, 1920))
    assert (portrait.width, portrait.height) == (90, 160)
    assert portrait.frames_filter() == "fps=1/2,scale=90:160,setsar=1"


@pytest.mark.parametrize(
    ("count", "grid"), [(1, (1, 1)), (5, (5, 1)), (10, (10, 1)), (11, (10, 2)), (100, (10, 10))]
)
def test_grid(count: int, grid: tuple[int, int]) -> None:
    assert plan_thumbnails(10, (640, 360)).grid(count) == grid


def test_vtt_points_into_the_sprite() -> None:
    plan = plan_thumbnails(23.5, (640, 360))
    vtt = thumbnails_vtt(plan, 12, 23.5)
    assert vtt.startswith("WEBVTT\n\n")
    cues = vtt.strip().split("\n\n")[1:]
    assert len(cues) == 12
    assert cues[0] == "00:00:00.000 --> 00:00:02.000\nsprite.jpg#xywh=0,0,160,90"
    assert cues[9] == "00:00:18.000 --> 00:00:20.000\nsprite.jpg#xywh=1440,0,160,90"
    assert cues[10] == "00:00:20.000 --> 00:00:22.000\nsprite.jpg#xywh=0,90,160,90"
    assert cues[11] == "00:00:22.000 --> 00:00:23.500\nsprite.jpg#xywh=160,90,160,90"


def test_vtt_stops_at_the_end_of_the_video() -> None:
    plan = plan_thumbnails(4.0, (640, 360))
    # ffmpeg's fps filter may write one frame more than the duration needs.
    assert thumbnails_vtt(plan, 3, 4.0).count("-->") == 2


def test_vtt_hours() -> None:
    plan = plan_thumbnails(7200.0, (640, 360))
    assert "01:58:48.000 --> 02:00:00.000\nsprite.jpg#xywh=1440,810,160,90" in thumbnails_vtt(
        plan, 100, 7200.0
    )


def test_sprite_args_tile_the_frames_written() -> None:
    args = sprite_args(plan_thumbnails(30.0, (640, 360)), 15)
    assert args[args.index("-vf") + 1] == "tile=10x2"
    assert args[args.index("-i") + 1] == "thumb_%04d.jpg" and args[-1] == "sprite.jpg"
