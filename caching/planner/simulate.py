"""Simulate a workload's traffic on the emulator's cache engine: no Strands, no network, reproducible from a seed.

Each user runs sessions one after another; each session's turns are spaced by the workload's pauses, and users
interleave on one timeline, sharing the tools and system prompt (one account). A turn is a user message, then
`calls_per_turn` model calls: every call but the last replies with a tool call and gets a tool result back; the last
replies with text. Cache points go where the approach's entry puts them (caching/rules/approaches.py).
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from ..pricing import Cost, cost_of, prices_for
from ..rules import Block, Catalog, Place, Prompt, PromptCache, prefix_digests
from ..rules.approaches import Shape
from ..rules.approaches import approach as find_approach
from ..rules.oracle import Chain
from ..rules.tokens import MESSAGE_FRAMING_TOKENS
from ..rules.uncertainty import EXACT, Uncertainty
from ..rules.usage import Usage
from .workload import Workload

ACCOUNT = "planner"


@dataclass
class Tally:
    """Token totals of many calls, by kind, and how many calls read something: a running Usage (`usage()`), kept as
    plain ints because the fast core counts a million calls a run (a Usage built and added per call took twice as
    long as the call's simulation)."""

    calls: int = 0
    hits: int = 0
    regular: int = 0
    read: int = 0
    write_5m: int = 0
    write_1h: int = 0
    output: int = 0
    write_shared: int = 0

    @property
    def prompt(self) -> int:
        return self.regular + self.read + self.write_5m + self.write_1h

    def count(self, read: int, regular: int, write_5m: int, write_1h: int, output: int, write_shared: int) -> None:
        """Add one call's tokens."""
        self.calls += 1
        self.hits += read > 0
        self.regular += regular
        self.read += read
        self.write_5m += write_5m
        self.write_1h += write_1h
        self.output += output
        self.write_shared += write_shared

    def add(self, usage: Usage) -> None:
        """Add a Usage's tokens (not a call: the oracle adds each chain's cheapest path)."""
        self.regular += usage.inputTokens
        self.read += usage.cacheReadInputTokens
        self.write_1h += usage.written("1h")
        self.write_5m += usage.cacheWriteInputTokens - usage.written("1h")
        self.output += usage.outputTokens

    def usage(self) -> Usage:
        return Usage.of(
            regular=self.regular, output=self.output, read=self.read, write_5m=self.write_5m, write_1h=self.write_1h
        )


@dataclass
class PlanResult:
    """One approach and TTL on one workload: its token tally, the oracle's, and the first session turn by turn."""

    workload: Workload
    approach: str
    ttl: str
    tally: Tally
    oracle: Tally | None = None
    first_session: list[Tally] = field(default_factory=list)
    spend: dict[int, float] = field(default_factory=dict)  # minute of simulated time -> USD (when asked for)

    @property
    def cost(self) -> Cost:
        return cost_of(self.tally.usage(), self.workload.model)

    @property
    def oracle_cost(self) -> Cost:
        if self.oracle is None:
            raise ValueError("This result has no oracle tally: compute one with planner.oracle(workload).")
        return cost_of(self.oracle.usage(), self.workload.model)

    @property
    def share_of_best(self) -> float:
        """This approach's input savings as a fraction of the best the rules allow."""
        best = self.oracle_cost.uncached_input - self.oracle_cost.input
        return float((self.cost.uncached_input - self.cost.input) / best) if best > 0 else 0.0

    def pays_from_turn(self) -> int | None:
        """The first turn of the first session after which caching has cost less in all than no caching."""
        spent = uncached = Decimal(0)
        for number, turn in enumerate(self.first_session, start=1):
            cost = cost_of(turn.usage(), self.workload.model)
            spent, uncached = spent + cost.total, uncached + cost.uncached_input + cost.output
            if spent < uncached:
                return number
        return None


@dataclass
class _User:
    """One user's current conversation: its blocks, the key of each prefix, and cumulative token counts."""

    key: int
    rng: random.Random
    session: int = 0
    turn: int = 0
    call: int = 0  # the next call's place in its turn
    blocks: list[Block] = field(default_factory=list)
    digests: list[str] = field(default_factory=list)
    cumulative: list[int] = field(default_factory=list)
    messages: int = 0
    previous_end: int = 0  # blocks in the previous call's request (where the rolling strategies put a point)
    light: bool = False  # counts only (the fast core): no Block objects, no keys

    def add(self, tokens: int, blocks: int = 1) -> None:
        """Add one message of `blocks` blocks of `tokens` each (user and assistant take turns)."""
        for index in range(blocks):
            size = tokens + (MESSAGE_FRAMING_TOKENS if index == 0 else 0)  # framing goes with a message's first block
            if not self.light:
                # A session's blocks are its own, so "user/session/length" names each of its prefixes uniquely: the
                # cache needs a key per prefix, and this one costs no hashing.
                self.blocks.append(Block(Place.content(self.messages, index), size, b""))
                self.digests.append(f"{self.key}/{self.session}/{len(self.blocks)}")
            self.cumulative.append(self.cumulative[-1] + size)
        self.messages += 1


@dataclass(frozen=True)
class _Shared:
    """The prefix every call starts with: the tools (if any) and the system prompt."""

    blocks: list[Block]
    digests: list[str]

    @classmethod
    def of(cls, workload: Workload) -> _Shared:
        blocks = [Block(Place.tool(0), workload.tool_tokens, b"tools")] if workload.tool_tokens else []
        blocks.append(Block(Place.system(0), workload.system_tokens, b"system"))
        return cls(blocks, prefix_digests(Prompt(tuple(blocks), ())))

    @property
    def tokens(self) -> int:
        return sum(block.tokens for block in self.blocks)


class _Call(NamedTuple):
    at: float
    user: _User
    starts_session: bool
    ends_turn: bool
    ends_session: bool
    watched: bool  # part of the first session to start (on a cold cache), reported turn by turn
    after_tool: bool  # the request ends with tool results (not the user's question)


def traffic(
    workload: Workload, shared: _Shared, progress: Callable[[int], None] | None = None, light: bool = False
) -> Iterator[_Call]:
    """Every model call of the workload in time order, with the caller's conversation as it is at that call.

    Users arrive at random within `arrivals_over`; sessions follow each other after a pause, turns likewise, each
    pause counted from the turn's last reply. Inside a turn, the next call comes after the model's reply and the
    tools' run (model_latency, tool_latency). Each user draws from its own random stream, so the timeline is the same
    whatever is done with it.
    """
    users = [_User(u, random.Random(f"{workload.seed}/{u}"), light=light) for u in range(workload.users)]
    # (time, 0 for a call inside a turn or 1 for a turn's first, user): at equal times a turn goes on before another
    # begins, so with no latency a turn's calls follow each other at one time.
    queue = [(user.rng.uniform(0, workload.arrivals_over), 1, u) for u, user in enumerate(users)]
    heapq.heapify(queue)
    first = queue[0][2]  # the user who arrives first meets a cold cache
    pending = 0
    while queue:
        now, _, u = heapq.heappop(queue)
        user = users[u]
        while True:  # this user's calls, for as long as the next one comes before anything else in the queue
            starts_session = user.turn == 0 and user.call == 0
            if starts_session:  # a fresh conversation after the shared prefix
                user.blocks, user.digests = list(shared.blocks), list(shared.digests)
                user.cumulative = [0, *itertools.accumulate(block.tokens for block in shared.blocks)]
                user.messages = 0
                user.previous_end = 0
            if user.call == 0:
                user.add(workload.user_message_tokens)
            last = user.call + 1 == workload.calls_per_turn
            ends_session = last and user.turn + 1 == workload.turns_per_session
            watched = user.session == 0 and u == first
            yield _Call(now, user, starts_session, last, ends_session, watched, user.call > 0)
            pending += 1
            if progress is not None and pending >= 1_000:
                progress(pending)
                pending = 0
            user.previous_end = len(user.cumulative) - 1
            replied = now + workload.model_latency.draw(user.rng)
            if last:
                break
            # The reply asked for tools; their results come back as the next user message.
            user.add(workload.reply_tokens, workload.parallel_tool_calls)
            user.add(workload.tool_result_tokens, workload.parallel_tool_calls)
            user.call += 1
            following = (replied + workload.tool_latency.draw(user.rng), 0, u)
            if queue and queue[0] < following:
                heapq.heappush(queue, following)
                break
            now = following[0]
        if last:
            user.add(workload.reply_tokens)
            user.call = 0
            if ends_session:
                user.session, user.turn = user.session + 1, 0
                if user.session < workload.sessions_per_user:
                    heapq.heappush(queue, (replied + workload.pause_between_sessions.draw(user.rng), 1, u))
            else:
                user.turn += 1
                heapq.heappush(queue, (replied + workload.pause_between_turns.draw(user.rng), 1, u))
    if progress is not None and pending:
        progress(pending)


def shape_of(tools: int, shared: int, user: _User, call: _Call) -> Shape:
    """The call's request as the registry's approaches see it: the tools (0 or 1 block), the shared prefix, where the
    previous request ended (its last user message), and where this one ends (the last user message)."""
    return Shape(tools, shared, user.previous_end, len(user.cumulative) - 1, call.after_tool)


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector: the simulation makes millions of small objects and no cycles, and without
    this the collector's passes over every live object make a long run slower per call as it grows."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@_no_cycle_collection()
def simulate(
    workload: Workload,
    approach: str,
    ttl: str,
    progress: Callable[[int], None] | None = None,
    uncertainty: Uncertainty = EXACT,
) -> PlanResult:
    """Run every call of `workload` through a PromptCache (under `uncertainty`: the exact rules by default);
    `progress(n)` is told after every n calls."""
    model = Catalog().find(workload.model)
    assert model is not None, "Workload.check guarantees a known model"
    now = [0.0]
    cache = PromptCache(lambda: now[0], sweeping=False, uncertainty=uncertainty)
    shared = _Shared.of(workload)
    tools, ends_shared, shared_tokens = len(shared.blocks) - 1, len(shared.blocks), shared.tokens
    tally, first_session, turn_tally = Tally(), [], Tally()
    entry = find_approach(approach)
    for call in traffic(workload, shared, progress):
        now[0], user = call.at, call.user
        points = entry.checkpoints(shape_of(tools, ends_shared, user, call), ttl, user.blocks)
        prompt = Prompt(tuple(user.blocks), points, tuple(user.cumulative))
        result = cache.apply(prompt, model, workload.model, ACCOUNT, user.digests, explain=False)
        output = workload.reply_tokens * (1 if call.ends_turn else workload.parallel_tool_calls)
        write_shared = max(0, min(shared_tokens, result.read_tokens + result.write_tokens) - result.read_tokens)
        for counts in (tally, turn_tally) if call.watched else (tally,):
            counts.count(
                result.read_tokens,
                result.input_tokens,
                result.write_5m_tokens,
                result.write_1h_tokens,
                output,
                write_shared,
            )
        if call.watched and call.ends_turn:
            first_session.append(turn_tally)
            turn_tally = Tally()
        if call.ends_session:  # nothing will read this conversation again: drop its entries
            cache.forget(workload.model, user.digests[ends_shared + 1 :])  # digests[i] is the prefix of i blocks
    return PlanResult(workload, approach, ttl, tally, first_session=first_session)


@_no_cycle_collection()
def oracle(workload: Workload, progress: Callable[[int], None] | None = None) -> Tally:
    """The same traffic sent the cheapest way the rules allow (see rules/oracle.py); the same for every approach."""
    model = Catalog().find(workload.model)
    assert model is not None, "Workload.check guarantees a known model"
    weights = prices_for(workload.model).weights
    shared = _Shared.of(workload)
    shared_tokens = shared.tokens
    # The oracle caches the shared prefix on its own when it can; otherwise it rides along with each history.
    own_chain = shared_tokens >= model.min_tokens
    shared_chain, histories, tally = Chain(model.min_tokens, weights), {}, Tally()
    for call in traffic(workload, shared, progress, light=True):
        if call.starts_session:
            histories[call.user.key] = Chain(model.min_tokens, weights)
        history = histories[call.user.key]
        total = call.user.cumulative[-1]
        if own_chain:
            shared_chain.use(call.at, shared_tokens)
            history.use(call.at, total - shared_tokens, shared_tokens, call.ends_session)
        else:
            history.use(call.at, total, 0, call.ends_session)
        tally.calls += 1
        tally.output += workload.reply_tokens * (1 if call.ends_turn else workload.parallel_tool_calls)
        if call.ends_session:
            tally.add(histories.pop(call.user.key).best())
    tally.add(shared_chain.best())
    return tally
