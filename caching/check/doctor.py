"""The cache doctor: why a call read, wrote or skipped the cache, and what to change.

It works only from what any client can see, live or offline: each request as sent, the usage that came back, and
when the call was made (see recorder.py). It replays the calls in order on the rules engine (`caching.rules`): for
each call it finds the prefix the usage says was read, asks the engine why the other checkpoints found nothing,
words that with the same function the emulator uses, then commits what the usage says was written. Token counts of
a prefix are the offline estimate, scaled so the whole prompt matches the usage Bedrock reported.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..call import Call
from ..rules import (
    LOOKBACK_BLOCKS,
    Catalog,
    Diagnosis,
    History,
    Kind,
    Prompt,
    PromptCache,
    RequestRejected,
    check_layout,
    diagnose,
    linearize,
    prefix_digests,
    string_system_note,
)
from ..rules.api import API
from ..rules.cache import FORGET_AFTER_SECONDS, call_miss, found_ttl, no_clock
from ..rules.messages import converse_form
from ..rules.prompt import nearest_positions
from ..rules.usage import Usage

ACCOUNT = "observed"  # a recording holds one caller's calls: one account


class Linearized(NamedTuple):
    """What a caller has already worked out for a call: the request in Converse's shape, its prompt (the offline
    estimate) and prefix digests, and optionally the usage read from the call and the prompt scaled to it."""

    request: dict[str, Any]
    estimate: Prompt
    digests: list[str]
    usage: Usage | None = None
    scaled: Prompt | None = None


class Doctor:
    """Explains calls one at a time, in the order they were made (`observe`), from requests and usage alone."""

    def __init__(self, catalog: Catalog | None = None, lookback: int = LOOKBACK_BLOCKS) -> None:
        self.catalog = catalog or Catalog()
        self.cache = PromptCache(no_clock, lookback)  # every step is given the call's own time
        self.history = History()

    def state(self, now: float) -> tuple[Any, ...]:
        """What the doctor keeps between calls that tells its next diagnosis, at `now`: the entries of its cache
        not yet forgotten (an entry expired FORGET_AFTER_SECONDS ago explains no miss), and the requests it
        remembers. Two doctors in the same state diagnose the calls after alike (see audit/windows.py)."""
        horizon = now - FORGET_AFTER_SECONDS
        entries = sorted((key, str(ttl), expires, ready) for key, (ttl, expires, ready) in self.cache.entries().items()
                         if expires > horizon)  # fmt: skip
        return tuple(entries), self.history.state()

    def check(self, request: dict[str, Any], model_id: str) -> Diagnosis | None:
        """What Bedrock would reject in this request, before it is sent; None when the layout is fine."""
        try:
            check_layout(request, self.catalog.find(model_id))
        except RequestRejected as exc:
            return Diagnosis(Kind.REJECTED, exc.advice)
        return None

    def observe(self, call: Call, linearized: Linearized | None = None) -> Diagnosis:
        """Diagnose one call, then remember what it cached. `linearized` saves the work when the caller has done it
        already (the log audit)."""
        model = self.catalog.find_or_default(call.model_id)
        try:
            if linearized is None:
                sent = call.request or {}  # a call whose request was not kept reads as an empty one
                request = converse_form(sent) if call.api == API.INVOKE else sent
                estimate = linearize(request, model, call.api)  # Bedrock's request rules, checkpoints' among them
                digests = prefix_digests(estimate)
            else:
                request, estimate, digests = linearized.request, linearized.estimate, linearized.digests
        except RequestRejected as exc:
            return Diagnosis(Kind.REJECTED, exc.advice)
        if call.error is not None:
            return Diagnosis(Kind.REJECTED, f"Bedrock rejected the request: {call.error}")
        usage = linearized.usage if linearized and linearized.usage is not None else call.usage
        total = estimate.total_tokens
        scale = usage.prompt_tokens / total if usage.prompt_tokens and total else 1.0
        if linearized is not None and linearized.scaled is not None:
            prompt = linearized.scaled
        else:
            scaled = tuple(map(round, map(scale.__mul__, estimate.cumulative)))
            prompt = Prompt(estimate.blocks, estimate.checkpoints, scaled, estimate.variant)
        model_id, now = call.model_id, call.at

        # The read: the prefix whose size is nearest the tokens Bedrock says were read, a live entry first.
        read, write = usage.cacheReadInputTokens, usage.cacheWriteInputTokens
        read_at = 0
        if read:
            nearest = nearest_positions(prompt.cumulative, read)
            read_at = next((p for p in nearest if self.cache.live(model_id, digests[p], ACCOUNT, now)), nearest[0])
        misses = self.cache.explain(prompt, model_id, ACCOUNT, digests, now, read_at)
        diagnosis = diagnose(
            prompt,
            model,
            read,
            write,
            call_miss(misses),
            lambda: self.history.what_changed(model_id, ACCOUNT, prompt, digests, request, write),
        )
        if read and not self.cache.live(model_id, digests[read_at], ACCOUNT, now):
            # Bedrock read it, so it was there (written before the first call seen, and read since): known from now
            # on, with the TTL of the request's cache point there, so that its expiry can explain a later miss.
            self.cache.learn(model_id, digests[read_at], ACCOUNT, found_ttl(prompt, read_at), now)
        slack = 0 if scale == 1.0 else 2  # live counts are scaled estimates: allow a token or two of rounding
        self.cache.commit(prompt, model, model_id, ACCOUNT, digests, now, read_at, write_limit=read + write + slack)
        self.history.remember(model_id, ACCOUNT, prompt, digests, request)
        return string_system_note(call.request or {}, diagnosis) if call.api == API.INVOKE else diagnosis
