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

import os
import pickle
import tempfile
import weakref
import zlib
from collections.abc import Iterator
from typing import IO, Any, NamedTuple

from ..pricing import Cost, cost_of, prices_for
from ..rules import TTL
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
# The uses a window's lane keeps in memory (about 250 bytes each): past as many, they are written to a temporary file
# in runs of this many, compressed (about 10 bytes a use), so a window of millions of calls stays small.
USES_KEPT = 50_000


class Use(NamedTuple):
    """What the oracle needs of one call: small, so a window of calls audited elsewhere can send it (windows.py)."""

    account: str
    model_id: str
    at: float
    head: str  # the digest of the tools and system prompt
    conversation: str  # ... and of the first message after them
    base: int  # the tokens of the tools and system prompt
    total: int  # the tokens of the whole prompt
    minimum: int  # the model's fewest tokens to cache
    output: int


def use_of(call: LoggedCall, prepared: Prepared) -> Use:
    prompt, digests = prepared.prompt, prepared.digests
    shared = prepared.shape.system_end  # the tools and the system prompt come first
    return Use(
        call.account,
        call.model_id,
        call.at,
        digests[shared],
        digests[min(shared + 1, len(prompt.blocks))],
        prompt.tokens_before(shared),
        prompt.total_tokens,
        prepared.model.min_tokens,
        prepared.output,
    )


class Oracle:
    def __init__(self) -> None:
        self._chains: dict[tuple[str, ...], Chain] = {}
        self._models: dict[tuple[str, ...], str] = {}
        self._retired: dict[str, Usage] = {}  # per model id: the cheapest path of each chain forgotten
        self.outputs: dict[str, int] = {}
        self._calls = 0

    def add(self, call: LoggedCall, prepared: Prepared) -> None:
        self.take(use_of(call, prepared))

    def take(self, use: Use) -> None:
        """One call's use of its chains."""
        head = (use.account, use.model_id, use.head)
        conversation = (*head, use.conversation)
        if use.base >= use.minimum:
            self._chain(head, use).use(use.at, use.base)
            self._chain(conversation, use).use(use.at, use.total - use.base, use.base)
        else:
            self._chain(conversation, use).use(use.at, use.total)
        self.outputs[use.model_id] = self.outputs.get(use.model_id, 0) + use.output
        self._calls += 1
        if self._calls % RETIRE_EVERY == 0:
            for key in [key for key, chain in self._chains.items() if use.at - chain.last_use > RETIRE_SECONDS]:
                self._retire(key)

    def _chain(self, key: tuple[str, ...], use: Use) -> Chain:
        """The chain of `key`, new if it has none or its last use was an hour or more ago."""
        chain = self._chains.get(key)
        if chain is not None and use.at - chain.last_use >= HOUR:
            self._retire(key)
            chain = None
        if chain is None:
            chain = self._chains[key] = Chain(use.minimum, prices_for(use.model_id).weights)
            self._models[key] = use.model_id
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


class Uses(Oracle):
    """An oracle that only keeps the uses of its calls, in order, for one that takes them all: a window of calls
    audited apart cannot price its chains, whose cheapest path depends on the uses before it (see windows.py). The
    latest USES_KEPT are in memory, the earlier in a temporary file."""

    def __init__(self) -> None:
        super().__init__()
        self.uses: list[Use] = []  # the latest
        self._written: IO[bytes] | None = None  # the earlier, in runs of USES_KEPT or more
        self._runs: list[tuple[int, int]] = []  # where each run is in it, and its bytes

    def take(self, use: Use) -> None:
        self.uses.append(use)
        if len(self.uses) >= USES_KEPT:
            if self._written is None:
                # Open for the lane's life, not a `with` block's.
                self._written = tempfile.TemporaryFile(prefix="caching-uses-")  # noqa: SIM115
                weakref.finalize(self, self._written.close)  # closed (and so deleted) with the lane
            run = zlib.compress(pickle.dumps(self.uses, protocol=pickle.HIGHEST_PROTOCOL), 1)
            self._runs.append((self._written.tell(), len(run)))
            self._written.write(run)  # at the end, where every read leaves it
            self.uses = []

    def __iter__(self) -> Iterator[Use]:
        """Every use taken so far, in order (those taken after this call are not): those written, a run at a time,
        then those in memory."""
        return self._read(list(self._runs), list(self.uses))

    def _read(self, runs: list[tuple[int, int]], latest: list[Use]) -> Iterator[Use]:
        for offset, size in runs:
            assert self._written is not None
            self._written.seek(offset)
            run = self._written.read(size)
            self._written.seek(0, os.SEEK_END)
            yield from pickle.loads(zlib.decompress(run))
        yield from latest

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (a window sent to another worker) with every use in memory: a file does not travel."""
        state = dict(self.__dict__)
        state.update(uses=list(self), _written=None, _runs=[])
        return state
