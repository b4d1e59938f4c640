"""The planner's fast core: the same rules as the cache engine, for the layouts the planner builds, on plain ints.

The general simulation (simulate.py) builds a Prompt and runs every call through PromptCache, which knows any
request. The planner's requests have a known shape: a shared prefix (tools, system) and one growing conversation
per user, with at most four points at known places. So the state here is two dicts of positions (the shared
prefix's entries, and each conversation's), and a call is a few comparisons: no objects, no keys to hash. It is
checked against the general simulation by a differential property test (tests/test_planner_fast.py).
"""

from __future__ import annotations

from collections.abc import Callable

from ..rules import LOOKBACK_BLOCKS, TTL_SECONDS, Catalog
from .simulate import PlanResult, Tally, _no_cycle_collection, _Shared, traffic
from .workload import Workload

HOUR, FIVE = TTL_SECONDS["1h"], TTL_SECONDS["5m"]


def _points(
    approach: str, ttl: str, tools: int, shared: int, previous: int, end: int, after_tool: bool
) -> list[tuple[int, int]]:
    """(position, TTL in seconds) of each point, as simulate._layout places them."""
    if approach in ("rolling", "shape"):
        last = (HOUR if after_tool else FIVE) if approach == "shape" else TTL_SECONDS[ttl]
        earlier = HOUR if approach == "shape" else TTL_SECONDS[ttl]
        points = [(shared, earlier)]
        if shared < previous < end:
            points.append((previous, earlier))
        points.append((end, last))
        return points
    seconds = TTL_SECONDS[ttl]
    points = []
    if approach in ("explicit", "combined") and tools:
        points.append((tools, seconds))
    if approach != "none":
        points.append((shared, seconds))
    if approach in ("automatic", "combined"):
        points.append((end, seconds))
    return points


@_no_cycle_collection()
def simulate_fast(
    workload: Workload, approach: str, ttl: str, progress: Callable[[int], None] | None = None
) -> PlanResult:
    """The same PlanResult as simulate(), computed on positions and times only."""
    model = Catalog().find(workload.model)
    assert model is not None, "Workload.check guarantees a known model"
    minimum, lookback = model.min_tokens, LOOKBACK_BLOCKS
    shared = _Shared.of(workload)
    tools, ends_shared, shared_tokens = len(shared.blocks) - 1, len(shared.blocks), shared.tokens
    output_step = workload.reply_tokens * workload.parallel_tool_calls
    # position -> [expires at, TTL seconds]: the shared prefix's entries, and each user's conversation's
    common: dict[int, list[float]] = {}
    mine: dict[int, dict[int, list[float]]] = {}
    tally, first_session, turn_tally = Tally(), [], Tally()
    calls = hits = regular = read_sum = write_5m_sum = write_1h_sum = output = write_shared = 0  # the tally, as locals
    for call in traffic(workload, shared, progress, light=True):
        user, now = call.user, call.at
        cumulative = user.cumulative
        end = len(cumulative) - 1
        if call.starts_session:
            mine[user.key] = {}
        conversation = mine[user.key]
        points = _points(approach, ttl, tools, ends_shared, user.previous_end, end, call.after_tool)

        # Look up: later points first, each at its own boundary then back over the lookback (cache.lookup).
        read = 0
        for position, _ in reversed(points):
            for p in range(position, max(0, position - lookback - 1), -1):
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
            if position > read and cumulative[position] >= minimum:
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
        written = write_1h + write_5m
        out = workload.reply_tokens if call.ends_turn else output_step
        fresh = min(shared_tokens, read_tokens + written) - read_tokens
        calls += 1
        hits += read_tokens > 0
        regular += cumulative[-1] - read_tokens - written
        read_sum += read_tokens
        write_5m_sum += write_5m
        write_1h_sum += write_1h
        output += out
        write_shared += fresh if fresh > 0 else 0
        if call.watched:
            turn_tally.calls += 1
            turn_tally.hits += read_tokens > 0
            turn_tally.regular += cumulative[-1] - read_tokens - written
            turn_tally.read += read_tokens
            turn_tally.write_5m += write_5m
            turn_tally.write_1h += write_1h
            turn_tally.output += out
            turn_tally.write_shared += fresh if fresh > 0 else 0
            if call.ends_turn:
                first_session.append(turn_tally)
                turn_tally = Tally()
        if call.ends_session:  # nothing will read this conversation again
            del mine[user.key]
    tally = Tally(calls, hits, regular, read_sum, write_5m_sum, write_1h_sum, output, write_shared)
    return PlanResult(workload, approach, ttl, tally, first_session=first_session)
