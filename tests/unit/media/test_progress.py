"""`-progress pipe:1` blocks into a fraction; the throttle in front of the callback."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openfront.media.plan.progress import ProgressParser, Throttle, stage


def block(out_time_us: str, progress: str = "continue") -> list[str]:
    return [
        "frame=75",
        "fps=24.97",
        "stream_0_0_q=28.0",
        "bitrate=N/A",
        "total_size=N/A",
        f"out_time_us={out_time_us}",
        f"out_time_ms={out_time_us}",
        "out_time=00:00:01.000000",
        "dup_frames=0",
        "drop_frames=0",
        "speed=2.5x",
        f"progress={progress}",
    ]


def feed(parser: ProgressParser, lines: list[str]) -> list[float]:
    return [f for f in map(parser.feed, lines) if f is not None]


def test_one_fraction_per_block() -> None:
    parser = ProgressParser(duration=10.0)
    assert feed(parser, block("2500000")) == [0.25]
    assert feed(parser, block("5000000")) == [0.5]
    assert feed(parser, block("10000000", "end")) == [1.0]
    assert parser.done


@pytest.mark.parametrize(
    ("times", "fractions"),
    [
        (["N/A", "1000000"], [0.0, 0.1]),  # ffmpeg prints N/A before the first packet
        (["-23220", "1000000"], [0.0, 0.1]),  # audio priming starts below zero
        (["5000000", "4000000"], [0.5, 0.5]),  # never backwards
        (["30000000"], [1.0]),  # the sprite's tile is stamped past the end
    ],
)
def test_fraction_is_clamped_and_monotonic(times: list[str], fractions: list[float]) -> None:
    parser = ProgressParser(duration=10.0)
    assert [f for t in times for f in feed(parser, block(t))] == fractions


def test_noise_is_ignored() -> None:
    parser = ProgressParser(duration=10.0)
    assert feed(parser, ["", "garbage", "out_time_us=", "progress=continue"]) == [0.0]


@settings(deadline=None, max_examples=200)
@given(st.lists(st.one_of(st.integers(-(10**7), 10**9).map(str), st.just("N/A")), max_size=30))
def test_any_sequence_stays_in_range_and_grows(times: list[str]) -> None:
    parser = ProgressParser(duration=60.0)
    fractions = [f for t in times for f in feed(parser, block(t))]
    assert all(0.0 <= f <= 1.0 for f in fractions)
    assert fractions == sorted(fractions)


def test_throttle_passes_at_most_one_value_per_interval_and_always_the_end() -> None:
    throttle = Throttle(interval=0.5)
    assert throttle.should_emit(0.0, now=100.0)
    assert not throttle.should_emit(0.1, now=100.2)
    assert throttle.should_emit(0.2, now=100.5)
    assert not throttle.should_emit(0.2, now=101.0)  # no repeats
    assert not throttle.should_emit(0.1, now=102.0)  # never backwards
    assert throttle.should_emit(1.0, now=102.1)  # the final value is never held back
    assert not throttle.should_emit(1.0, now=103.0)


@pytest.mark.parametrize(
    ("fraction", "expected"), [(0.0, 0.1), (0.5, 0.5), (1.0, 0.9), (2.0, 0.9), (-1.0, 0.1)]
)
def test_stage(fraction: float, expected: float) -> None:
    assert stage(fraction, 0.1, 0.9) == pytest.approx(expected)
