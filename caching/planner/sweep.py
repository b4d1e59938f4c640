"""Break-even points: where one choice starts to beat another, found by re-running a sample of the workload."""

from __future__ import annotations

from dataclasses import replace

from .fast import simulate_fast
from .workload import Distribution, Workload

PAUSES_MINUTES = (1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60, 90)


def sample(workload: Workload) -> Workload:
    """A small copy of the workload (at most 20 users, 2 sessions each) for sweeps that re-run it many times."""
    return replace(workload, users=min(workload.users, 20), sessions_per_user=min(workload.sessions_per_user, 2))


def one_hour_break_even(workload: Workload, approach: str) -> int | None:
    """The shortest fixed pause between turns, in minutes, at which a 1h TTL costs less than 5m (None up to 90)."""
    small = sample(workload)
    for minutes in PAUSES_MINUTES:
        paused = replace(small, pause_between_turns=Distribution("fixed", minutes * 60.0))
        five, hour = (simulate_fast(paused, approach, ttl).cost.total for ttl in ("5m", "1h"))
        if hour < five:
            return minutes
    return None
