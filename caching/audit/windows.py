"""One partition's calls audited in time windows that can run side by side, and still add up to the one audit of
every call in order, exactly.

A window counts a run of the calls, each account and model in its own lane (`AuditLane`: the doctor, the
replays, the totals). Before its first call it replays, counting nothing, the calls of the WARM_UP_SECONDS before
(four times the longest TTL): an entry the rules keep alive is used within its TTL, so the warm-up rebuilds the live
entries with their expiry (an entry only read in it is known from its reads, as the logs show it was there) and the
requests the doctor remembers. The windows are joined in order (`Joiner`, the join rule's one home): each lane's
state when it began is compared with its neighbour's at the same call; where a warm-up did not rebuild it (calls
logged out of time order, an entry kept alive by reads that changed its TTL since), the neighbour carries on through
the window instead, so the sum is always the sequential answer (`AuditResult.rejoined`: the records that took).

The waste of a write is known only once no entry of it can be read further, and an entry read turn after turn (a
system prompt) lives for as long as the traffic does. So a lane hands over (`Handover`) the writes it counted that
its end leaves open, and the most read of each entry it inherited alive; a `Follower` follows each open write
through the windows after it, as long as its entries live, and takes back what later reads read of it.

The oracle cannot be windowed so (its cheapest path over a chain depends on every use before): each lane keeps its
calls' small `Use`s (the latest in memory, the rest in a temporary file), and one oracle per account and model takes
them all, lane after lane, in order.

On a cluster (parallel.py, file_windows.py), a window is a run of whole log files of an hour, which a worker reads
itself, so no window's records wait in memory for a worker to be free; the tests run windows in one process
(tests/audit/windowing.py). Both join them with `Joiner`. On one account's 100,000 generated calls (4.2 hours;
windows of 45,000 calls), a warm-up of two or three times the longest TTL did not rebuild the `shape` setup's cache
(a read keeps an entry's own TTL, see WARM_UP_SECONDS); four times did.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, replace
from typing import Generic, Protocol, TypeVar

from ..check.recording import Problem
from ..pricing import Cost, cost_of
from ..rules.ttl import TTL_SECONDS
from ..rules.usage import Usage
from .audit import Audit, AuditResult, merge
from .logs import LoggedCall
from .oracle import Use, Uses
from .spend import Handover, Key, Open, Spend

# Four times the longest TTL. An entry alive at a window's start was used within one TTL before it, but a read keeps
# an entry's own TTL, so one kept alive turn after turn may have been written long before as a 5m entry, where the
# warm-up writes it as a 1h one: measured on one account's 100,000 generated calls, twice the longest TTL fell short
# for the shape setup (1h where the previous user message ends), four times held.
WARM_UP_SECONDS = 4 * max(TTL_SECONDS.values())
# The join compares a lane at its first call in the window; a call logged late, made before it, reads the cache of its
# own time, which the warm-up rebuilt only as far as the calls before it let it. One with less than this much of the
# warm-up before it (calls logged over hours late, into a later window's files) has its lane joined instead.
SURE_SECONDS = WARM_UP_SECONDS - max(TTL_SECONDS.values())
LATE = "a call before what the warm-up rebuilt"  # a lane's state that no lane's state is equal to: it is joined

W = TypeVar("W", bound=Hashable)  # how a host names a window: its number on a cluster, the window itself in tests
Window = TypeVar("Window", bound=Hashable, contravariant=True)  # ... as a host takes it
Wanted = dict[str, tuple[float, dict[str, set[Key]]]]  # per lane: when its next call is made, the entries followed


Position = tuple[int, int]  # where a record is in the input (see Audit.position)
Record = tuple[Position, LoggedCall | Problem]


class AuditLane:
    """The whole audit of one account and model's records, with where each is in the input; its oracle kept as
    uses, for the oracle of its account and model to take them in order (see `Joiner`)."""

    def __init__(self, audit: Audit) -> None:
        self.audit = audit

    @classmethod
    def new(
        cls, show_text: bool = False, since: float | None = None, until: float | None = None, alone: bool = False
    ) -> AuditLane:
        """A lane of a window (`alone`: of a share of a file, the only lane of its account and model, which prices
        its oracle itself, keeping no uses)."""
        return cls(Audit(show_text, since, until, oracle=None if alone else Uses()))

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

    def finish(self) -> tuple[AuditResult, Iterator[Use]]:
        """Its result (its skipped records' words only: the notes are the whole audit's), and its oracle's uses, in
        order, those taken so far, to be read once (a lane alone keeps none)."""
        oracle = self.audit.oracle
        uses = iter(oracle) if isinstance(oracle, Uses) else iter(())
        return replace(self.audit.result(), problems=list(self.audit.problems)), uses


@dataclass
class Edge:
    """A lane's state when its account and model's next call after the window is made, and its handover then."""

    state: object
    handover: dict[str, Handover]


class Host(Protocol[Window]):
    """Where the windows are and their lanes run: on a Dask cluster (parallel.py), or in this process (the tests)."""

    def edges(self, window: Window, wanted: Wanted) -> dict[str, Edge]:
        """Each lane `wanted` of the window: its state when its next call is made (at math.inf: none is), and its
        handover then, with the reads of the entries asked for. Raises if the window was lost."""
        ...

    def carry(self, before: Window, window: Window, names: set[str]) -> None:
        """Carry the lanes `names` of the window `before` on through the window's records of theirs, and let the
        window's own lanes of them go."""
        ...

    def finish(self, window: Window, name: str, count: int) -> None:
        """The window's lane of `name`, which counted `count` records, is done: its result is taken."""
        ...

    def lose(self, name: str, count: int, exc: Exception) -> None:
        """The lane of `name`, `count` records, was lost with its window (the host says so)."""
        ...


