"""The replays of one partition's calls in time windows that can run side by side, and still add up to the one
replay of every call in order, exactly.

A window counts a run of the partition's calls. Before its first call it replays, counting nothing, the calls of
the WARM_UP_SECONDS before (four times the longest TTL): an entry the rules keep alive is used within its TTL, so the
warm-up rebuilds the live entries with their expiry. After its last call it replays on, counting nothing, until
the waste of every write it counted is known (no live entry of the write is longer than what was read of it).
Each window's cache at its first call is compared with its neighbour's at the same moment; where a warm-up did not
rebuild it (calls logged out of time order, an entry kept alive by reads for longer than the warm-up, a neighbour
whose writes were not all settled within SETTLE_SECONDS), the neighbour replays on through the window instead, so
the sum is always the sequential answer. `Windowed.joined` says how many calls that took.

The cluster (parallel.py) does not run windows yet. On one account's 100,000 generated calls (4.2 hours; windows of
45,000 calls), a warm-up of two or three times the longest TTL did not rebuild the `shape` setup's cache (a read
keeps an entry's own TTL, see WARM_UP_SECONDS); four times did. At that rate four hours are 17 pieces of 16 MB, and
a window must span several times its warm-up to be worth it: more than the cluster should hold in memory. Windows
need pieces a worker can read again itself (S3 objects, by key), not pieces sent from the reading process.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, NamedTuple, TypeVar

from ..rules.ttl import TTL_SECONDS
from .logs import LoggedCall
from .prepare import Prepared
from .replay import Replays
from .spend import Spend

# Four times the longest TTL. An entry alive at a window's start was used within one TTL before it, but a read keeps
# an entry's own TTL, so one kept alive turn after turn may have been written long before as a 5m entry, where the
# warm-up writes it as a 1h one: measured on one account's 100,000 generated calls, twice the longest TTL fell short
# for the shape setup (1h where the previous user message ends), four times held.
WARM_UP_SECONDS = 4 * max(TTL_SECONDS.values())
SETTLE_SECONDS = 4 * max(TTL_SECONDS.values())  # how far past its end a window replays to learn its writes' waste
SETTLED_EVERY = 64  # calls between two checks of whether a window's writes are all settled

Call = tuple[LoggedCall, Prepared]
Settings = dict[str, tuple[str | None, str]]
T = TypeVar("T")


@dataclass
class Window:
    """One window's replay: its spend per setting, its cache when it began (after the warm-up) and when the next
    window begins, and whether the waste of its writes is known."""

    counted: int  # calls it counted
    last: float  # when the last of them was made (settling its writes runs SETTLE_SECONDS past it)
    spends: dict[str, Spend]
    began: dict[str, str] | None  # the digest of each setting's cache at its first call (None: nothing before it)
    ended: dict[str, str] | None  # ... at the next window's first call (None: nothing after it)
    settled: bool
    at_end: Replays | None  # its replays as they were at its end, to carry on through the next window if joined

    @property
    def edges(self) -> Edges:
        """What `combine` compares: small, where the window itself (with its replays) may be large."""
        return Edges(self.began, self.ended, self.settled, self.counted)


class Edges(NamedTuple):
    """What the Combiner compares of a window (small, where a Window with its replays may be large)."""

    began: dict[str, str] | None
    ended: dict[str, str] | None
    settled: bool
    counted: int


@dataclass
class Windowed:
    """The windows' spends added up, and how many calls were replayed again where a warm-up fell short."""

    spends: dict[str, Spend]
    joined: int = 0


def replay_window(
    before: Sequence[Call],
    counted: Sequence[Call],
    after: Iterable[Call],
    settings: Settings,
    warm_up: float = WARM_UP_SECONDS,
) -> Window:
    """Count the calls `counted`, after the warm-up from the calls `before` them and before those `after` them that
    settle their writes."""
    replays = Replays(settings)
    if not counted:
        return Window(0, float("-inf"), replays.finish(), None, None, True, None)
    first = counted[0][0].at
    start = len(before)
    while start > 0 and before[start - 1][0].at >= first - warm_up:
        start -= 1
    for call, prepared in before[start:]:
        replays.add(call, prepared, counted=False)
    return _count(replays, counted, after, replays.state(first) if before else None, first)


def extend(window: Window, counted: Sequence[Call], after: Iterable[Call]) -> Window:
    """The window's replay carried on from its end to count the calls `counted` too."""
    assert window.at_end is not None, "only a window with calls after it is extended"
    joined = _count(window.at_end.copy(), counted, after, window.began, window.last)  # the window stays as it was
    joined.counted += window.counted
    return joined


def _count(
    replays: Replays, counted: Sequence[Call], after: Iterable[Call], began: dict[str, str] | None, last: float
) -> Window:
    """Replay the calls `counted` (after `last`, the time of the calls counted before them), then those `after`
    them without counting, until the counted writes are settled (or SETTLE_SECONDS have passed)."""
    for call, prepared in counted:
        replays.add(call, prepared)
    last = max([last, *(call.at for call, _ in counted[-1:])])
    following = iter(after)
    first = next(following, None)
    if first is None:
        return Window(len(counted), last, replays.finish(), began, None, True, None)
    ended, at_end = replays.state(first[0].at), replays.copy()
    settled = True
    stop = last + SETTLE_SECONDS
    for number, (call, prepared) in enumerate(itertools.chain([first], following)):
        late = call.at > stop
        if (late or number % SETTLED_EVERY == 0) and replays.settled(call.at):
            break
        if late:
            settled = False
            break
        replays.add(call, prepared, counted=False)
    return Window(len(counted), last, replays.finish(), began, ended, settled, at_end)


class Combiner(Generic[T]):
    """The windows' spends added up as they come, in order; where a window did not begin as the one before ended
    (or that one's writes were not settled), the one before is carried on through it instead. A window is anything
    `edges` and `spends` read: a Window, or a Dask future of one (see parallel.py)."""

    def __init__(self, edges: Callable[[T], Edges], spends: Callable[[T], dict[str, Spend]]) -> None:
        self.edges, self.spends = edges, spends
        self.total: dict[str, Spend] = {}
        self.joined = 0  # calls counted by the window before theirs, carried on through them
        self._done: tuple[T, Edges] | None = None

    def add(self, window: T, extended: Callable[[T], T]) -> None:
        """The next window (`extended(done)`: the one before, carried on through this one's calls)."""
        mine = self.edges(window)
        done = self._done
        if done is not None and not (done[1].settled and done[1].ended == mine.began):
            self.joined += mine.counted
            carried = extended(done[0])
            self._done = (carried, self.edges(carried))
            return
        if done is not None:
            absorb(self.total, self.spends(done[0]))
        self._done = (window, mine)

    def finish(self) -> Windowed:
        if self._done is not None:
            absorb(self.total, self.spends(self._done[0]))
            self._done = None
        return Windowed(self.total, self.joined)


def absorb(total: dict[str, Spend], spends: dict[str, Spend]) -> None:
    """Add each setting's spend to its total."""
    for name, spend in spends.items():
        total.setdefault(name, Spend()).absorb(spend)
