"""The catalogue of `caching lint`'s rules: one entry per code, with its level, what it finds, why that matters and
where the rule comes from, and the fix. Every finding carries its rule, and so does every `RequestRejected`: the code
is never parsed back out of a message. docs/lint-rules.md shows each with a request that triggers it.

Levels follow `Severity`: an error when Bedrock (or the boto3 client in front of it) refuses the request or it can
never read; a warning when it pays for caching it may not get back; info when it costs nothing to ignore.
"""

from __future__ import annotations

from dataclasses import dataclass

from .severity import Severity

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


@dataclass(frozen=True)
class Rule:
    """One lint rule. `levels` starts with the usual level; a rule listed with a second one reports it where the
    same problem costs less (a point below the minimum while a later one caches is information)."""

    code: str
    levels: tuple[Severity, ...]
    summary: str
    why: str
    source: str
    fix: str

    @property
    def level(self) -> Severity:
        return self.levels[0]

    @property
    def level_words(self) -> str:
        """Its levels as the catalogue shows them ("error, info")."""
        return ", ".join(map(str, self.levels))


RULES: dict[str, Rule] = {}


def _rule(code: str, levels: tuple[Severity, ...], summary: str, why: str, source: str, fix: str) -> Rule:
    """Register a rule: adding one is this call, and every surface (lint, --rules, the docs test) sees it."""
    assert code not in RULES, code
    RULES[code] = Rule(code, levels, summary, why, source, fix)
    return RULES[code]


