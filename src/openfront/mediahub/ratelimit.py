"""Failed sign-in limits: a sliding window over failure times, per key (account, address).

Pure: no I/O, ``now`` is an argument. The shell loads each key's recent failure times (shared
through the database by every process and region), asks :func:`decide`, and records a new
failure only when the password was wrong.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limit:
    max_failures: int
    window: float  # seconds


@dataclass(frozen=True, slots=True)
class Allowed:
    pass


@dataclass(frozen=True, slots=True)
class Blocked:
    retry_after: float  # seconds until one more attempt is allowed


Decision = Allowed | Blocked


def check(failures: Iterable[float], now: float, limit: Limit) -> Decision:
    """Blocked while ``limit.max_failures`` or more failures lie within the last window.

    Times after ``now`` (another host's clock running ahead) count as ``now``.
    """
    recent = sorted(min(t, now) for t in failures if t > now - limit.window)
    excess = len(recent) - limit.max_failures
    if excess < 0:
        return Allowed()
    # Allowed again once the oldest `excess + 1` failures have left the window.
    return Blocked(retry_after=recent[excess] + limit.window - now)


def decide(keyed: Iterable[tuple[Sequence[float], Limit]], now: float) -> Decision:
    """One decision over several keys: blocked if any is, for the longest wait."""
    waits = [d.retry_after for f, lim in keyed if isinstance(d := check(f, now, lim), Blocked)]
    return Blocked(retry_after=max(waits)) if waits else Allowed()


def retry_after_header(seconds: float) -> str:
    """Whole seconds for ``Retry-After``, rounded up and at least 1 (0 would invite a retry)."""
    return str(max(1, math.ceil(seconds)))


def oldest_needed(now: float, limits: Iterable[Limit]) -> float:
    """Failures older than this matter to no limit and may be deleted."""
    return now - max((lim.window for lim in limits), default=0.0)
