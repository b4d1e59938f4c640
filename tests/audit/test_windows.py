"""The replays in time windows (caching/audit/windows.py) add up to the one replay of every call in order, exactly:
on generated traffic with 1h entries that outlive a window's warm-up of 5m ones, reads that refresh an entry from a
later cache point (the lookback), pauses past every TTL and two system prompts; and when a warm-up is made too
short to rebuild the cache, the windows that began wrong are joined to their neighbour, and the sum is still exact."""

from __future__ import annotations

import functools
import math
import pickle
import random
from typing import Any

import pytest

from caching.audit import windows
from caching.audit.audit import SETTINGS
from caching.audit.logs import LoggedCall
from caching.audit.prepare import prepare
from caching.audit.replay import Replays
from caching.audit.spend import Spend
from caching.emulator import ManualClock
from caching.rules import Catalog, PromptCache, linearize
from caching.rules.usage import Usage

from ..helpers import CP, SONNET, text_of, user
from . import windowing
from .windowing import Call, Settings

HOUR_CP: dict[str, Any] = {"cachePoint": {"type": "default", "ttl": "1h"}}
Spends = dict[str, Spend]


PAUSES = (2.0, 20.0, 90.0, 240.0, 400.0, 1_500.0, 3_000.0, 4_000.0)


@functools.cache  # each seed's traffic is made once per test process
def traffic(seed: int, calls: int = 120, pauses: tuple[float, ...] = PAUSES) -> list[Call]:
    """Conversations of six users on one account and model, logged with the counts the rules give the request as
    sent: a system prompt cached for 1h (two versions), the last user message cached for 5m, now and then a message
    of more blocks than the lookback (as a wide tool fan-out sends) that the next turn reads by lookback, and pauses from seconds to past an hour."""
    rng, clock = random.Random(seed), ManualClock()
    cache, catalog = PromptCache(clock), Catalog()
    model = catalog.find(SONNET)
    assert model is not None
    systems = [text_of(2_100, "rule"), text_of(2_300, "law")]
    histories: dict[int, list[dict[str, Any]]] = {}
    made: list[Call] = []
    for number in range(calls):
        clock.advance(rng.choice(pauses))
        person = rng.randrange(6)
        history = histories.setdefault(person, [])
        if rng.random() < 0.15:
            history.clear()  # a new conversation
        blocks = [{"text": f"Question {number} from {person}"}]
        if rng.random() < 0.2:
            blocks = [{"text": f"row {n} of {number}"} for n in range(24)]  # as many blocks as a wide fan-out
        history.append({"role": "user", "content": [*blocks, CP]})
        request = {"system": [{"text": systems[person % 2]}, HOUR_CP], "messages": [dict(m) for m in history]}
        result = cache.apply(linearize(request, model), model, SONNET, "111122223333", explain=False)
        usage = Usage.of(
            regular=result.input_tokens,
            output=20,
            read=result.read_tokens,
            write_5m=result.write_5m_tokens,
            write_1h=result.write_1h_tokens,
        )
        history[-1] = {"role": "user", "content": blocks}  # the next turn moves the point on
        history.append({"role": "assistant", "content": [{"text": f"Answer {number}"}]})
        call = LoggedCall(f"user-{person}", clock(), SONNET, request, usage, None, account="111122223333",
                          region="us-east-1", operation="Converse", where=f"line {number}")  # fmt: skip
        prepared = prepare(call, usage, catalog)
        assert prepared is not None
        made.append((call, prepared))
    return made


def sequential(calls: list[Call], settings: Settings = SETTINGS) -> dict[str, Spend]:
    replays = Replays(settings)
    for call, prepared in calls:
        replays.add(call, prepared)
    return replays.finish()


