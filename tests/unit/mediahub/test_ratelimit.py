"""The failed sign-in limiter: a sliding window per key, the longest wait across keys."""

from __future__ import annotations

import pytest

from openfront.mediahub.ratelimit import (
    Allowed,
    Blocked,
    Limit,
    check,
    decide,
    oldest_needed,
    retry_after_header,
)

FIVE_PER_15MIN = Limit(max_failures=5, window=900)


@pytest.mark.parametrize(
    ("failures", "now", "expected"),
    [
        ([], 1000.0, Allowed()),
        ([100, 200, 300, 400], 1000.0, Allowed()),  # four failures: one more is allowed
        ([150, 200, 300, 400, 500], 1000.0, Blocked(retry_after=50)),  # 150 leaves at 1050
        ([200, 300, 400, 500, 600], 1000.0, Blocked(retry_after=100)),  # 200 leaves at 1100
        ([200, 300, 400, 500, 600], 1100.0, Allowed()),  # a failure exactly a window old is gone
        ([200, 300, 400, 500, 600, 700, 800], 1000.0, Blocked(retry_after=300)),  # 3 must leave
        ([600, 500, 400, 300, 200], 1000.0, Blocked(retry_after=100)),  # any order
        ([1, 2, 3, 400, 500, 600, 700], 1000.0, Allowed()),  # old ones do not count
        ([990, 990, 990, 990, 990], 1000.0, Blocked(retry_after=890)),
        ([990, 990, 990, 990, 1500], 1000.0, Blocked(retry_after=890)),  # a clock ahead: as now
    ],
)
def test_check(failures: list[float], now: float, expected: object) -> None:
    assert check(failures, now, FIVE_PER_15MIN) == expected


def test_one_failure_allowed() -> None:
    assert check([], 10.0, Limit(1, 60)) == Allowed()
    assert check([5.0], 10.0, Limit(1, 60)) == Blocked(retry_after=55.0)


def test_decide_takes_the_longest_wait() -> None:
    account, ip = Limit(2, 100), Limit(3, 1000)
    now = 500.0
    assert decide([([450], account), ([100, 200], ip)], now) == Allowed()
    assert decide([([450, 460], account), ([100, 200], ip)], now) == Blocked(50)
    assert decide([([450, 460], account), ([100, 200, 300], ip)], now) == Blocked(600)
    assert decide([], now) == Allowed()


@pytest.mark.parametrize(
    ("seconds", "header"), [(0.0, "1"), (0.2, "1"), (1.0, "1"), (1.01, "2"), (899.5, "900")]
)
def test_retry_after_rounds_up_to_whole_seconds(seconds: float, header: str) -> None:
    assert retry_after_header(seconds) == header


def test_oldest_needed_is_the_longest_window_ago() -> None:
    assert oldest_needed(1000.0, [Limit(5, 60), Limit(50, 900)]) == 100.0
    assert oldest_needed(1000.0, []) == 1000.0
