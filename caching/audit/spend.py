"""What a replay of logged calls spent: its tokens by kind, the writes no later call read, and (as sent) the reads
the logs lack. `Replay` is what every kind of replay shares: `Placed` (the cache points a setting places, in
replay.py) and `AsLogged` (the points as sent, on the logged counts, in as_logged.py).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from ..pricing import Cost, cost_of
from ..rules.usage import Usage
from .logs import LoggedCall

EXAMPLES = 5  # unexplained misses kept as examples (the earliest)


@dataclass
class Spend:
    """What a replay of some calls cost, by kind of token, and the writes no later call read. As sent, also the calls
    whose cache counts no earlier logged call explains (`unexplained`), and the first of them (time, where)."""

    calls: int = 0
    hits: int = 0
    wasted_tokens: int = 0
    wasted: Decimal = Decimal(0)
    tokens: dict[str, Usage] = field(default_factory=dict)  # per model id, priced once at the end
    unexplained: int = 0
    first_unexplained: tuple[float, str] | None = None
    misses: Misses = field(default_factory=lambda: Misses())  # as sent: reads the rules promised and the logs lack

    @property
    def cost(self) -> Cost:
        return sum((cost_of(usage, model_id) for model_id, usage in self.tokens.items()), Cost())

    def absorb(self, other: Spend) -> None:
        """Add another spend (of other calls) to this one."""
        self.calls += other.calls
        self.hits += other.hits
        self.wasted_tokens += other.wasted_tokens
        self.wasted += other.wasted
        for model_id, usage in other.tokens.items():
            self.tokens[model_id] = self.tokens.get(model_id, EMPTY) + usage
        self.unexplained += other.unexplained
        firsts = [first for first in (self.first_unexplained, other.first_unexplained) if first is not None]
        self.first_unexplained = min(firsts) if firsts else None
        self.misses.absorb(other.misses)


@dataclass
class Misses:
    """Calls that could read by the rules (a live entry the logs wrote holds a prefix of the request, unchanged,
    within the lookback of its cache points) and read less: by model, region and hour, with the first few."""

    could_read: int = 0  # calls the rules say would read
    by_cell: dict[tuple[str, str, int], int] = field(default_factory=dict)  # (model, region, hour) -> misses
    examples: list[tuple[float, str, int, int]] = field(default_factory=list)  # (time, where, promised, read)

    @property
    def calls(self) -> int:
        return sum(self.by_cell.values())

    @property
    def rate(self) -> float:
        """Misses per call that could read: what the logs say of expiry jitter, routing and eviction."""
        return self.calls / self.could_read if self.could_read else 0.0

    def add(self, call: LoggedCall, promised: int, read: int) -> None:
        cell = (call.model_id, call.region, int(call.at // 3600))
        self.by_cell[cell] = self.by_cell.get(cell, 0) + 1
        self.examples = sorted([*self.examples, (call.at, call.where, promised, read)])[:EXAMPLES]

    def absorb(self, other: Misses) -> None:
        self.could_read += other.could_read
        for cell, count in other.by_cell.items():
            self.by_cell[cell] = self.by_cell.get(cell, 0) + count
        self.examples = sorted([*self.examples, *other.examples])[:EXAMPLES]


EMPTY = Usage()


R = TypeVar("R", bound="Replay")


Key = tuple[str, str, str]  # an entry's model id, account and prefix digest


class Unread(Protocol):
    """A write, as far as its waste goes: its 5m and 1h tokens unread when it has been read `used` tokens in."""

    def unread_at(self, used: int) -> tuple[int, int]: ...


@dataclass(frozen=True)
class Open:
    """A counted write read `used` tokens in (of `end`) when its window ended, with entries still live then (`keys`):
    a read of one of them in a later window takes back more of its waste (see windows.py)."""

    model_id: str
    used: int
    end: int
    keys: tuple[Key, ...]
    write: Unread


@dataclass
class Handover:
    """What a window hands the windows around it, about the waste of writes made in one and read in another: the
    writes it counted that can still be read (`open`), and of the entries live when it began counting, the most
    read of each and whether it is still live when it ends (`reads`)."""

    open: list[Open] = field(default_factory=list)
    reads: dict[Key, tuple[int, bool]] = field(default_factory=dict)


class Replay:
    """Calls replayed in order: what they spent, and the writes no later call read (the waste). How a call reads and
    writes, and how its waste is known, is `Placed`'s (the points a setting places) or `AsLogged`'s (the points as
    sent, on the logged counts)."""

    def __init__(self) -> None:
        self.spend = Spend()
        # The entries live when a window began counting, each with the most a read took of it since (see windows.py).
        self._inherited: dict[Key, tuple[Any, int]] = {}
        self._replayed = 0  # calls replayed, counted or not
        self._sums: dict[str, list[int]] = {}  # per model id: regular, output, read, 5m and 1h written tokens
        self._waste: dict[str, list[int]] = {}  # per model id: 5m and 1h written tokens no call read

    def copy(self: R) -> R:
        """An independent replay in the same state."""
        return copy.deepcopy(self)  # what two parts of it share (an entry, in the cache and in a write) stays shared

    def _counted(self, read: bool, counted: bool = True) -> None:
        """Count one replayed call, and whether it read."""
        spend = self.spend
        spend.calls += counted
        spend.hits += read and counted
        self._replayed += 1

    def state(self, now: float) -> str:
        """The cache at `now` as a digest of every live entry (its prefix, TTL and expiry), the same in every
        process: two replays whose states agree at some time count the same calls alike from then on (the waste of
        writes made before, which the digest leaves out, is each replay's own: see `handover`)."""
        return hashlib.sha256(repr(sorted(self._live(now))).encode()).hexdigest()

    def _live(self, now: float) -> Iterator[tuple[Any, ...]]:
        """Each entry live at `now`: (model id, prefix digest, account), its TTL, when it expires, whether ready."""
        raise NotImplementedError

    def _entries(self, now: float) -> Iterator[tuple[Key, Any]]:
        """Each entry live at `now`, with its key."""
        raise NotImplementedError

    def _open(self, now: float) -> Iterator[Open]:
        """The counted writes not read to their end that have an entry live at `now`."""
        raise NotImplementedError

    def inherit(self, now: float) -> None:
        """A window begins counting at `now`: follow the reads of the entries live then (see `handover`)."""
        self._inherited = {key: (entry, 0) for key, entry in self._entries(now)}

    def _track(self, key: Key, entry: Any, tokens: int) -> None:
        """A read of `tokens` found `entry`: remembered if it is an entry live when the window began counting."""
        inherited = self._inherited.get(key)
        if inherited is not None and inherited[0] is entry and tokens > inherited[1]:
            self._inherited[key] = (entry, tokens)

    def handover(self, now: float, wanted: set[Key] | None = None) -> Handover:
        """At `now`, when the next window begins: the writes it counted that can still be read, and the most read of
        each entry it inherited (of those `wanted`, if given), and whether that entry is still live."""
        live = dict(self._entries(now))
        inherited = (
            self._inherited.items()
            if wanted is None
            else ((k, self._inherited[k]) for k in wanted & set(self._inherited))
        )
        reads = {key: (most, live.get(key) is entry) for key, (entry, most) in inherited}
        return Handover(list(self._open(now)), reads)

    def finish(self) -> Spend:
        """The spend, with the writes that no later call read counted as waste."""
        for model_id, (write_5m, write_1h) in self._waste.items():
            self.spend.wasted += cost_of(Usage.of(write_5m=write_5m, write_1h=write_1h), model_id).input
        self._waste = {}
        tokens = self.spend.tokens
        for model_id, (regular, output, read, write_5m, write_1h) in self._sums.items():
            usage = Usage.of(regular=regular, output=output, read=read, write_5m=write_5m, write_1h=write_1h)
            tokens[model_id] = tokens.get(model_id, EMPTY) + usage
        self._sums = {}
        return self.spend
