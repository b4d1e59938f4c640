"""One partition's calls audited in time windows that can run side by side, and still add up to the one audit of
every call in order, exactly.

A window counts a run of the partition's calls, in a lane: the what-if replays alone (`ReplayLane`), or the whole
audit (`AuditLane`: the doctor, the replays, the totals). Before its first call it replays, counting nothing, the
calls of the WARM_UP_SECONDS before (four times the longest TTL), and at least WARM_UP_CALLS of them: an entry the
rules keep alive is used within its TTL, so the warm-up rebuilds the live entries with their expiry (an entry only
read in it is known from its reads, as the logs show it was there) and the requests the doctor remembers. Each
window's state at its first call is compared with its neighbour's at the same moment; where a warm-up did not
rebuild it (calls logged out of time order, an entry kept alive by reads that changed its TTL since), the neighbour
carries on through the window instead, so the sum is always the sequential answer. `Windowed.joined` says how many
records that took.

The waste of a write is known only once no entry of it can be read further, and an entry read turn after turn (a
system prompt) lives for as long as the traffic does. So a window hands over (`Handover`) the writes it counted that
its end leaves open, and the most read of each entry it inherited alive; `waste_taken_back` follows each open write
through the windows after it, as long as its entries live, and takes back what later reads read of it.

The oracle cannot be windowed so (its cheapest path over a chain depends on every use before): the audit's windows
keep each call's small `Use`, and one oracle takes them all in order (`combine_audits`).

On a cluster (parallel.py, file_windows.py), a window is a run of whole log files of an hour, which a worker reads
itself, so no window's records wait in memory for a worker to be free. On one account's 100,000 generated calls
(4.2 hours; windows of 45,000 calls), a warm-up of two or three times the longest TTL did not rebuild the `shape`
setup's cache (a read keeps an entry's own TTL, see WARM_UP_SECONDS); four times did.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

from .. import limits
from ..check.recording import Problem
from ..pricing import cost_of
from ..rules.diagnosis import REMEMBERED
from ..rules.ttl import TTL_SECONDS
from ..rules.usage import Usage
from .audit import Audit, AuditResult, merge
from .logs import LoggedCall
from .oracle import Oracle, Use, Uses
from .prepare import Prepared
from .replay import Replays
from .spend import Handover, Key, Open, Spend

# Four times the longest TTL. An entry alive at a window's start was used within one TTL before it, but a read keeps
# an entry's own TTL, so one kept alive turn after turn may have been written long before as a 5m entry, where the
# warm-up writes it as a 1h one: measured on one account's 100,000 generated calls, twice the longest TTL fell short
# for the shape setup (1h where the previous user message ends), four times held.
WARM_UP_SECONDS = 4 * max(TTL_SECONDS.values())
# ... and at least as many calls as the doctor remembers of a caller (whatever their age) to compare a request with.
WARM_UP_CALLS = REMEMBERED

Call = tuple[LoggedCall, Prepared]
Settings = dict[str, tuple[str | None, str]]
Item = TypeVar("Item")  # what a lane takes: a call made ready for the replays, or a logged record
R = TypeVar("R")  # what it gives
T = TypeVar("T")


class Lane(Protocol[Item, R]):
    """What a window runs: items added in order, counted or only seen; its state at a time, to compare; and what it
    hands over about the waste of writes read across windows."""

    def at(self, item: Item) -> float | None:
        """When an item's call was made (None: a skipped record, which has no time)."""
        ...

    def add(self, item: Item, counted: bool = True) -> None: ...

    def state(self, now: float) -> object: ...

    def inherit(self, now: float) -> None:
        """The window begins counting at `now` (see Replay.inherit)."""
        ...

    def handover(self, now: float, wanted: dict[str, set[Key]] | None = None) -> dict[str, Handover]:
        """Each setting's handover to the window that begins at `now` (see Replays.handover)."""
        ...

    def copy(self) -> Lane[Item, R]: ...

    def finish(self) -> R:
        """What it counted (it may not be added to after)."""
        ...