def windowed(
    calls: list[Call],
    size: int,
    settings: Settings = SETTINGS,
    edges: list[tuple[int, int]] | None = None,
    warm_up: float | None = None,
) -> tuple[Spends, int]:
    """The calls replayed in windows of `size` calls (or from `edges`), each warmed up on the calls before it, and
    joined by the audit's rule (see windowing.py)."""
    edges = edges or [(start, min(start + size, len(calls))) for start in range(0, len(calls), size)]
    lanes = [windowing.ReplayLane(Replays(settings)) for _ in edges]
    parts = [windowing.window(lane, calls[:a], calls[a:b], warm_up) for lane, (a, b) in zip(lanes, edges, strict=True)]
    results, back, joined = windowing.joined(parts)
    return windowing.spends(results, back), joined


@pytest.mark.parametrize(("seed", "size"), [(1, 9), (2, 30)])
def test_windows_add_up_to_the_sequential_replay(seed: int, size: int) -> None:
    calls = traffic(seed)
    expected = sequential(calls)
    assert any(spend.hits for spend in expected.values()) and any(spend.wasted_tokens for spend in expected.values())
    spends, joined = windowed(calls, size)
    assert spends == expected
    assert joined == 0  # on calls logged in time order, every warm-up rebuilt the cache


def test_a_warm_up_too_short_joins_the_windows_and_the_sum_stays_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a 60 s warm-up, a 1h system entry alive at a window's start is missing from its replay: that window is
    joined to the one before (counted once, by the replay that saw every call), and the sum is still exact."""
    calls = traffic(1)
    expected = sequential(calls)
    monkeypatch.setattr(windowing, "WARM_UP_CALLS", 0)
    spends, joined = windowed(calls, 20, warm_up=60.0)
    assert joined > 0
    assert spends == expected


def test_replays_moved_to_another_process_carry_on_as_if_never_moved() -> None:
    """Dask moves a partition's audit between workers by pickling it: what the replays keep by the id of a cache
    entry (the reads of each write, the as-sent lengths) is handed over by entry, whose id changes."""
    calls = traffic(2)
    expected = sequential(calls)
    replays = Replays(SETTINGS)
    for number, (call, prepared) in enumerate(calls):
        if number % 40 == 20:
            replays = pickle.loads(pickle.dumps(replays))
        replays.add(call, prepared)
    assert replays.finish() == expected


def test_an_as_sent_read_longer_than_its_entry_takes_back_waste_the_window_before_counted() -> None:
    """As sent, a read is matched to the live entry nearest its logged length, and may be longer than it: here the
    fourth call reads 2,108 tokens where the entry is 2,102 long, which covers the first call's question too. The
    window before it hands that write over open, and the read takes its waste back (found by review)."""
    catalog, system = Catalog(), text_of(2_100, "rule")
    calls = []
    for number, (at, question, read, write_1h) in enumerate(
        [(0.0, "Question A", 0, 2_102), (100.0, "Question C", 2_102, 0), (1_000.0, "Question D", 2_102, 0),
         (2_000.0, "Question A", 2_108, 0)]
    ):  # fmt: skip
        request = {"system": [{"text": system}, HOUR_CP], "messages": [user(question, CP)]}
        usage = Usage.of(output=20, read=read, write_5m=6 if number < 3 else 0, write_1h=write_1h)
        call = LoggedCall("user", at, SONNET, request, usage, None, account="111122223333", region="us-east-1",
                          operation="Converse", where=f"line {number}")  # fmt: skip
        prepared = prepare(call, usage, catalog)
        assert prepared is not None
        calls.append((call, prepared))
    as_sent = {"as sent": SETTINGS["as sent"]}  # alone: the figures are the as-sent replay's
    expected = sequential(calls, as_sent)
    assert expected["as sent"].wasted_tokens == 12  # the questions of C and D, never read; A's was read by its repeat
    assert windowed(calls, 2, as_sent)[0] == expected


def test_an_empty_window_is_carried_through_without_joining_the_next() -> None:
    """A window with no calls (a piece with none of a partition's) begins nowhere, so the window before is carried
    through it: the sum stays exact, and the window after it still stands on its own."""
    calls = traffic(2)
    edges = [(0, 30), (30, 30), (30, 60), (60, len(calls))]
    spends, joined = windowed(calls, 0, edges=edges)
    assert spends == sequential(calls)
    assert joined == 0


class Recorded:
    """A Host of windows named by number that remembers what the Joiner asked of it: each lane's state is "same"
    (as the window after began) unless `stale` says otherwise, and a window in `lost` raises when asked."""

    def __init__(self) -> None:
        self.told: list[tuple[Any, ...]] = []
        self.stale: set[tuple[int, str]] = set()  # (window, lane): its state is not the one the next window began in
        self.lost: set[int] = set()

    def edges(self, window: int, wanted: windows.Wanted) -> dict[str, windows.Edge]:
        self.told.append(("edges", window, {name: at for name, (at, _) in wanted.items()}))
        if window in self.lost:
            raise RuntimeError("its worker died")
        return {name: windows.Edge("stale" if (window, name) in self.stale else "same", {}) for name in wanted}

    def carry(self, before: int, window: int, names: set[str]) -> None:
        self.told.append(("carry", before, window, sorted(names)))

    def finish(self, window: int, name: str, count: int) -> None:
        self.told.append(("finish", window, name, count))

    def lose(self, name: str, count: int, exc: Exception) -> None:
        self.told.append(("lose", name, count))


def test_each_lane_is_compared_with_the_window_that_holds_it() -> None:
    """Two lanes held by different windows: lane a by window 1 (window 0's finished there), lane b by window 0 (window
    1 has none of it). Window 2 asks each holder for its own lane, finishes a and carries b; at the end, each last lane
    is asked of its holder at math.inf (no call comes after) and finished with every record it counted."""
    host = Recorded()
    host.stale = {(0, "b")}
    joiner = windows.Joiner[int](host)
    joiner.add(0, {"a": (0.0, "same"), "b": (1.0, "same")}, {"a": 3, "b": 2})
    joiner.add(1, {"a": (10.0, "same")}, {"a": 4})
    joiner.add(2, {"a": (20.0, "same"), "b": (21.0, "same")}, {"a": 5, "b": 6})
    joiner.finish()
    assert host.told == [
        ("edges", 0, {"a": 10.0}),
        ("finish", 0, "a", 3),
        ("edges", 1, {"a": 20.0}),
        ("finish", 1, "a", 4),
        ("edges", 0, {"b": 21.0}),
        ("carry", 0, 2, ["b"]),
        ("edges", 0, {"b": math.inf}),
        ("finish", 0, "b", 2 + 6),
        ("edges", 2, {"a": math.inf}),
        ("finish", 2, "a", 5),
    ]
    assert joiner.joined == 6


def test_a_window_lost_when_asked_loses_its_lanes_with_what_they_carried_and_carries_no_more() -> None:
    """Window 0's lane b carried on through window 1; then window 0 is lost when window 2 asks it for lane a. Its
    lanes are lost with every record they counted (b: its 2 and window 1's 5), and lane b, which has no call with a
    time in window 2, is not carried into the lost window (it was: a KeyError ended the whole audit); window 2's
    own lanes stand."""
    host = Recorded()
    host.stale = {(0, "b")}
    joiner = windows.Joiner[int](host)
    joiner.add(0, {"a": (0.0, "same"), "b": (1.0, "same")}, {"a": 3, "b": 2})
    joiner.add(1, {"b": (11.0, "same")}, {"b": 5})
    host.lost = {0}
    joiner.add(2, {"a": (20.0, "same")}, {"a": 6, "b": 1})
    joiner.finish()
    assert host.told == [
        ("edges", 0, {"b": 11.0}),
        ("carry", 0, 1, ["b"]),
        ("edges", 0, {"a": 20.0}),
        ("lose", "a", 3),
        ("lose", "b", 2 + 5),
        ("edges", 2, {"a": math.inf, "b": math.inf}),
        ("finish", 2, "a", 6),
        ("finish", 2, "b", 1),
    ]
    assert joiner.joined == 5
