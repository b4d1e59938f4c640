"""Logged traffic replayed on the rules engine: as it was sent (what was paid, and which writes were never read),
with each Strands approach and TTL placing the cache points instead, and through the oracle (the best the rules
allow). Token counts are the offline estimate of each prefix, scaled so every call's prompt matches its logged total.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..planner.oracle import Chain
from ..pricing import MILLION, Cost, cost_of, prices_for
from ..rules import Catalog, ModelInfo, Prompt, PromptCache, RequestRejected, linearize, prefix_digests
from ..rules.messages import converse_form
from ..usage import Usage
from .logs import LoggedCall

POINT = "cachePoint"


def place(request: dict[str, Any], approach: str, ttl: str) -> dict[str, Any]:
    """The Converse request with its cache points where Strands 1.62 puts them for `approach` (none: no points)."""
    out = copy.deepcopy(request)
    point = {POINT: {"type": "default", **({"ttl": ttl} if ttl == "1h" else {})}}
    tools = (out.get("toolConfig") or {}).get("tools") if isinstance(out.get("toolConfig"), dict) else None
    if isinstance(tools, list):
        tools[:] = [t for t in tools if not (isinstance(t, dict) and POINT in t)]
        if approach in ("explicit", "combined") and tools:
            tools.append(copy.deepcopy(point))
    if isinstance(out.get("system"), list):
        out["system"] = [b for b in out["system"] if not (isinstance(b, dict) and POINT in b)]
        if approach != "none" and out["system"]:
            out["system"].append(copy.deepcopy(point))
    messages: list[Any] = out["messages"] if isinstance(out.get("messages"), list) else []
    for message in messages:
        if isinstance(message, dict) and isinstance(message.get("content"), list):
            message["content"] = [b for b in message["content"] if not (isinstance(b, dict) and POINT in b)]
    last_user = next((m for m in reversed(messages) if isinstance(m, dict) and m.get("role") == "user"), None)
    if approach in ("automatic", "combined") and last_user and last_user["content"]:
        last_user["content"].append(copy.deepcopy(point))
    return out


@dataclass
class Spend:
    """What a replay of some calls cost, by kind of token, and the writes no later call read."""

    cost: Cost = field(default_factory=Cost)
    calls: int = 0
    hits: int = 0
    wasted_tokens: int = 0
    wasted: Decimal = Decimal(0)


@dataclass
class _Written:
    """The entries one call wrote, the tokens up to each, and where its write began."""

    entries: list[tuple[Any, int, str]]
    start: int
    model_id: str


class Replay:
    """Calls replayed in order on one PromptCache; `layout` rewrites each request's cache points (None: as sent)."""

    def __init__(self, approach: str | None = None, ttl: str = "5m") -> None:
        self.approach, self.ttl = approach, ttl
        self.cache = PromptCache(lambda: 0.0)
        self.catalog = Catalog()
        self.spend = Spend()
        self._pending: list[_Written] = []
        self._read: set[int] = set()

    def prompt(self, call: LoggedCall) -> tuple[Prompt, list[str], ModelInfo] | None:
        """The call's prompt under this replay's layout, scaled to its logged total (None: cannot be replayed)."""
        model = self.catalog.find(call.model_id)
        if model is None or call.request is None or call.error:
            return None
        try:
            request = converse_form(call.request) if call.api == "invoke" else call.request
            if self.approach is not None:
                request = place(request, self.approach, self.ttl)
            estimate = linearize(request, model, call.api)
        except (RequestRejected, TypeError, KeyError, AttributeError, ValueError):
            return None
        usage = Usage.from_bedrock(call.usage)
        scale = usage.prompt_tokens / estimate.total_tokens if usage.prompt_tokens and estimate.total_tokens else 1.0
        cumulative = tuple(round(n * scale) for n in estimate.cumulative)
        return (
            Prompt(estimate.blocks, estimate.checkpoints, cumulative, estimate.variant),
            prefix_digests(estimate),
            model,
        )

    def add(self, call: LoggedCall) -> bool:
        """Replay one call; False when it cannot be (no body, an unknown model, a rejected request)."""
        built = self.prompt(call)
        if built is None:
            return False
        prompt, digests, model = built
        account, model_id, now = call.account, call.model_id, call.at
        read_at = self.cache.lookup(prompt, model_id, account, digests, now)
        if read_at:
            found = self.cache.entry(model_id, digests[read_at], account)
            if found is not None:
                self._read.add(id(found))
        result = self.cache.commit(prompt, model, model_id, account, digests, now, read_at)
        written = {id(entry) for entry in result.written}
        entries = []
        for point in prompt.checkpoints:
            entry = self.cache.entry(model_id, digests[point.position], account)
            if entry is not None and id(entry) in written:
                entries.append((entry, prompt.tokens_before(point.position), point.ttl))
        if entries:
            self._pending.append(_Written(entries, result.read_tokens, model_id))
        output = Usage.from_bedrock(call.usage).outputTokens
        details = tuple((ttl, n) for ttl, n in (("1h", result.write_1h_tokens), ("5m", result.write_5m_tokens)) if n)
        usage = Usage(result.input_tokens, output, result.read_tokens, result.write_tokens, details)
        self.spend.cost += cost_of(usage, model_id)
        self.spend.calls += 1
        self.spend.hits += result.read_tokens > 0
        return True

    def finish(self) -> Spend:
        """The spend, with the writes that no later call read counted as waste."""
        for written in self._pending:
            end = max(tokens for _, tokens, _ in written.entries)
            used = max([written.start, *(tokens for entry, tokens, _ in written.entries if id(entry) in self._read)])
            if end > used:
                ttl = next(t for e, tokens, t in written.entries if tokens == end)
                prices = prices_for(written.model_id)
                self.spend.wasted_tokens += end - used
                self.spend.wasted += (end - used) * (prices.write_1h if ttl == "1h" else prices.write_5m) / MILLION
        self._pending.clear()
        return self.spend


