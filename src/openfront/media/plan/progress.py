"""ffmpeg's `-progress pipe:1` lines into a fraction of the source's duration."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class ProgressParser:
    """Feed it stdout lines; a block of `key=value` lines ends with `progress=continue|end`.

    The fraction only grows and stays within [0, 1]: ffmpeg's `out_time` is the furthest output
    stream, and the sprite's single tile is stamped past the end of the video.
    """

    duration: float
    fraction: float = 0.0
    done: bool = False
    _out_time_us: int | None = field(default=None, repr=False)

    def feed(self, line: str) -> float | None:
        """The new fraction at the end of each block, else None."""
        key, sep, value = line.strip().partition("=")
        if not sep:
            return None
        if key == "out_time_us" and value.lstrip("-").isdigit():
            self._out_time_us = int(value)
        elif key == "progress":
            self.done = value == "end"
            if self._out_time_us is not None and self.duration > 0:
                measured = self._out_time_us / (self.duration * 1_000_000)
                self.fraction = max(self.fraction, min(1.0, max(0.0, measured)))
            return self.fraction
        return None


@dataclass(slots=True)
class Throttle:
    """Passes a progress value on at most every `interval` seconds (and always the final 1.0)."""

    interval: float = 0.5
    _last_time: float | None = None
    _last_value: float = -1.0

    def should_emit(self, value: float, now: float) -> bool:
        if value <= self._last_value:
            return False
        if value < 1.0 and self._last_time is not None and now - self._last_time < self.interval:
            return False
        self._last_time = now
        self._last_value = value
        return True


def stage(fraction: float, start: float, end: float) -> float:
    """Map a stage's own 0..1 onto its share [start, end] of the whole job."""
    return start + (end - start) * min(1.0, max(0.0, fraction))
