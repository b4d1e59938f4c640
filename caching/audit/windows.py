"""The replays of one partition's calls in time windows that can run side by side, and still add up to the one
replay of every call in order, exactly.

A window counts a run of the partition's calls. Before its first call it replays, counting nothing, the calls of
the WARM_UP_SECONDS before (twice the longest TTL): an entry the rules keep alive is used within its TTL, so the
warm-up rebuilds the live entries with their expiry. After its last call it replays on, counting nothing, until
the waste of every write it counted is known (no live entry of the write is longer than what was read of it).
Each window's cache at its first call is compared with its neighbour's at the same moment; where a warm-up did not
rebuild it (calls logged out of time order, an entry kept alive by reads for longer than the warm-up, a neighbour
whose writes were not all settled within SETTLE_SECONDS), the neighbour replays on through the window instead, so
the sum is always the sequential answer. `Windowed.joined` says how many calls that took.

The audit does not run its windows on the cluster yet: `caching/audit/parallel.py` still gives each account and
model to one worker.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..rules.ttl import TTL_SECONDS
from .logs import LoggedCall
from .replay import Prepared, Replays, Spend

# Twice the longest TTL: an entry alive at a window's start was used within one TTL before it, and an entry a read
# refreshed then was itself alive (written or used) within one TTL before that read.
WARM_UP_SECONDS = 2 * max(TTL_SECONDS.values())
SETTLE_SECONDS = 4 * WARM_UP_SECONDS  # how far past its end a window replays to learn the waste of its writes
SETTLED_EVERY = 64  # calls between two checks of whether a window's writes are all settled

Call = tuple[LoggedCall, Prepared]


@dataclass
class Window:
    """One window's replay: its spend per setting, its cache when it began (after the warm-up) and where the next
    window begins, and whether the waste of its writes is known."""

    start: int  # the first call it counts, by position in the partition
    end: int  # one past the last
    spends: dict[str, Spend]
    began: dict[str, str] | None  # the digest of each setting's cache at its first call (None: the first window)
    ended: dict[str, str] | None  # ... at the next window's first call (None: the last window)
    settled: bool
    at_end: Replays | None  # the replays before it replayed on past its end, to count the next window's calls too


@dataclass
class Windowed:
    """The windows' spends added up, and how many calls were replayed again where a warm-up fell short."""

    spends: dict[str, Spend]
    joined: int = 0


def warm_up(calls: Sequence[Call], start: int) -> int:
    """Where the warm-up of a window starting at `start` begins: the first of the calls just before it that are
    within WARM_UP_SECONDS of its first call."""
    since, first = calls[start][0].at - WARM_UP_SECONDS, start
    while first > 0 and calls[first - 1][0].at >= since:
        first -= 1
    return first


def replay_window(calls: Sequence[Call], start: int, end: int, settings: dict[str, tuple[str | None, str]]) -> Window:
    """Replay calls[start:end] counted, after their warm-up and before what settles their writes."""
    replays = Replays(settings)
    for call, prepared in calls[warm_up(calls, start) : start]:
        replays.add(call, prepared, counted=False)
    began = replays.state(calls[start][0].at) if start else None
    return _counted(replays, calls, start, end, began)


def extend(window: Window, calls: Sequence[Call], end: int) -> Window:
    """The window's replay carried on to count the calls up to `end` too (from its state at its own end)."""
    assert window.at_end is not None, "only a window that is not the last is extended"
    return _counted(window.at_end, calls, window.start, end, window.began, first=window.end)


def _counted(
    replays: Replays, calls: Sequence[Call], start: int, end: int, began: dict[str, str] | None, first: int = -1
) -> Window:
    for call, prepared in calls[max(start, first) : end]:
        replays.add(call, prepared)
    if end == len(calls):
        return Window(start, end, replays.finish(), began, None, True, None)
    ended, at_end = replays.state(calls[end][0].at), replays.copy()
    settled, stop = True, calls[end - 1][0].at + SETTLE_SECONDS
    for number, (call, prepared) in enumerate(calls[end:]):
        late = call.at > stop
        if (late or number % SETTLED_EVERY == 0) and replays.settled(call.at):
            break
        if late:
            settled = False
            break
        replays.add(call, prepared, counted=False)
    return Window(start, end, replays.finish(), began, ended, settled, at_end)


def combine(windows: Sequence[Window], calls: Sequence[Call]) -> Windowed:
    """The windows' spends added up; where a window did not begin as its neighbour ended (or the neighbour's writes
    were not settled), the neighbour is carried on through it instead."""
    total: dict[str, Spend] = {}
    joined = 0
    done: Window | None = None
    for window in windows:
        if done is not None and (not done.settled or done.ended != window.began):
            joined += window.end - window.start
            done = extend(done, calls, window.end)
            continue
        if done is not None:
            _absorb(total, done.spends)
        done = window
    if done is not None:
        _absorb(total, done.spends)
    return Windowed(total, joined)


def _absorb(total: dict[str, Spend], spends: dict[str, Spend]) -> None:
    for name, spend in spends.items():
        total.setdefault(name, Spend()).absorb(spend)


def edges(calls: Sequence[Call], size: int) -> list[tuple[int, int]]:
    """The partition's calls cut into windows of `size` calls."""
    return [(start, min(start + size, len(calls))) for start in range(0, len(calls), size)]
