"""Logged traffic replayed on the rules engine: as it was sent (`AsLogged`: what was paid, and which writes were
never read, from the logged counts), with each approach and TTL of the registry placing the cache points instead,
and through the oracle (the best the rules allow). The alternatives' token counts are the offline estimate of each
prefix, scaled so every call's prompt matches its logged total.
"""

from __future__ import annotations

import copy
import heapq
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from ..pricing import Cost, cost_of, prices_for
from ..rules import (
    API,
    TTL,
    CacheResult,
    Catalog,
    ModelInfo,
    Prompt,
    PromptCache,
    RequestRejected,
)
from ..rules.approaches import Approach, Shape
from ..rules.approaches import approach as find_approach
from ..rules.memo import Linearizer
from ..rules.messages import converse_form
from ..rules.oracle import Chain
from ..rules.places import TOOLS
from ..rules.prompt import blocks_before, nearest_positions
from ..rules.usage import Usage
from .logs import LoggedCall

SETTLE_EVERY = 1_000  # calls between two settlings of writes whose entries have all expired


class Prepared(NamedTuple):
    """A logged call's prompt as sent, scaled to its logged total, and its shape (where the tools, the system prompt,
    the previous and the last user message end), on which each approach places its points."""

    prompt: Prompt
    digests: list[str]
    model: ModelInfo
    request: dict[str, Any]  # in Converse's shape
    estimate: Prompt  # unscaled, as the doctor reads it
    output: int  # output tokens, as logged
    shape: Shape


def prepare(call: LoggedCall, usage: Usage, catalog: Catalog, linearizer: Linearizer | None = None) -> Prepared | None:
    """Linearize a logged call once (None: no body, an unknown model, or a request Bedrock would reject).
    A `Linearizer` walks only what a call adds to an earlier one of its conversation."""
    model = catalog.find(call.model_id)
    if model is None or call.request is None or call.error:
        return None
    try:
        request = converse_form(call.request) if call.api == API.INVOKE else call.request
        estimate, digests = (linearizer or Linearizer(0))(request, model, call.api)
    except (RequestRejected, TypeError, KeyError, AttributeError, ValueError):
        return None
    scale = usage.prompt_tokens / estimate.total_tokens if usage.prompt_tokens and estimate.total_tokens else 1.0
    scaled = tuple(map(round, map(scale.__mul__, estimate.cumulative)))
    prompt = Prompt(estimate.blocks, estimate.checkpoints, scaled, estimate.variant)
    places = [block.place for block in itertools.takewhile(lambda b: b.place.message is None, prompt.blocks)]
    system_end = len(places)  # the tools, then the system prompt, come first
    tools_end = sum(1 for place in places if place.section == TOOLS)
    messages = request.get("messages", [])
    users = [i for i, message in enumerate(messages) if _role(message) == "user"]
    user_end = blocks_before(prompt, users[-1] + 1) if users else 0
    previous_end = blocks_before(prompt, users[-2] + 1) if len(users) > 1 else 0
    content = messages[users[-1]].get("content") if users else None
    after_tool = isinstance(content, list) and any(isinstance(b, dict) and "toolResult" in b for b in content)
    shape = Shape(tools_end, system_end, previous_end, user_end, after_tool)
    return Prepared(prompt, digests, model, request, estimate, usage.outputTokens, shape)


def _role(message: Any) -> Any:
    return message.get("role") if isinstance(message, dict) else None


def layout(prepared: Prepared, approach: Approach, ttl: str) -> Prompt:
    """The prompt with the cache points `approach` places (none: no points), in place of its own."""
    prompt = prepared.prompt
    points = approach.checkpoints(prepared.shape, ttl, prompt.blocks)
    return Prompt(prompt.blocks, points, prompt.cumulative, prompt.variant)


@dataclass
class Spend:
    """What a replay of some calls cost, by kind of token, and the writes no later call read."""

    calls: int = 0
    hits: int = 0
    wasted_tokens: int = 0
    wasted: Decimal = Decimal(0)
    tokens: dict[str, Usage] = field(default_factory=dict)  # per model id, priced once at the end

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


EMPTY = Usage()


@dataclass
class _Written:
    """The entries one call wrote, the tokens up to each, where its write began, and (as logged) how many of the
    written tokens were 5m ones: they come last, since TTLs never increase along the prompt."""

    entries: list[tuple[Any, int, TTL]]
    start: int
    model_id: str
    five_minute: int | None = None  # None: the TTL of the entry at the end says it


