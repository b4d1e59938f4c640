"""Clocks for the cache's TTLs: the real one, and one you move by hand so a test can skip six minutes at once."""

from __future__ import annotations

import time


class ManualClock:
    """A clock that only moves when told: `clock.advance(360)` is a six-minute pause that takes no time."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"A clock cannot go back: got {seconds} seconds; pass a positive number.")
        self.now += seconds


def system_clock() -> float:
    """Seconds on the machine's monotonic clock."""
    return time.monotonic()