class ReplayLane:
    """The what-if replays of every setting, on calls made ready (`Call`)."""

    def __init__(self, replays: Replays) -> None:
        self.replays = replays

    def at(self, item: Call) -> float | None:
        return item[0].at

    def add(self, item: Call, counted: bool = True) -> None:
        self.replays.add(*item, counted=counted)

    def state(self, now: float) -> object:
        return self.replays.state(now)

    def inherit(self, now: float) -> None:
        self.replays.inherit(now)

    def handover(self, now: float, wanted: dict[str, set[Key]] | None = None) -> dict[str, Handover]:
        return self.replays.handover(now, wanted)

    def copy(self) -> ReplayLane:
        return ReplayLane(self.replays.copy())

    def finish(self) -> dict[str, Spend]:
        return self.replays.finish()


Position = tuple[int, int]  # where a record is in the input (see Audit.position)
Record = tuple[Position, LoggedCall | Problem]


class AuditLane:
    """The whole audit of one account and model's records, with where each is in the input; its oracle kept as
    uses, for one oracle to take them all in order (see `combine_audits`)."""

    def __init__(self, audit: Audit) -> None:
        self.audit = audit

    @classmethod
    def new(cls, show_text: bool = False, since: float | None = None, until: float | None = None) -> AuditLane:
        return cls(Audit(show_text, since, until, oracle=Uses()))

    def at(self, item: Record) -> float | None:
        record = item[1]
        return None if isinstance(record, Problem) else record.at

    def add(self, item: Record, counted: bool = True) -> None:
        self.audit.position = item[0]
        self.audit.add(item[1], counted)

    def state(self, now: float) -> object:
        return self.audit.state(now)

    def inherit(self, now: float) -> None:
        self.audit.replays.inherit(now)

    def handover(self, now: float, wanted: dict[str, set[Key]] | None = None) -> dict[str, Handover]:
        return self.audit.replays.handover(now, wanted)

    def copy(self) -> AuditLane:
        shared = self.audit.catalog, self.audit.linearizer  # caches of what never changes: not copied
        return AuditLane(copy.deepcopy(self.audit, {id(each): each for each in shared}))

    def finish(self) -> tuple[AuditResult, list[Use]]:
        """Its result (its skipped records' words only: the notes are the whole audit's), and its oracle's uses."""
        uses = self.audit.oracle
        assert isinstance(uses, Uses), "a window's audit keeps its oracle's uses"
        return replace(self.audit.result(), problems=list(self.audit.problems)), list(uses.uses)


@dataclass
class Window(Generic[R]):
    """One window's audit: what it counted, its state when it began (after the warm-up) and when the next window
    begins, and its handover."""

    counted: int  # items it counted
    result: R
    began: object | None  # its state at its first call (None: nothing before it)
    ended: object | None  # ... at the next window's first call (None: nothing after it)
    handover: dict[str, Handover]
    at_end: Lane[Any, R] | None  # its lane as it was at its end, to carry on through the next window if joined

    @property
    def edges(self) -> Edges:
        """What `combine` compares: small, where the window itself (with its lane) may be large."""
        return Edges(self.began, self.ended, self.counted)


class Edges(NamedTuple):
    """What the Combiner compares of a window (small, where a Window with its lane may be large)."""

    began: object | None
    ended: object | None
    counted: int


@dataclass
class Windowed(Generic[R]):
    """Each window's result and handover, in order (a window joined to the one before it has none of its own),
    and how many items were counted again where a warm-up fell short."""

    results: list[R]
    handovers: list[dict[str, Handover]]
    joined: int = 0


