"""Windows run in this process and joined by the audit's own rule (windows.Joiner), as the cluster joins its windows
of files (parallel.py): the tests' driver. A window here is a run of one account and model's items, in one lane,
warmed up on the items before it: the calls of the WARM_UP_SECONDS before, and at least WARM_UP_CALLS of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, Protocol, TypeVar

from caching import limits
from caching.audit import windows
from caching.audit.audit import AuditResult
from caching.audit.logs import LoggedCall
from caching.audit.oracle import Oracle, Use
from caching.audit.prepare import Prepared
from caching.audit.replay import Replays
from caching.audit.spend import Handover, Key, Spend
from caching.rules.diagnosis import REMEMBERED

NAME = "111122223333|model"  # the one account and model of the tests' traffic: each window has one lane
WARM_UP_CALLS = REMEMBERED  # a warm-up has at least as many calls as the doctor remembers of a caller

Call = tuple[LoggedCall, Prepared]
Settings = dict[str, tuple[str | None, str]]
Item = TypeVar("Item")  # what a lane takes: a logged record with its place in the input, or a call made ready
R = TypeVar("R")  # what it gives


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

    def finish(self) -> R:
        """What it counted (it may not be added to after)."""
        ...


class ReplayLane:
    """The what-if replays of every setting alone, on calls made ready."""

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

    def finish(self) -> dict[str, Spend]:
        return self.replays.finish()


@dataclass(eq=False)  # a window is itself: the Joiner keys its lanes by it
class Window(Generic[Item, R]):
    lane: Lane[Item, R]
    counted: Sequence[Item]
    began: dict[str, tuple[float, object]]


def window(
    lane: Lane[Item, R], before: Sequence[Item], counted: Sequence[Item], warm_up: float | None = None
) -> Window[Item, R]:
    """The items `counted`, in `lane`, after a warm-up on the items `before` them (of `warm_up` seconds, by default
    WARM_UP_SECONDS, and at least WARM_UP_CALLS calls)."""
    warm_up = windows.WARM_UP_SECONDS if warm_up is None else warm_up
    first = next((t for t in map(lane.at, counted) if t is not None), None)
    began: dict[str, tuple[float, object]] = {}
    if first is not None:
        start, calls = len(before), 0
        while start > 0:
            when = lane.at(before[start - 1])
            if when is not None and when < first - warm_up and calls >= WARM_UP_CALLS:
                break
            start -= 1
            calls += when is not None
        for item in before[start:]:
            lane.add(item, counted=False)
        began[NAME] = (first, lane.state(first))
        lane.inherit(first)
    for item in counted:
        lane.add(item)
    return Window(lane, counted, began)


class Host(Generic[Item, R]):
    """The windows in this process: each lane's result as it is finished, in order."""

    def __init__(self) -> None:
        self.results: list[R] = []

    def edges(self, window: Window[Item, R], wanted: windows.Wanted) -> dict[str, windows.Edge]:
        lane = window.lane
        return {name: windows.Edge(lane.state(at), lane.handover(at, keys)) for name, (at, keys) in wanted.items()}

    def carry(self, before: Window[Item, R], window: Window[Item, R], names: set[str]) -> None:
        assert names == {NAME}  # one lane a window: all of its items are that lane's
        for item in window.counted:
            before.lane.add(item)

    def finish(self, window: Window[Item, R], name: str, count: int) -> None:
        self.results.append(window.lane.finish())

    def lose(self, name: str, count: int, exc: Exception) -> None:
        raise exc  # nothing is lost in one process: a failure here is a bug


def joined(parts: Sequence[Window[Item, R]]) -> tuple[list[R], dict[str, dict[str, tuple[int, int]]], int]:
    """The windows joined in order: the results of the lanes finished, the waste later windows read (see
    windows.take_back), and the items counted by the lane before theirs."""
    host = Host[Item, R]()
    joiner = windows.Joiner[Window[Item, R]](host)
    for part in parts:
        joiner.add(part, part.began, {NAME: len(part.counted)} if part.counted else {})
    back = joiner.finish()
    return host.results, back, joiner.joined


def spends(results: list[dict[str, Spend]], back: dict[str, dict[str, tuple[int, int]]]) -> dict[str, Spend]:
    """The replays' lanes added up: each setting's spend."""
    total: dict[str, Spend] = {}
    for each in results:
        for name, spend in each.items():
            total.setdefault(name, Spend()).absorb(spend)
    windows.take_back(total, back)
    return total


def audit(results: list[tuple[AuditResult, list[Use]]], back: dict[str, Any], count: int) -> AuditResult:
    """The audit's lanes added up as the one audit (windows.one_audit, with the oracle taking every lane's uses in
    order), with the notes and the first skipped records' words as audit_parallel gives them."""
    oracle = Oracle()
    for _, uses in results:
        for use in uses:
            oracle.take(use)
    total = windows.one_audit([result for result, _ in results], oracle.cost(), back, count)
    notes = total.disagreeing.told() + total.out_of_order.told()
    return replace(total, problems=total.problems[: limits.MOST_SKIPPED_LISTED] + notes)