# The model id.
NO_MODEL = _rule(
    "no-model",
    (INFO,),
    "no modelId in the request and no --model: the default model's rules were used",
    "the minimum and 1h support depend on the model, so another model may cache where this one does not",
    "the minimum-tokens table of AWS's prompt-caching page",
    "add modelId to the saved request, or pass --model",
)
UNKNOWN_MODEL = _rule(
    "unknown-model",
    (WARNING,),
    "a model id this project does not know: the default model's rules were used",
    "its minimum and 1h support are unknown here, and the offline emulator refuses the id",
    "the model table of AWS's prompt-caching page (caching/rules/catalog.py holds it)",
    "use a model id that docs/rules.md lists, or pass --model with the model it stands for",
)
UNVERIFIED_TTL = _rule(
    "unverified-ttl",
    (WARNING,),
    "a 1h ttl on a model id this project does not know: whether the model offers 1h cannot be checked",
    "1h is offered only on some models (Sonnet 4.5, Haiku 4.5, Opus 4.5 and later); on others Bedrock refuses the "
    "request, and the offline emulator refuses the unknown id",
    "AWS's prompt-caching page (the models with a 1h TTL); caching/rules/catalog.py holds them",
    "use a model id that docs/rules.md lists, or pass --model with the model it stands for",
)
LEGACY_MODEL = _rule(
    "legacy-model",
    (ERROR,),
    "an older Claude model that Bedrock offers no prompt caching for",
    "nothing this request marks is ever cached: every call pays the full input price",
    "the supported-models table of AWS's prompt-caching page does not list it",
    "move to a model that caches, such as global.anthropic.claude-sonnet-4-6",
)
AUTO_OFF = _rule(
    "auto-off",
    (WARNING,),
    "a model id without 'claude' or 'anthropic' (an application inference profile ARN): Strands' auto caching is off",
    'Strands\' CacheConfig(strategy="auto") places no cachePoint for such an id, so an agent caches nothing',
    "Strands 1.62 source, strands/models/bedrock.py",
    'use CacheConfig(strategy="anthropic") for that model',
)
STRING_SYSTEM = _rule(
    "string-system",
    (WARNING,),
    "an InvokeModel body whose system prompt is a plain string",
    "a string cannot carry cache_control, so no checkpoint can end at the system prompt: it is cached only inside "
    "a later checkpoint's prefix, which changes with every turn",
    "measured live on InvokeModel (the reference's live measurements)",
    "send system as a list of text blocks and put cache_control on the last one",
)
# Where the checkpoints are.
NO_CHECKPOINT = _rule(
    "no-checkpoint",
    (WARNING,),
    "no cachePoint anywhere in the request",
    "Bedrock caches only at checkpoints: this request writes and reads nothing",
    "AWS's prompt-caching page (checkpoints mark what is cached)",
    "add a cachePoint after the stable prefix (the system prompt)",
)
ORPHAN_CHECKPOINT = _rule(
    "orphan-checkpoint",
    (ERROR,),
    "a cachePoint with no content block before it in its own list",
    'Bedrock rejects the request: "There is nothing available to cache"',
    "measured live on Sonnet 4.6; Strands 1.62 drops such a point",
    "move the cachePoint after a block of the same list",
)
NESTED_CHECKPOINT = _rule(
    "nested-checkpoint",
    (ERROR,),
    "a cachePoint inside a toolResult's content",
    "boto3 (and so Strands) refuses to send it; sent over plain HTTP, Bedrock caches nothing at it",
    "measured live; botocore's ToolResultContentBlock has no cachePoint member",
    "put the cachePoint after the toolResult block, in the message's content",
)
DUPLICATE_CHECKPOINT = _rule(
    "duplicate-checkpoint",
    (WARNING,),
    "a cachePoint right after another one",
    "it caches nothing the first does not, yet counts toward the limit of four",
    "measured live: a second point after a checkpointed block counts toward the four",
    "remove the second cachePoint",
)
TOO_MANY_CHECKPOINTS = _rule(
    "too-many-checkpoints",
    (ERROR,),
    "more than four cachePoints in one request",
    "Bedrock rejects the request (a ValidationException); Strands does not enforce the limit",
    "AWS's prompt-caching page (4 per request); Strands 1.62 source",
    "keep at most four: the tools, the system prompt and the last user message need three",
)
AFTER_DOCUMENT = _rule(
    "after-document",
    (ERROR,),
    "a cachePoint right after a document that is not a PDF",
    "Bedrock rejects the request",
    "measured live; Strands 1.62 moves its automatic point before such a document",
    "put the cachePoint before the document",
)
AFTER_REASONING = _rule(
    "after-reasoning",
    (ERROR,),
    "a cachePoint right after a reasoning block",
    'Bedrock rejects the request: "Cache point cannot be inserted after reasoning block"',
    "reported by users of another agent framework (the reference's live measurements)",
    "move the cachePoint to the next user message",
)
INVALID_CHECKPOINT = _rule(
    "invalid-checkpoint",
    (ERROR,),
    'a cachePoint whose type is not "default" (or a cache_control that is not "ephemeral")',
    "Bedrock rejects the request: default is the only type",
    "botocore's CachePointBlock; AWS's prompt-caching page",
    'write {"cachePoint": {"type": "default"}} (cache_control: {"type": "ephemeral"})',
)
NO_MESSAGE_CHECKPOINT = _rule(
    "no-message-checkpoint",
    (WARNING,),
    "a conversation with no cachePoint in its messages",
    "every turn pays the full input price for the whole history",
    "AWS's prompt-caching page (points in messages[].content[]); Strands 1.62 puts one in the last user message",
    "add a cachePoint at the end of the last user message",
)
FIXED_CHECKPOINT = _rule(
    "fixed-checkpoint",
    (WARNING,),
    "a conversation whose message cachePoints stop before its last user message",
    "the point never moves: each turn pays full price for what follows it, and it falls out of the lookback",
    "Strands 1.62 moves its point to the last user message on every call; the lookback (measured live)",
    "put the message cachePoint at the end of the last user message",
)
BEYOND_LOOKBACK = _rule(
    "beyond-lookback",
    (WARNING,),
    "more blocks between two checkpoints than the lookback reaches",
    "a request that ends at the later point cannot find the earlier entry: it writes again",
    "measured live (21 blocks found, 22 missed); AWS and Anthropic describe the lookback",
    "add a checkpoint in between",
)
WIDE_FAN_OUT = _rule(
    "wide-fan-out",
    (WARNING,),
    "the last turn added more blocks than the lookback (a wide parallel tool fan-out)",
    "the previous call's entry, at the end of the previous user message, is out of reach: this call writes anew",
    "strands-agents issue 3348; the lookback, measured live",
    "add a cachePoint among the new blocks, or fan out fewer tools per turn",
)
# Size.
BELOW_MINIMUM = _rule(
    "below-minimum",
    (ERROR, INFO),
    "a checkpoint with fewer tokens before it than the model's minimum",
    "nothing is cached there; an error when no checkpoint reaches the minimum, information when a later one does",
    "AWS's prompt-caching page (minimum per model; below it, no error and nothing cached)",
    "add tokens before the checkpoint or move it later",
)
NEAR_MINIMUM = _rule(
    "near-minimum",
    (WARNING,),
    "the last checkpoint is within 25% above the minimum (the band where estimates disagree)",
    "the offline count is an estimate: live Bedrock counted ~11% more than chars/4 on English, other text differs",
    "measured live (CacheCanary, Oct 2026); AWS's prompt-caching page",
    "add some margin before the checkpoint",
)
DISPUTED_MINIMUM = _rule(
    "disputed-minimum",
    (WARNING,),
    "a prefix above the minimum this lab follows and below a higher one another source gives",
    "by one source it caches and by the other it does not; the lab follows one (caching/rules/catalog.py says which "
    "and why), live Bedrock decides. Below the minimum followed, below-minimum reports it",
    "AWS's prompt-caching page and Anthropic's documentation, where they differ (the catalog row names both)",
    "add tokens until the prefix is above the higher minimum",
)
# TTLs.
INVALID_TTL = _rule(
    "invalid-ttl",
    (ERROR,),
    "a ttl other than 5m or 1h",
    "Bedrock rejects the request",
    "botocore's CacheTTL enum; AWS's prompt-caching page",
    "use ttl 5m or 1h",
)
TTL_UNSUPPORTED = _rule(
    "ttl-unsupported",
    (ERROR,),
    "a 1h ttl on a model that offers only 5m",
    "Bedrock rejects the request",
    "AWS's prompt-caching page and Anthropic's docs (1h on newer models only)",
    "use ttl 5m, or a model with a 1h TTL",
)
TTL_ORDER = _rule(
    "ttl-order",
    (ERROR,),
    "a 1h cachePoint after a 5m one (tools, then system, then messages)",
    "Bedrock rejects the request: TTLs must not increase along the prompt",
    "AWS's prompt-caching page; Strands' docs",
    "put the 1h checkpoints first",
)
MIXED_TTL = _rule(
    "mixed-ttl",
    (INFO,),
    "a 1h checkpoint followed by 5m ones",
    "a 1h write costs 2x input, a 5m one 1.25x: which pays depends on the pauses in your traffic",
    "AWS's price list (write 1h = 2x, 5m = 1.25x input)",
    "compare both with `caching plan` for your traffic",
)
# What else keys the cache.
CACHE_KEY_SETTING = _rule(
    "cache-key-setting",
    (INFO,),
    "thinking is enabled, or the tool choice is forced (any or a named tool)",
    "both key the cache: calls of the same agent without them (Strands' structured output forces a tool and "
    "drops thinking) share no entry with this one",
    "measured live (cache-key changes); Strands 1.62 source",
    "keep thinking and the tool-choice group the same on every call that should share the cache",
)
DYNAMIC_TEXT = _rule(
    "dynamic-text",
    (ERROR, WARNING),
    "a timestamp or request id before a checkpoint",
    "every prefix that holds it is new on each call; before the first point that caches, nothing can ever read",
    "AWS's prompt-caching page and Anthropic's docs (a hit needs a byte-identical prefix)",
    "move it after the last checkpoint",
)
REJECTED = _rule(
    "rejected",
    (ERROR,),
    "any other request Bedrock refuses (malformed, roles out of order, too long for the model)",
    "Bedrock answers a ValidationException: nothing is sent, nothing cached",
    "the Converse API reference; botocore's bedrock-runtime service model",
    "the message says what to change",
)


def unknown(codes: list[str]) -> list[str]:
    """The codes in `codes` that name no rule."""
    return [code for code in codes if code not in RULES]