def window(
    lane: Lane[Item, R],
    before: Sequence[Item],
    counted: Sequence[Item],
    after: Iterable[Item],
    warm_up: float | None = None,
) -> Window[R]:
    """Count the items `counted`, after the warm-up from the items `before` them (of `warm_up` seconds, by default
    WARM_UP_SECONDS); `after` them, only when the next window begins."""
    warm_up = WARM_UP_SECONDS if warm_up is None else warm_up
    first = next((t for t in map(lane.at, counted) if t is not None), None)
    if first is None:  # nothing with a time: no state to compare, the window before is carried through it
        for item in counted:
            lane.add(item)
        return Window(len(counted), lane.finish(), None, None, {}, None)
    start, calls = len(before), 0
    while start > 0:
        when = lane.at(before[start - 1])
        if when is not None and when < first - warm_up and calls >= WARM_UP_CALLS:
            break
        start -= 1
        calls += when is not None
    for item in before[start:]:
        lane.add(item, counted=False)
    began = lane.state(first) if before else None
    lane.inherit(first)
    return _count(lane, counted, after, began)


def replay_window(
    before: Sequence[Call],
    counted: Sequence[Call],
    after: Iterable[Call],
    settings: Settings,
    warm_up: float | None = None,
) -> Window[dict[str, Spend]]:
    """The what-if replays of the calls `counted`, as `window`."""
    return window(ReplayLane(Replays(settings)), before, counted, after, warm_up)


def extend(window: Window[R], counted: Sequence[Any], after: Iterable[Any]) -> Window[R]:
    """The window's lane carried on from its end to count the items `counted` too."""
    assert window.at_end is not None, "only a window with calls after it is extended"
    joined = _count(window.at_end.copy(), counted, after, window.began)  # the window stays as it was
    joined.counted += window.counted
    return joined


def _count(lane: Lane[Item, R], counted: Sequence[Item], after: Iterable[Item], began: object | None) -> Window[R]:
    """Count the items `counted`; its state and handover when the first of those `after` them was made."""
    for item in counted:
        lane.add(item)
    following = next((t for t in map(lane.at, after) if t is not None), None)
    if following is None:
        return Window(len(counted), lane.finish(), began, None, lane.handover(float("inf")), None)
    ended, handover = lane.state(following), lane.handover(following)
    return Window(len(counted), lane.copy().finish(), began, ended, handover, lane)


class Combiner(Generic[T, R]):
    """The windows' results gathered as they come, in order; where a window did not begin as the one before ended,
    the one before is carried on through it instead. In one process, for one account and model (the tests' driver);
    the cluster joins its windows by the same rule, account and model by account and model (parallel._Lanes)."""

    def __init__(
        self,
        edges: Callable[[T], Edges],
        result: Callable[[T], R],
        handover: Callable[[T], dict[str, Handover]] = lambda window: window.handover,  # type: ignore[attr-defined]
    ) -> None:
        self.edges, self.result, self.handover = edges, result, handover
        self.results: list[R] = []
        self.handovers: list[dict[str, Handover]] = []
        self.joined = 0  # items counted by the window before theirs, carried on through them
        self._done: tuple[T, Edges] | None = None

    def add(self, window: T, extended: Callable[[T], T]) -> None:
        """The next window (`extended(done)`: the one before, carried on through this one's items)."""
        mine = self.edges(window)
        done = self._done
        if done is not None and done[1].ended != mine.began:
            self.joined += mine.counted
            carried = extended(done[0])
            self._done = (carried, self.edges(carried))
            return
        if done is not None:
            self._keep(done[0])
        self._done = (window, mine)

    def _keep(self, window: T) -> None:
        self.results.append(self.result(window))
        self.handovers.append(self.handover(window))

    def finish(self) -> Windowed[R]:
        if self._done is not None:
            self._keep(self._done[0])
            self._done = None
        return Windowed(self.results, self.handovers, self.joined)


