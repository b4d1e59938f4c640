"""The planner's fast core: the same rules as the cache engine, for the layouts the planner builds, on plain ints.

The general simulation (simulate.py) builds a Prompt and runs every call through PromptCache, which knows any
request. The planner's requests have a known shape: a shared prefix (tools, system) and one growing conversation
per user, with at most four points at known places. So the state here is two dicts of positions (the shared
prefix's entries, and each conversation's), and a call is a few comparisons: no objects, no keys to hash.

Where the points go is not re-stated: `_points` asks the approach registry (rules/approaches.py), as simulate does.
The look-up, the refresh and the 1h/5m write split in `_Run.step` are a documented specialisation of
`PromptCache.lookup` and `PromptCache.commit` (rules/cache.py), inlined on ints because a plan runs them millions of
times; they are pinned to the engine by a differential property test over every approach of the registry
(tests/planner/test_planner_fast.py): change one, and that test names the workload where they part.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from ..pricing import cost_of
from ..rules import LOOKBACK_BLOCKS, TTL_SECONDS, Catalog
from ..rules.approaches import Shape
from ..rules.approaches import approach as find_approach
from .simulate import PlanResult, Tally, _Call, _no_cycle_collection, _Shared, traffic
from .workload import Workload

HOUR, FIVE = TTL_SECONDS["1h"], TTL_SECONDS["5m"]


@lru_cache(maxsize=4096)  # calls of the same shape recur across users: the same points, built once
def _points(
    approach: str, ttl: str, tools: int, shared: int, previous: int, end: int, after_tool: bool
) -> tuple[tuple[int, int], ...]:
    """(position, TTL in seconds) of each point the approach places (as simulate does, from the same registry)."""
    shape = Shape(tools, shared, previous, end, after_tool)
    return tuple((point.position, point.ttl.seconds) for point in find_approach(approach).points(shape, ttl))


class _Run:
    """One approach and TTL on the fast core: the cache's state and the tally, told of one call after another."""

    def __init__(
        self, workload: Workload, approach: str, ttl: str, minimum: int, shared: _Shared, timeline: bool = False
    ) -> None:
        self.workload, self.approach, self.ttl, self.minimum = workload, approach, ttl, minimum
        self.tools, self.ends_shared, self.shared_tokens = len(shared.blocks) - 1, len(shared.blocks), shared.tokens
        # position -> [expires at, TTL seconds]: the shared prefix's entries, and each user's conversation's
        self.common: dict[int, list[float]] = {}
        self.mine: dict[int, dict[int, list[float]]] = {}
        self.tally, self.turn, self.first_session = Tally(), Tally(), list[Tally]()
        # minute of simulated time -> its calls' tokens, when asked for (the HTML report's chart of spend over time)
        self.minutes: dict[int, Tally] | None = {} if timeline else None
        self.output_last, self.output_tools = (
            workload.reply_tokens,
            workload.reply_tokens * workload.parallel_tool_calls,
        )

    def step(self, call: _Call) -> None:
        now, user, starts_session, ends_turn, ends_session, watched, after_tool = call
        ends_shared, common = self.ends_shared, self.common
        cumulative = user.cumulative
        end = len(cumulative) - 1
        if starts_session:
            self.mine[user.key] = {}
        conversation = self.mine[user.key]
        points = _points(self.approach, self.ttl, self.tools, ends_shared, user.previous_end, end, after_tool)

        # Look up: later points first, each at its own boundary then back over the lookback (cache.lookup).
        read = 0
        for position, _ in reversed(points):
            for p in range(position, max(0, position - LOOKBACK_BLOCKS - 1), -1):
                entry = conversation.get(p) if p > ends_shared else common.get(p)
                if entry is not None and entry[0] > now:
                    read = p
                    break
            if read:
                break
        # Refresh what was read: the entry, and this request's points inside it (cache.commit).
        if read:
            entry = conversation.get(read) if read > ends_shared else common.get(read)
            if entry is not None and entry[0] > now:
                entry[0] = now + entry[1]
            for position, _ in points:
                if position < read:
                    entry = conversation.get(position) if position > ends_shared else common.get(position)
                    if entry is not None and entry[0] > now:
                        entry[0] = now + entry[1]
        # Write at every point past the read that reaches the minimum; TTLs never increase along the prompt.
        last_hour = last_five = 0
        for position, seconds in points:
            if position > read and cumulative[position] >= self.minimum:
                (conversation if position > ends_shared else common)[position] = [now + seconds, seconds]
                if seconds == HOUR:
                    last_hour = position
                else:
                    last_five = position
        read_tokens = cumulative[read]
        end_hour = read if read > last_hour else last_hour
        end_all = end_hour if end_hour > last_five else last_five
        write_1h = cumulative[end_hour] - read_tokens
        write_5m = cumulative[end_all] - cumulative[end_hour]
        regular = cumulative[-1] - read_tokens - write_1h - write_5m
        output = self.output_last if ends_turn else self.output_tools
        cached = read_tokens + write_1h + write_5m
        fresh = (self.shared_tokens if cached > self.shared_tokens else cached) - read_tokens  # of the shared prefix
        fresh = fresh if fresh > 0 else 0
        self.tally.count(read_tokens, regular, write_5m, write_1h, output, fresh)
        if self.minutes is not None:
            minute = int(now // 60)
            counts = self.minutes.get(minute)
            if counts is None:
                counts = self.minutes[minute] = Tally()
            counts.count(read_tokens, regular, write_5m, write_1h, output, fresh)
        if watched:
            self.turn.count(read_tokens, regular, write_5m, write_1h, output, fresh)
        if watched and ends_turn:
            self.first_session.append(self.turn)
            self.turn = Tally()
        if ends_session:  # nothing will read this conversation again
            del self.mine[user.key]

    def result(self) -> PlanResult:
        model = self.workload.model
        spend = {minute: float(cost_of(t.usage(), model).total) for minute, t in (self.minutes or {}).items()}
        return PlanResult(
            self.workload, self.approach, self.ttl, self.tally, first_session=self.first_session, spend=spend
        )


@_no_cycle_collection()
def simulate_runs(
    workload: Workload,
    pairs: list[tuple[str, str]],
    progress: Callable[[int], None] | None = None,
    timeline: bool = False,
) -> list[PlanResult]:
    """simulate() for each (approach, ttl) in `pairs`, in one pass over the traffic (made once for all of them);
    `progress(n)` is told of n simulated calls, counting each run's. With `timeline`, each result's `spend` has the
    USD spent in each minute of simulated time."""
    model = Catalog().find(workload.model)
    assert model is not None, "Workload.check guarantees a known model"
    shared = _Shared.of(workload)
    runs = [_Run(workload, approach, ttl, model.min_tokens, shared, timeline) for approach, ttl in pairs]
    told = None if progress is None else lambda n: progress(n * len(runs))
    steps = [run.step for run in runs]
    for call in traffic(workload, shared, told, light=True):
        for step in steps:
            step(call)
    return [run.result() for run in runs]


def simulate_fast(
    workload: Workload, approach: str, ttl: str, progress: Callable[[int], None] | None = None
) -> PlanResult:
    """The same PlanResult as simulate(), computed on positions and times only."""
    return simulate_runs(workload, [(approach, ttl)], progress)[0]