class Oracle:
    """The cheapest sending the rules allow for the same calls (see planner/oracle.py): a chain per shared prefix
    (tools and system) and one per conversation (its first message), priced per model."""

    def __init__(self) -> None:
        self.catalog = Catalog()
        self._chains: dict[tuple[str, ...], Chain] = {}
        self._models: dict[tuple[str, ...], str] = {}
        self.outputs: dict[str, int] = {}

    def add(self, call: LoggedCall, prompt: Prompt, digests: list[str], model: ModelInfo) -> None:
        shared = sum(1 for block in prompt.blocks if block.place.section != "messages")
        base = prompt.tokens_before(shared)
        head = (call.account, call.model_id, digests[shared])
        conversation = (*head, digests[min(shared + 1, len(prompt.blocks))])
        if base >= model.min_tokens:
            self._chain(head, model, call.model_id).use(call.at, base)
            self._chain(conversation, model, call.model_id).use(call.at, prompt.total_tokens - base, base)
        else:
            self._chain(conversation, model, call.model_id).use(call.at, prompt.total_tokens)
        self.outputs[call.model_id] = self.outputs.get(call.model_id, 0) + Usage.from_bedrock(call.usage).outputTokens

    def _chain(self, key: tuple[str, ...], model: ModelInfo, model_id: str) -> Chain:
        if key not in self._chains:
            self._chains[key] = Chain(model.min_tokens, prices_for(model_id))
            self._models[key] = model_id
        return self._chains[key]

    def cost(self) -> Cost:
        total = Cost()
        by_model: dict[str, list[int]] = {}
        for key, chain in self._chains.items():
            _, regular, read, write_5m, write_1h = chain.best()
            sums = by_model.setdefault(self._models[key], [0, 0, 0, 0])
            for index, value in enumerate((regular, read, write_5m, write_1h)):
                sums[index] += value
        for model_id, (regular, read, write_5m, write_1h) in by_model.items():
            details = tuple((ttl, n) for ttl, n in (("1h", write_1h), ("5m", write_5m)) if n)
            usage = Usage(regular, self.outputs.get(model_id, 0), read, write_5m + write_1h, details)
            total += cost_of(usage, model_id)
        return total
