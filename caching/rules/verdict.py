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

from . import lint_rules as rules
from .cache import LOOKBACK_BLOCKS
from .catalog import Catalog, ModelInfo, is_legacy
from .diagnosis import below_minimum, dynamic_text, own_place
from .lint_rules import Rule
from .places import MESSAGES, Place
from .prompt import Checkpoint, Prompt, RequestRejected, blocks_before
from .severity import Severity
from .ttl import TTL
from .variant import ToolChoice

NEAR_MINIMUM = 1.25  # within 25% above the minimum, an estimate may be on the wrong side of it live


@dataclass(frozen=True)
class Finding:
    """One thing worth saying about a request: how much it matters, the rule it breaks, where, and what to do."""

    level: Severity
    rule: Rule
    place: str
    message: str

    @classmethod
    def of(cls, rule: Rule, place: object, message: str, level: Severity | None = None) -> Finding:
        """A finding of `rule` at its usual level (or `level`, one the rule lists)."""
        assert level is None or level in rule.levels, (rule.code, level)
        return cls(level or rule.level, rule, str(place), message)

    @property
    def code(self) -> str:
        return self.rule.code

    def as_json(self) -> dict[str, str]:
        return {"level": str(self.level), "code": self.code, "place": self.place, "message": self.message}


def rejected(exc: RequestRejected, request: dict[str, Any], api: str) -> Finding:
    """A request Bedrock refuses, under the rule the engine named and at the cachePoint at fault (named in the
    request's own terms), with the same advice the doctor gives."""
    place = "request" if exc.place is None else own_place(request, exc.place, api)
    return Finding.of(exc.rule, place, f"Bedrock would reject this request: {exc.advice}")


def model_findings(model_id: str, catalog: Catalog) -> list[Finding]:
    """What the model id says before the request is read: none given, a model that does not cache, one this project
    does not know, or an id that keeps Strands' automatic caching off ("" is no id)."""
    if not model_id:
        return [
            Finding.of(
                rules.NO_MODEL,
                "modelId",
                f"no modelId: checked with the rules of {catalog.find_or_default('').short}; "
                "add modelId or pass --model",
            )
        ]
    shown = repr(model_id[:80])
    found = []
    if is_legacy(model_id):
        found.append(
            Finding.of(
                rules.LEGACY_MODEL,
                "modelId",
                f"{shown} offers no prompt caching on Bedrock: nothing is ever cached; move to a model that caches",
            )
        )
    elif catalog.find(model_id) is None and not model_id.startswith("arn:"):
        found.append(
            Finding.of(
                rules.UNKNOWN_MODEL,
                "modelId",
                f"{shown} is not a model this project knows: checked "
                f"with the rules of {catalog.find_or_default('').short}; pass --model with the model it is",
            )
        )
    if "claude" not in model_id and "anthropic" not in model_id:
        found.append(
            Finding.of(
                rules.AUTO_OFF,
                "modelId",
                f"Strands' automatic caching stays off for {shown} (it needs 'claude' or 'anthropic' in the id, which "
                'an application inference profile ARN hides): use CacheConfig(strategy="anthropic")',
            )
        )
    return found


def findings(prompt: Prompt, request: dict[str, Any], model: ModelInfo) -> list[Finding]:
    """Everything in a request Bedrock accepts (its Converse form and prompt) that stops it caching or wastes a
    checkpoint."""
    nested = _nested(request)
    if not prompt.checkpoints:
        return [
            *nested,
            Finding.of(
                rules.NO_CHECKPOINT,
                "request",
                "no cachePoint: nothing in this request is cached; add one after the stable prefix",
            ),
        ]

    def name(place: Place) -> str:
        return str(own_place(request, place, prompt.variant.api))

    writable = [p for p in prompt.checkpoints if prompt.tokens_before(p.position) >= model.min_tokens]
    return [
        *nested,
        *_dynamic(prompt, request, writable, name),
        *_sizes(prompt, model, writable, name),
        *_duplicates(prompt, name),
        *_conversation(prompt, request, name),
        *_ttls(prompt, name),
        *_key(prompt),
    ]


