"""Break-even points: where one choice starts to beat another, found by re-running the workload at each setting."""

from __future__ import annotations

from dataclasses import dataclass, replace

from .fast import simulate_runs
from .workload import Distribution, Workload

PAUSES_MINUTES = (1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60, 90)
WHOLE_UP_TO_CALLS = 100_000  # a bigger workload is swept on a sample: each pause length re-runs it


@dataclass(frozen=True)
class BreakEven:
    """With `approach`, 1h costs less than 5m from `minutes` of pause between turns (None: not up to 90)."""

    approach: str
    minutes: int | None
    whole: bool  # swept on the whole workload (else on a sample of it)


def sample(workload: Workload) -> Workload:
    """A small copy of the workload (at most 20 users, 2 sessions each) for sweeps that re-run it many times."""
    return replace(workload, users=min(workload.users, 20), sessions_per_user=min(workload.sessions_per_user, 2))


def one_hour_break_even(workload: Workload, approach: str) -> BreakEven:
    """The shortest fixed pause between turns, in minutes, at which a 1h TTL costs less than 5m."""
    whole = workload.calls <= WHOLE_UP_TO_CALLS
    swept = workload if whole else sample(workload)
    for minutes in PAUSES_MINUTES:
        paused = replace(swept, pause_between_turns=Distribution("fixed", minutes * 60.0))
        five, hour = (result.cost.total for result in simulate_runs(paused, [(approach, "5m"), (approach, "1h")]))
        if hour < five:
            return BreakEven(approach, minutes, whole)
    return BreakEven(approach, None, whole)