class Joiner(Generic[W]):
    """The join rule, its one home: the windows are added in order, each with the state each lane began in (at its
    first counted call) and the records it counted. A lane held by a window before is asked for its state at that
    call: the same, the lane before is finished (its handover followed, see `Follower`); else, or where the window
    has no call of it with a time to compare, the lane before carries on through the window's records of it and
    the window's own lane is let go. The rest of the window's lanes are held until a later window begins them."""

    def __init__(self, host: Host[W]) -> None:
        self.host = host
        self.holder: dict[str, W] = {}  # the window whose lane of each account and model is the current one
        self.counts: dict[str, int] = {}  # the records each current lane counted
        self.followers: dict[str, Follower] = {}
        self.back: dict[str, dict[str, tuple[int, int]]] = {}  # the waste later windows read, of every follower
        self.joined = 0  # records counted by the lane before theirs, carried on through them

    def add(self, window: W, began: dict[str, tuple[float, object]], counted: dict[str, int]) -> None:
        """The next window: per lane, when its first counted call was made and its state then; the records each
        lane counted."""
        asked: dict[W, Wanted] = {}
        carried: dict[W, set[str]] = {}
        for name in counted:
            held = self.holder.get(name)
            if held is None:
                continue
            if name in began:
                asked.setdefault(held, {})[name] = (began[name][0], self.followers[name].wanted())
            else:
                carried.setdefault(held, set()).add(name)
        for before, wanted in asked.items():
            for name, edge in self._edges(before, wanted).items():
                if edge.state == began[name][1]:
                    self._finish(name, edge.handover)
                else:
                    carried.setdefault(before, set()).add(name)
        for before, names in carried.items():
            names = {name for name in names if self.holder.get(name) == before}  # not those lost with their window
            if not names:
                continue
            self.joined += sum(counted[name] for name in names)
            self.host.carry(before, window, names)
            for name in names:
                self.counts[name] += counted[name]
        for name, count in counted.items():
            if name not in self.holder:
                self.holder[name], self.counts[name] = window, count
                self.followers.setdefault(name, Follower(self.back))

    def finish(self) -> dict[str, dict[str, tuple[int, int]]]:
        """The last lanes finished (no call comes after them); per setting and model, the 5m and 1h tokens later
        windows read of writes counted as waste (see `take_back`)."""
        last: dict[W, Wanted] = {}
        for name, held in self.holder.items():
            last.setdefault(held, {})[name] = (math.inf, self.followers[name].wanted())
        for window, wanted in last.items():
            for name, edge in self._edges(window, wanted).items():
                self._finish(name, edge.handover)
        for follower in self.followers.values():
            follower.finish()  # into self.back, which every follower shares
        return self.back

    def _edges(self, window: W, wanted: Wanted) -> dict[str, Edge]:
        try:
            return self.host.edges(window, wanted)
        except Exception as exc:  # the window was lost (its worker died): its lanes are one line each, not the run
            for name in [name for name, held in self.holder.items() if held == window]:
                del self.holder[name]
                self.host.lose(name, self.counts.pop(name), exc)
            return {}

    def _finish(self, name: str, handover: dict[str, Handover]) -> None:
        self.followers[name].next(handover)
        self.host.finish(self.holder.pop(name), name, self.counts.pop(name))


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


def take_back(spends: dict[str, Spend], back: dict[str, dict[str, tuple[int, int]]]) -> None:
    """Take `back` (see waste_taken_back) from each setting's waste."""
    for name, by_model in back.items():
        spend = spends[name]
        for model_id, (five, hour) in by_model.items():
            spend.wasted_tokens -= five + hour
            spend.wasted -= cost_of(Usage.of(write_5m=five, write_1h=hour), model_id).input


def one_audit(
    results: list[AuditResult], oracle: Cost, back: dict[str, dict[str, tuple[int, int]]], joined: int
) -> AuditResult:
    """The lanes' results added up as the one audit of all their records: their totals merged, the waste later
    windows read taken `back`, the oracle's cost over every call in order, and the records counted again where a
    warm-up fell short (`joined`)."""
    total = replace(merge(results), oracle=oracle, rejoined=joined)
    take_back(total.what_if, back)
    return total
