"""`caching diff`: what a second request reads of what a first one cached, and why it misses the rest.

Both requests go through the rules engine exactly as the emulator sends them (`linearize`, then `PromptCache.apply`
on one account, the second right after the first), so the read it reports is the read the second call would get,
and the cause is the doctor's diagnosis of that call (`diagnose`, `History.what_changed`). Token counts are the
offline estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from .api import API
from .cache import CacheResult, PromptCache, prefix_digests
from .catalog import ModelInfo
from .clock import ManualClock
from .diagnosis import Diagnosis, History, diagnose, miss_words, string_system_note
from .outcomes import Kind
from .places import own_place
from .prompt import Prompt, linearize

ACCOUNT = "diff"  # both requests come from one caller


class Sent(NamedTuple):
    """A request as it would be sent: its Converse form, the body as written, the API, the model and its id."""

    request: dict[str, Any]
    body: dict[str, Any]
    api: API
    model: ModelInfo
    model_id: str


@dataclass(frozen=True)
class Comparison:
    """What the second request reads after the first (tokens, and the first's checkpoint it reads up to, in the
    first request's own terms), whether that is all the first cached, and the diagnosis of the second call."""

    reads_all: bool
    read_tokens: int
    read_place: str
    diagnosis: Diagnosis
    sentence: str


class _Caller:
    """One account sending requests in turn, diagnosed as the emulator diagnoses them."""

    def __init__(self) -> None:
        self.cache = PromptCache(ManualClock(0.0))
        self.history = History()

    def send(self, sent: Sent) -> tuple[Prompt, CacheResult, Diagnosis]:
        prompt = linearize(sent.request, sent.model, sent.api)
        digests = prefix_digests(prompt)
        result = self.cache.apply(prompt, sent.model, sent.model_id, ACCOUNT, digests)
        written = result.write_tokens
        diagnosis = diagnose(
            prompt,
            sent.model,
            result.read_tokens,
            written,
            result.miss,
            lambda: self.history.what_changed(sent.model_id, ACCOUNT, prompt, digests, sent.request, written),
        )
        self.history.remember(sent.model_id, ACCOUNT, prompt, digests, sent.request)
        if sent.api == API.INVOKE:
            diagnosis = string_system_note(sent.body, diagnosis)
        return prompt, result, diagnosis

    def why_rest(self, sent: Sent, prompt: Prompt, result: CacheResult) -> str:
        """Why a call that read part of the prefix found nothing longer: a miss the engine explains, else what
        changed since the earlier request."""
        if result.miss is not None:
            return miss_words(result.miss, result.write_tokens)
        digests = prefix_digests(prompt)
        return self.history.what_changed(sent.model_id, ACCOUNT, prompt, digests, sent.request, result.write_tokens)


def compare(first: Sent, second: Sent) -> Comparison:
    """Send `first`, then `second` on the same account, and say what the second reads of what the first cached.
    Raises RequestRejected for a request Bedrock would refuse."""
    caller = _Caller()
    before, cached, said = caller.send(first)
    if first.model_id != second.model_id:
        linearize(second.request, second.model, second.api)  # a request Bedrock refuses is said first
        cause = Diagnosis(
            Kind.NEW_PREFIX, f"the model differs ({first.model_id} vs {second.model_id}): entries are kept per model"
        )
        return Comparison(False, 0, "", cause, f"misses everything the first cached: {cause.message}")
    prompt, result, diagnosis = caller.send(second)
    if not cached.written_at:
        return Comparison(False, 0, "", said, f"the first request caches nothing: {said.message}")
    read = result.read_tokens
    if not read:
        return Comparison(False, 0, "", diagnosis, f"misses everything the first cached: {diagnosis.message}")
    point = next(p for p in before.checkpoints if p.position == result.read_position)
    place = str(own_place(first.request, point.place, first.api))
    if result.read_position >= max(cached.written_at):
        return Comparison(
            True,
            read,
            place,
            diagnosis,
            f"the second request reads all the first cached: ~{read:,} tokens up to {place}",
        )
    # The history already holds the second request: explain the rest against a caller that saw only the first.
    why = _first_only(first).why_rest(second, prompt, result)
    return Comparison(False, read, place, diagnosis, f"reads ~{read:,} tokens up to {place}, then misses: {why}")


def _first_only(first: Sent) -> _Caller:
    caller = _Caller()
    caller.send(first)
    return caller