class Replays:
    """The calls replayed under several settings at once: name -> (approach, ttl), approach None for the cache
    points as sent. Settings that have placed the same cache points on every call so far have the same cache, so
    they share one `Replay`; a call that places them differently splits it."""

    def __init__(self, settings: dict[str, tuple[str | None, str]]) -> None:
        self.settings = settings
        # The cache points as sent are replayed on the logged counts, each on its own; the rest share a replay.
        logged = [name for name, (approach, _) in settings.items() if approach is None]
        shared = [name for name in settings if name not in logged]
        self._groups: list[tuple[list[str], Replay]] = [([name], AsLogged()) for name in logged]
        if shared:
            self._groups.append((shared, Replay()))

    def add(self, call: LoggedCall, prepared: Prepared) -> None:
        groups = []
        for names, replay in self._groups:
            if len(names) == 1:  # a setting on its own replay: nothing to compare it with
                replay.add(call, prepared, self._prompt(prepared, names[0]))
                groups.append((names, replay))
                continue
            by_points: dict[tuple[tuple[int, str], ...], tuple[Prompt, list[str]]] = {}
            for name in names:
                prompt = self._prompt(prepared, name)
                points = tuple((point.position, point.ttl) for point in prompt.checkpoints)
                by_points.setdefault(points, (prompt, []))[1].append(name)
            parts = list(by_points.values())
            replays = [replay.copy() for _ in parts[1:]] + [replay]  # copied before the call moves any of them on
            for (prompt, members), each in zip(parts, replays, strict=True):
                each.add(call, prepared, prompt)
                groups.append((members, each))
        self._groups = groups

    def _prompt(self, prepared: Prepared, name: str) -> Prompt:
        """The call's prompt with the cache points of setting `name`."""
        approach, ttl = self.settings[name]
        return prepared.prompt if approach is None else layout(prepared, find_approach(approach), ttl)

    def finish(self) -> dict[str, Spend]:
        """Each setting's spend (settings that never split share theirs)."""
        spends = {}
        for names, replay in self._groups:
            spend = replay.finish()
            spends.update(dict.fromkeys(names, spend))
        return {name: spends[name] for name in self.settings}


class Replay:
    """Calls replayed in order on one PromptCache, each with the cache points it is given."""

    def __init__(self) -> None:
        self.cache = PromptCache(lambda: 0.0)
        self.spend = Spend()
        # Writes not yet settled, in a heap by when the last of their entries expires (as far as is known: a read
        # may have refreshed one since), and the entries read so far (by id), each with the tokens a read took.
        self._pending: list[tuple[float, int, _Written]] = []
        self._read: dict[int, int] = {}

    def copy(self) -> Replay:
        """An independent replay in the same state."""
        memo: dict[int, Any] = {}
        twin = copy.deepcopy(self, memo)  # an entry in the cache and in the pending writes stays one object
        twin._read = {id(memo[old]): tokens for old, tokens in self._read.items() if old in memo}  # kept by id
        return twin

    def add(self, call: LoggedCall, prepared: Prepared, prompt: Prompt) -> None:
        """Replay one call (prepared once for every replay) with `prompt`'s cache points."""
        digests, model = prepared.digests, prepared.model
        account, model_id, now = call.account, call.model_id, call.at
        read_at = self.cache.lookup(prompt, model_id, account, digests, now)
        self._note_read(model_id, digests, account, read_at, prompt.cumulative[read_at])
        result = self.cache.commit(prompt, model, model_id, account, digests, now, read_at)
        self._count(
            result,
            prompt,
            prepared,
            model_id,
            now,
            Usage.of(
                regular=result.input_tokens,
                output=prepared.output,
                read=result.read_tokens,
                write_5m=result.write_5m_tokens,
                write_1h=result.write_1h_tokens,
            ),
        )

    def _note_read(self, model_id: str, digests: list[str], account: str, position: int, tokens: int) -> None:
        """Remember that the entry at `position` was read, `tokens` long."""
        if position:
            found = self.cache.entry(model_id, digests[position], account)
            if found is not None:
                self._read[id(found)] = max(self._read.get(id(found), 0), tokens)

    def _count(
        self,
        result: CacheResult,
        prompt: Prompt,
        prepared: Prepared,
        model_id: str,
        now: float,
        usage: Usage,
        logged: bool = False,
    ) -> None:
        """Count one replayed call: its usage, whether it read, and the entries it wrote (to settle later)."""
        cumulative = prompt.cumulative
        written = zip(result.written, result.written_at, strict=True)
        entries = [(entry, cumulative[at], entry.ttl) for entry, at in written]
        self.spend.calls += 1
        if entries:
            last = max(entry.expires_at for entry, _, _ in entries)
            heapq.heappush(
                self._pending,
                (
                    last,
                    self.spend.calls,
                    _Written(entries, result.read_tokens, model_id, five_minute_tokens(usage) if logged else None),
                ),
            )
        if self.spend.calls % SETTLE_EVERY == 0:  # writes that can no longer be read are settled, and let go
            self._settle(now)
        tokens = self.spend.tokens
        tokens[model_id] = tokens.get(model_id, EMPTY) + usage
        self.spend.hits += usage.cacheReadInputTokens > 0

    def finish(self) -> Spend:
        """The spend, with the writes that no later call read counted as waste."""
        self._settle(None)
        return self.spend

    def _settle(self, now: float | None) -> None:
        """Count the waste of each pending write whose entries have all expired by `now` (None: of every one), and
        let it go."""
        pending = self._pending
        while pending and (now is None or pending[0][0] <= now):
            _, order, written = heapq.heappop(pending)
            last = max(entry.expires_at for entry, _, _ in written.entries)
            if now is not None and last > now:  # refreshed by a read since: looked at again when it expires
                heapq.heappush(pending, (last, order, written))
                continue
            end = max(tokens for _, tokens, _ in written.entries)
            read = [min(self._read[id(entry)], end) for entry, _, _ in written.entries if id(entry) in self._read]
            used = max([written.start, *read])
            if end > used:
                unread = end - used
                if written.five_minute is None:
                    ttl = next(t for e, tokens, t in written.entries if tokens == end)
                    waste = Usage.of(**{f"write_{ttl}": unread})
                else:  # the unread tail of the write: its 5m tokens first, then the 1h ones before them
                    five = min(unread, written.five_minute)
                    waste = Usage.of(write_5m=five, write_1h=unread - five)
                self.spend.wasted_tokens += end - used
                self.spend.wasted += cost_of(waste, written.model_id).input
            for entry, _, _ in written.entries:
                self._read.pop(id(entry), None)


