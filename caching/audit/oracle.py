"""The oracle of an audit: the cheapest sending the rules allow for the logged calls (see rules/oracle.py), as a
chain per shared prefix (tools and system) and one per conversation (its first message), priced per model.

A conversation's chain is of no use once it has been idle for an hour: no entry outlives that, so its next use (if
any) starts from an empty cache, exactly as a new chain would. Chains idle for longer than RETIRE_SECONDS are
therefore added to the totals and forgotten, so memory holds the conversations of the last hours, not of the whole
log (a month of logs has millions). A chain is also restarted at any use that comes an hour or more after its
last: that way the answer never depends on when the forgetting ran, which differs between one process and a
cluster.
"""

from __future__ import annotations

from ..pricing import Cost, cost_of, prices_for
from ..rules import TTL, ModelInfo
from ..rules.oracle import Chain
from ..rules.usage import Usage
from .logs import LoggedCall
from .prepare import Prepared
from .spend import EMPTY

HOUR = TTL.ONE_HOUR.seconds  # the longest an entry lives unread: a gap this long starts a chain afresh
# Chains idle this long are forgotten: an hour more than a gap that restarts them, so calls logged up to an hour out
# of time order still find the chain they would continue.
RETIRE_SECONDS = 2 * HOUR
RETIRE_EVERY = 1_000  # calls between two looks for idle chains


class Oracle:
    def __init__(self) -> None:
        self._chains: dict[tuple[str, ...], Chain] = {}
        self._models: dict[tuple[str, ...], str] = {}
        self._retired: dict[str, Usage] = {}  # per model id: the cheapest path of each chain forgotten
        self.outputs: dict[str, int] = {}
        self._calls = 0

    def add(self, call: LoggedCall, prepared: Prepared) -> None:
        prompt, digests, model = prepared.prompt, prepared.digests, prepared.model
        shared = prepared.shape.system_end  # the tools and the system prompt come first
        base = prompt.tokens_before(shared)
        head = (call.account, call.model_id, digests[shared])
        conversation = (*head, digests[min(shared + 1, len(prompt.blocks))])
        if base >= model.min_tokens:
            self._chain(head, model, call).use(call.at, base)
            self._chain(conversation, model, call).use(call.at, prompt.total_tokens - base, base)
        else:
            self._chain(conversation, model, call).use(call.at, prompt.total_tokens)
        self.outputs[call.model_id] = self.outputs.get(call.model_id, 0) + prepared.output
        self._calls += 1
        if self._calls % RETIRE_EVERY == 0:
            for key in [key for key, chain in self._chains.items() if call.at - chain.last_use > RETIRE_SECONDS]:
                self._retire(key)

    def _chain(self, key: tuple[str, ...], model: ModelInfo, call: LoggedCall) -> Chain:
        """The chain of `key`, new if it has none or its last use was an hour or more ago."""
        chain = self._chains.get(key)
        if chain is not None and call.at - chain.last_use >= HOUR:
            self._retire(key)
            chain = None
        if chain is None:
            chain = self._chains[key] = Chain(model.min_tokens, prices_for(call.model_id).weights)
            self._models[key] = call.model_id
        return chain

    def _retire(self, key: tuple[str, ...]) -> None:
        """Add a chain's cheapest path to the totals, and forget it."""
        model_id = self._models.pop(key)
        self._retired[model_id] = self._retired.get(model_id, EMPTY) + self._chains.pop(key).best()

    def cost(self) -> Cost:
        by_model = {model_id: Usage.of(output=output) for model_id, output in self.outputs.items()}
        for model_id, usage in self._retired.items():
            by_model[model_id] = by_model.get(model_id, EMPTY) + usage
        for key, chain in self._chains.items():
            model_id = self._models[key]
            by_model[model_id] = by_model.get(model_id, EMPTY) + chain.best()
        return sum((cost_of(usage, model_id) for model_id, usage in by_model.items()), Cost())
