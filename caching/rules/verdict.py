"""What the rules say about one request before it is sent: `caching lint`'s findings, in the doctor's words.

Severity follows one rule (see `Severity`): an error only for a request Bedrock rejects or that can never read; a
checkpoint that caches nothing but costs nothing is information. The sentences are the ones the doctor and diff use
(`below_minimum`, `Dynamic.words`), and places are named in the request's own terms (`own_place`). Token counts are
the offline estimate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .cache import LOOKBACK_BLOCKS
from .catalog import ModelInfo
from .diagnosis import below_minimum, dynamic_text, own_place
from .places import Place
from .prompt import Checkpoint, Prompt, RequestRejected
from .severity import Severity

NEAR_MINIMUM = 1.25  # within 25% above the minimum, an estimate may be on the wrong side of it live


@dataclass(frozen=True)
class Finding:
    """One thing worth saying about a request: how much it matters, a short code, where, and what to do."""

    level: Severity
    code: str
    place: str
    message: str


def rejected(exc: RequestRejected) -> Finding:
    """A request Bedrock refuses, with the same advice the doctor gives."""
    return Finding(Severity.ERROR, "rejected", "request", f"Bedrock would reject this request: {exc.advice}")


def findings(prompt: Prompt, request: dict[str, Any], model: ModelInfo) -> list[Finding]:
    """Everything in a request Bedrock accepts (its Converse form and prompt) that stops it caching or wastes a
    checkpoint."""
    if not prompt.checkpoints:
        return [
            Finding(Severity.WARNING, "no-checkpoint", "request", "no cachePoint: nothing in this request is cached")
        ]

    def name(place: Place) -> str:
        return str(own_place(request, place, prompt.variant.api))

    writable = [p for p in prompt.checkpoints if prompt.tokens_before(p.position) >= model.min_tokens]
    return [*_dynamic(prompt, request, writable, name), *_sizes(prompt, model, writable, name), *_reach(prompt, name)]


def _sizes(prompt: Prompt, model: ModelInfo, writable: list[Checkpoint], name: Callable[[Place], str]) -> list[Finding]:
    found = []
    for point in prompt.checkpoints:
        have = prompt.tokens_before(point.position)
        if have < model.min_tokens and not writable:  # no checkpoint reaches the minimum: it can never read
            advice = f"add about {model.min_tokens - have:,} tokens or move the checkpoint later"
            found.append(
                Finding(Severity.ERROR, "below-minimum", name(point.place), f"{below_minimum(have, model)}; {advice}")
            )
        elif have < model.min_tokens:
            message = f"{below_minimum(have, model)}: this point caches nothing and costs nothing; {name(writable[0].place)} caches"
            found.append(Finding(Severity.INFO, "below-minimum", name(point.place), message))
    last = prompt.checkpoints[-1]
    have = prompt.tokens_before(last.position)
    if model.min_tokens <= have < model.min_tokens * NEAR_MINIMUM:
        message = (
            f"~{have:,} tokens before it, within 25% of {model.short}'s minimum of {model.min_tokens:,}: the count is "
            "an estimate, so live it may fall below; add some margin"
        )
        found.append(Finding(Severity.WARNING, "near-minimum", name(last.place), message))
    return found


def _dynamic(
    prompt: Prompt, request: dict[str, Any], writable: list[Checkpoint], name: Callable[[Place], str]
) -> list[Finding]:
    """A timestamp or request id before a checkpoint: every prefix holding it is new on each call. Before the first
    checkpoint that caches, the request can never read (an error); after it, the later points write anew each
    call (a warning). A date alone changes once a day: a warning wherever it is."""
    first = writable[0].position if writable else prompt.checkpoints[-1].position
    found = []
    for index, block in enumerate(prompt.blocks[: prompt.checkpoints[-1].position]):
        item = block.place.block_in(request)
        text = item.get("text") if isinstance(item, dict) else None
        dynamic = dynamic_text(text) if isinstance(text, str) else None
        if dynamic is None:
            continue
        daily = dynamic.looks_like == "a timestamp" and len(dynamic.value) == 10 and "-" in dynamic.value
        if not writable:  # nothing is cached yet: the size is the error; this is the next thing to fix
            level, effect = Severity.WARNING, "once the prefix reaches the minimum, every call would write anew"
        elif index < first and not daily:
            level, effect = Severity.ERROR, "every call writes a new entry and none can read"
        elif daily:
            level, effect = Severity.WARNING, "a date changes once a day, and the cache starts over with it"
        else:
            level, effect = Severity.WARNING, "the checkpoints after it write a new entry on every call"
        found.append(Finding(level, "dynamic-text", name(block.place), f"{dynamic.words} ({effect})"))
    return found


def _reach(prompt: Prompt, name: Callable[[Place], str]) -> list[Finding]:
    found = []
    for earlier, later in zip(prompt.checkpoints, prompt.checkpoints[1:], strict=False):
        gap = later.position - earlier.position
        if gap > LOOKBACK_BLOCKS:
            found.append(
                Finding(
                    Severity.WARNING,
                    "beyond-lookback",
                    name(later.place),
                    f"{gap} blocks since the checkpoint at {name(earlier.place)}: more than the {LOOKBACK_BLOCKS}-block "
                    "lookback, so a request that ends here cannot find that entry; add a checkpoint in between",
                )
            )
    return found