class AsLogged(Replay):
    """The calls as they were sent and paid. What each call read and wrote is its logged count, so the spend and the
    hits are exactly what the logs say; the rules' prefixes (estimates, scaled to each call's logged total) only
    locate the entry a read found, to tell which writes a later call read. The writes never read are then exact too:
    a write ends at the call's read plus written tokens, and a later read of one of its entries used the tokens that
    read reported."""

    def add(self, call: LoggedCall, prepared: Prepared, prompt: Prompt) -> None:
        digests, model, account, model_id, now = prepared.digests, prepared.model, call.account, call.model_id, call.at
        read, write = call.usage.cacheReadInputTokens, call.usage.cacheWriteInputTokens
        read_at = 0
        if read:  # the prefix whose size is nearest the tokens read, a live entry first (as the doctor finds it)
            nearest = nearest_positions(prompt.cumulative, read)
            read_at = next((p for p in nearest if self.cache.live(model_id, digests[p], account, now)), nearest[0])
            self._note_read(model_id, digests, account, read_at, read)
        limit = read + write + WRITE_SLACK
        result = self.cache.commit(prompt, model, model_id, account, digests, now, read_at, write_limit=limit)
        exact = result._replace(read_tokens=read)  # where the write began, as logged
        self._count(exact, _ending_at(prompt, result, read + write), prepared, model_id, now, call.usage, logged=True)


def _ending_at(prompt: Prompt, result: CacheResult, tokens: int) -> Prompt:
    """`prompt` with the last position this call wrote counted as `tokens` long (its logged read plus written)."""
    if not result.written_at:
        return prompt
    cumulative = list(prompt.cumulative)
    cumulative[max(result.written_at)] = tokens
    return Prompt(prompt.blocks, prompt.checkpoints, tuple(cumulative), prompt.variant)


def five_minute_tokens(usage: Usage) -> int | None:
    """The 5m tokens of a logged write, when the log splits its writes by TTL (cacheDetails); else None."""
    return usage.written(TTL.FIVE_MINUTES) if usage.cacheDetails else None


WRITE_SLACK = 2  # prefix counts are estimates scaled to the logged total: allow a token or two of rounding


class Oracle:
    """The cheapest sending the rules allow for the same calls (see rules/oracle.py): a chain per shared prefix
    (tools and system) and one per conversation (its first message), priced per model."""

    def __init__(self) -> None:
        self.catalog = Catalog()
        self._chains: dict[tuple[str, ...], Chain] = {}
        self._models: dict[tuple[str, ...], str] = {}
        self.outputs: dict[str, int] = {}

    def add(self, call: LoggedCall, prepared: Prepared) -> None:
        prompt, digests, model = prepared.prompt, prepared.digests, prepared.model
        shared = sum(1 for block in prompt.blocks if block.place.section != "messages")
        base = prompt.tokens_before(shared)
        head = (call.account, call.model_id, digests[shared])
        conversation = (*head, digests[min(shared + 1, len(prompt.blocks))])
        if base >= model.min_tokens:
            self._chain(head, model, call.model_id).use(call.at, base)
            self._chain(conversation, model, call.model_id).use(call.at, prompt.total_tokens - base, base)
        else:
            self._chain(conversation, model, call.model_id).use(call.at, prompt.total_tokens)
        self.outputs[call.model_id] = self.outputs.get(call.model_id, 0) + prepared.output

    def _chain(self, key: tuple[str, ...], model: ModelInfo, model_id: str) -> Chain:
        if key not in self._chains:
            self._chains[key] = Chain(model.min_tokens, prices_for(model_id).weights)
            self._models[key] = model_id
        return self._chains[key]

    def cost(self) -> Cost:
        by_model = {model_id: Usage.of(output=output) for model_id, output in self.outputs.items()}
        for key, chain in self._chains.items():
            model_id = self._models[key]
            by_model[model_id] = by_model.get(model_id, EMPTY) + chain.best()
        return sum((cost_of(usage, model_id) for model_id, usage in by_model.items()), Cost())