class Follower:
    """The writes windows left open, followed through the windows after them while an entry of each is live, and
    what later reads read of them: the waste to take back from the windows that counted them (see Handover)."""

    def __init__(self, back: dict[str, dict[str, tuple[int, int]]] | None = None) -> None:
        self.open: list[tuple[str, Open, int, tuple[Key, ...]]] = []  # setting, write, read so far, live entries
        # Per setting and model, the 5m and 1h tokens taken back (`back`: added to those of other followers).
        self.back: dict[str, dict[str, tuple[int, int]]] = {} if back is None else back

    def wanted(self) -> dict[str, set[Key]]:
        """The entries whose reads the next window is asked for, per setting."""
        keys: dict[str, set[Key]] = {}
        for name, _, _, live in self.open:
            keys.setdefault(name, set()).update(live)
        return keys

    def next(self, handed: dict[str, Handover]) -> None:
        """The next window's handover: its reads of the entries followed, then its own open writes, followed too."""
        kept = []
        for name, write, used, keys in self.open:
            reads = handed[name].reads if name in handed else {}
            used = max([used, *(reads[key][0] for key in keys if key in reads)])
            keys = tuple(key for key in keys if key in reads and reads[key][1])
            if keys and used < write.end:
                kept.append((name, write, used, keys))
            else:
                self._take_back(name, write, used)
        self.open = kept + [(name, w, w.used, w.keys) for name, handover in handed.items() for w in handover.open]

    def finish(self) -> dict[str, dict[str, tuple[int, int]]]:
        """Per setting and model, the 5m and 1h tokens later windows read of writes counted as waste."""
        for name, write, used, _ in self.open:
            self._take_back(name, write, used)
        self.open = []
        return self.back

    def _take_back(self, name: str, write: Open, used: int) -> None:
        used = min(used, write.end)
        if used > write.used:
            five, hour = write.write.unread_at(write.used)
            five_now, hour_now = write.write.unread_at(used)
            mine = self.back.setdefault(name, {}).get(write.model_id, (0, 0))
            self.back[name][write.model_id] = (mine[0] + five - five_now, mine[1] + hour - hour_now)


def waste_taken_back(handovers: Sequence[dict[str, Handover]]) -> dict[str, dict[str, tuple[int, int]]]:
    """What reads in later windows read of the writes each window left open (see Follower)."""
    follower = Follower()
    for handed in handovers:
        follower.next(handed)
    return follower.finish()


def take_back(spends: dict[str, Spend], back: dict[str, dict[str, tuple[int, int]]]) -> None:
    """Take `back` (see waste_taken_back) from each setting's waste."""
    for name, by_model in back.items():
        spend = spends[name]
        for model_id, (five, hour) in by_model.items():
            spend.wasted_tokens -= five + hour
            spend.wasted -= cost_of(Usage.of(write_5m=five, write_1h=hour), model_id).input


def spends(done: Windowed[dict[str, Spend]]) -> dict[str, Spend]:
    """The replays' windows added up: each setting's spend."""
    total: dict[str, Spend] = {}
    for each in done.results:
        for name, spend in each.items():
            total.setdefault(name, Spend()).absorb(spend)
    take_back(total, waste_taken_back(done.handovers))
    return total


def combine_audits(done: Windowed[tuple[AuditResult, list[Use]]]) -> AuditResult:
    """The audit's windows added up as the one audit of all their records: their totals merged, the waste later
    windows read taken back, their skipped records' words the first MOST_SKIPPED_LISTED in order, and one oracle over
    all their uses in order."""
    parts, oracle = [], Oracle()
    for result, uses in done.results:
        parts.append(result)
        for use in uses:
            oracle.take(use)
    total = merge(parts)
    take_back(total.what_if, waste_taken_back(done.handovers))
    listed = total.problems[: limits.MOST_SKIPPED_LISTED]
    notes = total.disagreeing.told() + total.out_of_order.told()
    return replace(total, oracle=oracle.cost(), problems=listed + notes)