def _nested(request: dict[str, Any]) -> list[Finding]:
    """A cachePoint inside a toolResult's content: boto3 refuses to send it (its ToolResultContentBlock has no
    cachePoint), and over plain HTTP it caches nothing. The linearizer never sees it, so it is looked for here."""
    found = []
    for m, message in enumerate(request.get("messages") or []):
        for c, block in enumerate(message.get("content") or [] if isinstance(message, dict) else []):
            parts = block.get("toolResult", {}).get("content", []) if isinstance(block, dict) else []
            for p, part in enumerate(parts if isinstance(parts, list) else []):
                if isinstance(part, dict) and "cachePoint" in part:
                    place = f"{Place.content(m, c)}.toolResult.content[{p}]"
                    message_text = (
                        f"a cachePoint inside a toolResult: boto3 refuses to send it; put it after "
                        f"{Place.content(m, c)}, in the message's content"
                    )
                    found.append(Finding.of(rules.NESTED_CHECKPOINT, place, message_text))
    return found


def _sizes(prompt: Prompt, model: ModelInfo, writable: list[Checkpoint], name: Callable[[Place], str]) -> list[Finding]:
    found = []
    high = model.minimum_range[1]
    last = prompt.checkpoints[-1]
    have = prompt.tokens_before(last.position)
    if model.min_tokens <= have < high:  # caches by the minimum followed here, not by another source's higher one
        message = (
            f"~{have:,} tokens before it: above the {model.min_tokens:,} this lab follows for {model.short}, below "
            f"the {high:,} another source gives, so it may not cache live; add about {high - have:,} tokens"
        )
        return [Finding.of(rules.DISPUTED_MINIMUM, name(last.place), message)]
    for point in prompt.checkpoints:
        have = prompt.tokens_before(point.position)
        if have < model.min_tokens and not writable:  # no checkpoint reaches the minimum: it can never read
            advice = f"add about {model.min_tokens - have:,} tokens or move the checkpoint later"
            found.append(Finding.of(rules.BELOW_MINIMUM, name(point.place), f"{below_minimum(have, model)}; {advice}"))
        elif have < model.min_tokens:
            message = f"{below_minimum(have, model)}: this point caches nothing and costs nothing; {name(writable[0].place)} caches"
            found.append(Finding.of(rules.BELOW_MINIMUM, name(point.place), message, Severity.INFO))
    have = prompt.tokens_before(last.position)
    if model.min_tokens <= have < model.min_tokens * NEAR_MINIMUM:
        message = (
            f"~{have:,} tokens before it, within 25% of {model.short}'s minimum of {model.min_tokens:,}: the count is "
            "an estimate, so live it may fall below; add some margin"
        )
        found.append(Finding.of(rules.NEAR_MINIMUM, name(last.place), message))
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
        found.append(Finding.of(rules.DYNAMIC_TEXT, name(block.place), f"{dynamic.words} ({effect})", level))
    return found


def _duplicates(prompt: Prompt, name: Callable[[Place], str]) -> list[Finding]:
    return [
        Finding.of(
            rules.DUPLICATE_CHECKPOINT,
            name(later.place),
            f"right after the cachePoint at {name(earlier.place)}: it caches nothing more and uses one of the four; "
            "remove it",
        )
        for earlier, later in zip(prompt.checkpoints, prompt.checkpoints[1:], strict=False)
        if later.position == earlier.position
    ]


