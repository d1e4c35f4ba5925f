"""Decisions of the processing queue: back-off, leases, what an error means, progress writes.

Pure functions over plain values; times are Unix seconds passed in as ``now``, randomness is a
number in [0, 1) passed in as ``rand``, so every rule is a table test.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
STATES = (QUEUED, RUNNING, DONE, FAILED)
ACTIVE_STATES = (QUEUED, RUNNING)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 5
    base: float = 30.0  # seconds before the 2nd attempt
    factor: float = 2.0
    cap: float = 3600.0
    jitter: float = 0.5  # share of the delay that is random: 0.5 = from 50 % to 100 %


def backoff_delay(failures: int, policy: RetryPolicy, rand: float) -> float:
    """Seconds to wait after the ``failures``-th failed attempt (1-based).

    Exponential with a cap, minus a random share (AWS's "equal jitter"), so workers that failed
    together (the store was down) do not all come back in the same second.
    """
    if failures < 1:
        return 0.0
    exponent = min(failures - 1, 64)  # past the cap long before; keeps the float finite
    delay = min(policy.cap, policy.base * policy.factor**exponent)
    return delay * (1.0 - policy.jitter * (1.0 - rand))


class ErrorKind(enum.Enum):
    REJECTED = "rejected"  # not a video we take: retrying gives the same answer
    GONE = "gone"  # the uploaded object is not in the bucket any more
    TRANSIENT = "transient"  # ffmpeg failed or timed out, the store did not answer, a full disk


@dataclass(frozen=True, slots=True)
class Retry:
    at: float
    message: str


@dataclass(frozen=True, slots=True)
class GiveUp:
    reason: str  # for the uploader: the video's failure_reason


def on_error(
    kind: ErrorKind, message: str, attempts: int, policy: RetryPolicy, now: float, rand: float
) -> Retry | GiveUp:
    """What to do after attempt number ``attempts`` failed with ``message``."""
    if kind is ErrorKind.REJECTED:
        return GiveUp(message)
    if kind is ErrorKind.GONE:
        return GiveUp("the uploaded file is no longer in the bucket: upload it again")
    if attempts >= policy.max_attempts:
        return GiveUp(f"processing failed {attempts} times; the last error: {message}")
    return Retry(now + backoff_delay(attempts, policy, rand), message)


def lease_expired(lease_expires_at: float | None, now: float) -> bool:
    """A running job whose worker stopped renewing (killed, frozen, cut off) is up for grabs."""
    return lease_expires_at is None or lease_expires_at <= now


def claimable(
    state: str, next_attempt_at: float, lease_expires_at: float | None, now: float
) -> bool:
    """Queued and due, or running under a lease nobody renewed (the same test as the UPDATE)."""
    if state == QUEUED:
        return next_attempt_at <= now
    return state == RUNNING and lease_expired(lease_expires_at, now)


def renew_every(lease_seconds: float) -> float:
    """Renew three times per lease, so two missed renewals still leave the lease held."""
    return lease_seconds / 3.0


@dataclass(frozen=True, slots=True)
class Phases:
    """Shares of the video's progress bar: download, then ffmpeg, then the upload."""

    download: float = 0.05
    transcode: float = 0.85

    def of_download(self, fraction: float) -> float:
        return _clamp(fraction) * self.download

    def of_transcode(self, fraction: float) -> float:
        return self.download + _clamp(fraction) * self.transcode

    def of_upload(self, fraction: float) -> float:
        start = self.download + self.transcode
        # 1.0 is for "ready": the upload ends just short of it.
        return start + _clamp(fraction) * (0.999 - start)


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def progress_due(
    last_value: float | None,
    last_at: float | None,
    value: float,
    now: float,
    *,
    step: float = 0.02,
    interval: float = 1.0,
) -> bool:
    """Whether to write ``value`` to the database: it grew, by ``step`` or after ``interval``.

    Values that do not grow are never written, so readers see progress only go up.
    """
    if last_value is None or last_at is None:
        return True
    if value <= last_value:
        return False
    return value - last_value >= step - 1e-9 or now - last_at >= interval  # 0.12 - 0.10 < 0.02
