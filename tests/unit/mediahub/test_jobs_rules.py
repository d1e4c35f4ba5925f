"""The processing queue's rules: back-off, what an error means, leases, progress writes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openfront.mediahub.jobs.rules import (
    ErrorKind,
    GiveUp,
    Phases,
    Retry,
    RetryPolicy,
    backoff_delay,
    claimable,
    lease_expired,
    on_error,
    progress_due,
    renew_every,
)

POLICY = RetryPolicy(max_attempts=5, base=30.0, factor=2.0, cap=3600.0, jitter=0.5)


@pytest.mark.parametrize(
    ("failures", "rand", "delay"),
    [
        (0, 0.9, 0.0),  # nothing failed yet
        (1, 0.999999, 29.999985),  # the top of the first window: nearly base
        (1, 0.0, 15.0),  # jitter takes off at most half
        (2, 0.0, 30.0),
        (3, 0.5, 90.0),  # 120 s window, 75 % of it
        (7, 0.0, 960.0),  # 30 * 2^6 = 1920, halved
        (8, 0.0, 1800.0),  # 3840 capped to 3600, halved
        (50, 0.0, 1800.0),  # far past the cap: still the cap
        (10_000, 0.0, 1800.0),  # no float overflow
    ],
)
def test_backoff_table(failures: int, rand: float, delay: float) -> None:
    assert backoff_delay(failures, POLICY, rand) == pytest.approx(delay)


@given(st.integers(1, 200), st.floats(0.0, 1.0, exclude_max=True))
def test_backoff_stays_within_half_and_whole_of_the_capped_exponential(
    failures: int, rand: float
) -> None:
    full = min(POLICY.cap, POLICY.base * 2.0 ** min(failures - 1, 64))
    assert full / 2 <= backoff_delay(failures, POLICY, rand) <= full


def test_without_jitter_the_delay_is_exact() -> None:
    policy = RetryPolicy(base=1.0, jitter=0.0)
    assert [backoff_delay(n, policy, 0.3) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]


def test_a_rejected_file_is_never_retried() -> None:
    decision = on_error(ErrorKind.REJECTED, "a still image (PNG), not a video", 1, POLICY, 100.0, 0)
    assert decision == GiveUp("a still image (PNG), not a video")


def test_a_missing_source_is_not_retried() -> None:
    decision = on_error(ErrorKind.GONE, "x", 1, POLICY, 100.0, 0.0)
    assert isinstance(decision, GiveUp) and "upload it again" in decision.reason


@pytest.mark.parametrize(("attempts", "at"), [(1, 115.0), (2, 130.0), (4, 220.0)])
def test_transient_errors_retry_with_back_off(attempts: int, at: float) -> None:
    assert on_error(ErrorKind.TRANSIENT, "ffmpeg died", attempts, POLICY, 100.0, 0.0) == Retry(
        at, "ffmpeg died"
    )


def test_the_last_attempt_gives_up_with_the_last_error() -> None:
    decision = on_error(ErrorKind.TRANSIENT, "the store did not answer", 5, POLICY, 100.0, 0.0)
    assert decision == GiveUp("processing failed 5 times; the last error: the store did not answer")


@pytest.mark.parametrize(
    ("state", "next_at", "lease", "now", "expected"),
    [
        ("queued", 100.0, None, 99.9, False),  # backing off
        ("queued", 100.0, None, 100.0, True),
        ("running", 0.0, 200.0, 199.9, False),  # lease held
        ("running", 0.0, 200.0, 200.0, True),  # lease ended: the worker is gone
        ("running", 0.0, None, 1.0, True),
        ("done", 0.0, None, 1e9, False),
        ("failed", 0.0, None, 1e9, False),
    ],
)
def test_claimable(
    state: str, next_at: float, lease: float | None, now: float, expected: bool
) -> None:
    assert claimable(state, next_at, lease, now) is expected


def test_lease_and_renewal() -> None:
    assert lease_expired(None, 0.0)
    assert not lease_expired(10.0, 9.0)
    assert renew_every(60.0) == 20.0


@pytest.mark.parametrize(
    ("last", "last_at", "value", "now", "due"),
    [
        (None, None, 0.0, 0.0, True),  # the first report
        (0.10, 5.0, 0.11, 5.1, False),  # small and soon
        (0.10, 5.0, 0.12, 5.1, True),  # a 2 % step
        (0.10, 5.0, 0.101, 6.0, True),  # a second passed
        (0.10, 5.0, 0.10, 60.0, False),  # no growth: nothing to write
        (0.50, 5.0, 0.40, 60.0, False),  # never backwards
    ],
)
def test_progress_writes(
    last: float | None, last_at: float | None, value: float, now: float, due: bool
) -> None:
    assert progress_due(last, last_at, value, now) is due


def test_phases_cover_the_bar_in_order_without_reaching_ready() -> None:
    p = Phases()
    marks = [p.of_download(0), p.of_download(1), p.of_transcode(0.5), p.of_transcode(1)]
    marks += [p.of_upload(0.5), p.of_upload(1.0)]
    assert marks == sorted(marks)
    assert marks[0] == 0.0 and marks[-1] < 1.0
    assert p.of_transcode(2.0) == p.of_transcode(1.0)  # clamped