def _conversation(prompt: Prompt, request: dict[str, Any], name: Callable[[Place], str]) -> list[Finding]:
    """Where the checkpoints sit in a conversation (a request with an assistant turn): none in the messages, none in
    the last user message, a last turn wider than the lookback; then the gaps between checkpoints."""
    messages = [m for m in request.get("messages") or [] if isinstance(m, dict)]
    users = [i for i, m in enumerate(messages) if m.get("role") == "user"]
    in_messages = [c for c in prompt.checkpoints if c.place.section == MESSAGES]
    found: list[Finding] = []
    fanned: Checkpoint | None = None
    if any(m.get("role") == "assistant" for m in messages) and users:
        last_user = users[-1]
        if not in_messages:
            found.append(
                Finding.of(
                    rules.NO_MESSAGE_CHECKPOINT,
                    "request",
                    f"{len(messages)} messages and no cachePoint among them: every turn pays full price for the "
                    f"history; add one at the end of {Place.content(last_user, 0).list_name}",
                )
            )
        elif max(c.place.message or 0 for c in in_messages) < last_user:
            last = in_messages[-1]
            found.append(
                Finding.of(
                    rules.FIXED_CHECKPOINT,
                    name(last.place),
                    f"the last message cachePoint stays before {Place.content(last_user, 0).list_name}, the last user "
                    "message: later turns are not cached; move it to the end of the last user message",
                )
            )
        if len(users) > 1 and in_messages:
            turn_start = blocks_before(prompt, users[-2] + 1)  # where the previous call's point was (Strands')
            last = prompt.checkpoints[-1]
            wide = last.position - turn_start
            if wide > LOOKBACK_BLOCKS and not any(turn_start <= c.position < last.position for c in prompt.checkpoints):
                fanned = last
                found.append(
                    Finding.of(
                        rules.WIDE_FAN_OUT,
                        name(last.place),
                        f"the last turn added {wide} blocks after {Place.content(users[-2], 0).list_name}, more than "
                        f"the {LOOKBACK_BLOCKS}-block lookback: the previous call's entry is out of reach; add a "
                        "cachePoint among them or fan out fewer tools per turn",
                    )
                )
    for earlier, later in zip(prompt.checkpoints, prompt.checkpoints[1:], strict=False):
        gap = later.position - earlier.position
        if gap > LOOKBACK_BLOCKS and later is not fanned:
            found.append(
                Finding.of(
                    rules.BEYOND_LOOKBACK,
                    name(later.place),
                    f"{gap} blocks since the checkpoint at {name(earlier.place)}: more than the {LOOKBACK_BLOCKS}-block "
                    "lookback, so a request that ends here cannot find that entry; add a checkpoint in between",
                )
            )
    return found


def _ttls(prompt: Prompt, name: Callable[[Place], str]) -> list[Finding]:
    """A 1h checkpoint followed by 5m ones: legal, and whether it pays depends on the traffic."""
    long = next((c for c in prompt.checkpoints if c.ttl == TTL.ONE_HOUR), None)
    short = [c for c in prompt.checkpoints if c.ttl == TTL.FIVE_MINUTES and long and c.position >= long.position]
    if long is None or not short:
        return []
    message = (
        f"1h at {name(long.place)}, then 5m from {name(short[0].place)}: a 1h write costs 2x input, a 5m one 1.25x; "
        "`caching plan` shows which pays for your traffic"
    )
    return [Finding.of(rules.MIXED_TTL, name(short[0].place), message)]


def _key(prompt: Prompt) -> list[Finding]:
    """Thinking or a forced tool choice: both key the cache, so calls without them share no entry with this one."""
    variant, settings = prompt.variant, []
    if variant.thinking != "off":
        settings.append("thinking is enabled")
    if variant.tool_choice == ToolChoice.FORCED:
        settings.append("the tool choice is forced")
    if not settings:
        return []
    message = (
        f"{' and '.join(settings)}, which keys the cache: calls of this agent without that (structured output forces "
        "a tool and drops thinking) share no entry with this one; keep it the same on every call"
    )
    return [Finding.of(rules.CACHE_KEY_SETTING, "request", message)]
