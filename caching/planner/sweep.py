"""Sweeps: the workload re-run at each pause length or number of users; and where 1h starts to beat 5m."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal

from .fast import simulate_runs
from .workload import Distribution, Workload

PAUSES_MINUTES = (1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60, 90)
WHOLE_UP_TO_CALLS = 100_000  # a bigger workload is swept on a sample: each pause length re-runs it
USERS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000)


@dataclass(frozen=True)
class BreakEven:
    """With `approach`, 1h costs less than 5m from `minutes` of pause between turns (None: not up to 90), until
    `until` minutes, where 5m is cheaper again (None: 1h stays cheaper up to 90: a longer pause outlives a 1h entry
    too, and then 1h's dearer writes cost more)."""

    approach: str
    minutes: int | None
    whole: bool  # swept on the whole workload (else on a sample of it)
    until: int | None = None


def sample(workload: Workload) -> Workload:
    """A small copy of the workload (at most 20 users, 2 sessions each) for sweeps that re-run it many times."""
    return replace(workload, users=min(workload.users, 20), sessions_per_user=min(workload.sessions_per_user, 2))


def _costs(workload: Workload, approach: str) -> tuple[Decimal, Decimal]:
    """The workload's total cost with `approach` at 5m and at 1h, in one pass over its traffic."""
    five, hour = simulate_runs(workload, [(approach, "5m"), (approach, "1h")])
    return five.cost.total, hour.cost.total


@dataclass(frozen=True)
class SweepRow:
    """One setting of a sweep: its value (minutes of pause, or users) and what the workload costs at 5m and 1h."""

    value: int
    five: Decimal
    hour: Decimal


def _swept_whole(workload: Workload) -> bool:
    """Whether a pause sweep re-runs the whole workload (else a sample of it)."""
    return workload.calls <= WHOLE_UP_TO_CALLS


def _pause_rows(workload: Workload, approach: str) -> Iterator[SweepRow]:
    """The workload (or its sample) at each fixed pause between turns in PAUSES_MINUTES, one row at a time."""
    swept = workload if _swept_whole(workload) else sample(workload)
    for minutes in PAUSES_MINUTES:
        five, hour = _costs(replace(swept, pause_between_turns=Distribution("fixed", minutes * 60.0)), approach)
        yield SweepRow(minutes, five, hour)


def _crossings(rows: Iterable[SweepRow]) -> tuple[int | None, int | None]:
    """The first pause at which 1h costs less than 5m, and the first one after it at which 5m costs less again."""
    rows = iter(rows)
    start = next((row.value for row in rows if row.hour < row.five), None)
    until = next((row.value for row in rows if row.five < row.hour), None) if start is not None else None
    return start, until


def one_hour_break_even(workload: Workload, approach: str) -> BreakEven:
    """The fixed pauses between turns, in minutes, at which a 1h TTL costs less than 5m: from where, and until where
    (the sweep stops once it knows both)."""
    start, until = _crossings(_pause_rows(workload, approach))
    return BreakEven(approach, start, _swept_whole(workload), until)


@dataclass(frozen=True)
class Sweep:
    """A workload re-run with one field set to each value in turn: `over` is "pauses" (a fixed pause between turns,
    in minutes; costs are of the whole workload) or "users" (costs are per user)."""

    workload: Workload
    approach: str
    over: str
    rows: list[SweepRow]
    whole: bool  # on the whole workload at every value (else each pause on a sample)

    def break_even(self) -> BreakEven:
        """What one_hour_break_even finds, read from a pause sweep's rows."""
        assert self.over == "pauses", "the break-even is over pause lengths"
        start, until = _crossings(self.rows)
        return BreakEven(self.approach, start, self.whole, until)


def sweep(workload: Workload, approach: str, over: str) -> Sweep:
    """Re-run the workload at each pause length (PAUSES_MINUTES) or number of users (USERS, while the calls stay
    within WHOLE_UP_TO_CALLS), with `approach` at both TTLs."""
    if over == "pauses":
        return Sweep(workload, approach, over, list(_pause_rows(workload, approach)), _swept_whole(workload))
    rows = []
    per_user = workload.calls // workload.users
    for users in (n for n in USERS if n * per_user <= WHOLE_UP_TO_CALLS):
        five, hour = _costs(replace(workload, users=users), approach)
        rows.append(SweepRow(users, five / users, hour / users))
    return Sweep(workload, approach, over, rows, True)
