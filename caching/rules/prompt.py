"""A request as the cache sees it: tools -> system -> messages, one flat list of blocks with checkpoints between.

Bedrock caches a prefix of the prompt. The prompt is read in a fixed order, tool definitions first, then the system
prompt, then the messages, so changing an early block changes every prefix after it. A `cachePoint` is not content:
it marks the boundary after the block before it. `linearize` also applies the request rules Bedrock enforces,
raising `RequestRejected` with a Bedrock-like message, before anything touches the cache.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, NamedTuple

from .api import API
from .catalog import ModelInfo
from .lint_rules import (
    AFTER_DOCUMENT,
    AFTER_REASONING,
    INVALID_CHECKPOINT,
    INVALID_TTL,
    ORPHAN_CHECKPOINT,
    REJECTED,
    TOO_MANY_CHECKPOINTS,
    TTL_ORDER,
    TTL_UNSUPPORTED,
    Rule,
)
from .places import TOOLS, Place, own_place
from .shape import block_problem, sections_problem
from .terms import TERMS, Terms, terms
from .tokens import MESSAGE_FRAMING_TOKENS, block_tokens, canonical_json
from .ttl import TTL, TTL_SECONDS, TTLS
from .variant import Variant

MAX_CHECKPOINTS = 4
DEFAULT_VARIANT = Variant()  # Converse, no thinking, high effort, auto tool choice
TOKENS = attrgetter("tokens")
DATA = attrgetter("data")
# What keeping a prompt costs besides its blocks' bytes, for each block: the block, its prefix digest, and its part of
# the request as Python keeps them. Measured on conversations of short messages: about 3 KB (when only the prompts'
# bytes were counted against REMEMBERED_BYTES, 150,000 calls of one agent held 1 GB, three quarters of it there).
BLOCK_BYTES = 3_000


class RequestRejected(Exception):
    """A request Bedrock would refuse with a ValidationException; `advice` is a short diagnosis with the fix, `rule`
    the lint rule it breaks (`rejected` for one about no cache rule) and `place` the cachePoint at fault, if one is."""

    def __init__(self, message: str, advice: str = "", rule: Rule = REJECTED, place: Place | None = None) -> None:
        super().__init__(message)
        self.advice = advice or message
        self.rule = rule
        self.place = place


class Block(NamedTuple):
    """One unit of prompt content: a tool spec, a system block or a message content block."""

    place: Place
    tokens: int
    data: bytes


class Checkpoint(NamedTuple):
    """A cachePoint: `position` blocks come before it."""

    place: Place
    position: int
    ttl: TTL


@dataclass(frozen=True)
class Prompt:
    """The linearized prompt with its checkpoints, in order; `cumulative[i]` = tokens of the first i blocks."""

    blocks: tuple[Block, ...]
    checkpoints: tuple[Checkpoint, ...]
    # Computed from the blocks, unless a caller passes its own counts: the planner (built block by block) and the
    # doctor (the estimate scaled to the totals Bedrock reported).
    cumulative: tuple[int, ...] = ()
    # What else keys the cache besides the bytes: a different variant shares no entry.
    variant: Variant = DEFAULT_VARIANT

    def __post_init__(self) -> None:
        if not self.cumulative:
            object.__setattr__(self, "cumulative", (0, *itertools.accumulate(map(TOKENS, self.blocks))))

    def tokens_before(self, position: int) -> int:
        """Tokens of the first `position` blocks."""
        return self.cumulative[position]

    @property
    def size(self) -> int:
        """The bytes of its blocks."""
        return sum(map(len, map(DATA, self.blocks)))  # asked of every prompt the audit linearizes: no Python loop

    @property
    def held(self) -> int:
        """What keeping it (with the request it came from) costs in memory, about: see BLOCK_BYTES."""
        return self.size + BLOCK_BYTES * len(self.blocks)

    @property
    def total_tokens(self) -> int:
        return self.cumulative[-1]


class Resume(NamedTuple):
    """An earlier request's prompt, and how many leading messages this request shares with it; its tools, system
    prompt and variant are the same too. Only what follows is walked again."""

    prompt: Prompt
    kept: int


def blocks_before(prompt: Prompt, message: int) -> int:
    """How many blocks come before message `message` (tools and system included)."""
    count = len(prompt.blocks)
    while count and (place := prompt.blocks[count - 1].place).message is not None and place.message >= message:
        count -= 1
    return count


def _sections(request: dict[str, Any], first_message: int = 0) -> Iterator[tuple[Place, Any, str, int]]:
    """Every block of the request in prompt order: (place, block, label, framing tokens); from message
    `first_message` on when it is above 0 (tools and system left out). A list of the wrong type is refused here; a
    message that is not one is left to the conversation check (`_check_conversation`)."""
    if first_message == 0:
        problem = sections_problem(request)
        if problem:
            raise RequestRejected(f"The request is malformed: {problem}.")
        for i, tool in enumerate((request.get("toolConfig") or {}).get("tools") or []):
            yield Place.tool(i), tool, "tools", 0
        for i, block in enumerate(request.get("system") or []):
            yield Place.system(i), block, "system", 0
    messages = request.get("messages")
    for m, message in enumerate(itertools.islice(_list(messages), first_message, None), start=first_message):
        content = _list(message.get("content")) if isinstance(message, dict) else []
        for c, block in enumerate(content):
            opens = c == 0
            # The label is part of the bytes: the same text as a tool, in the system prompt, or said by the user or
            # the assistant (opening a new message or continuing one) is different content.
            label = f"{message.get('role')}|{'open' if opens else 'cont'}"
            yield Place.content(m, c), block, label, MESSAGE_FRAMING_TOKENS if opens else 0


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def tool_prompt_tokens(request: dict[str, Any], model: ModelInfo | None) -> int:
    """Anthropic's tool-use system prompt for this request's model and tool choice (0 without tools)."""
    tool_config = request.get("toolConfig") or {}
    if model is None or not isinstance(tool_config, dict) or not tool_config.get("tools"):
        return 0
    choice = tool_config.get("toolChoice")
    forced = isinstance(choice, dict) and ("any" in choice or "tool" in choice)
    return model.tool_prompt_tokens[1 if forced else 0]


def _walk(
    request: dict[str, Any], model: ModelInfo | None, resume: Resume | None = None, api: API = API.CONVERSE
) -> tuple[list[Block], list[Checkpoint]]:
    """The blocks and checkpoints, after the checkpoint rules; a rejection names places and checkpoints in the terms
    of the body as sent (`api`)."""
    words = terms(api)

    def named(place: Place) -> Place:
        return own_place(request, place, api)

    blocks: list[Block] = []
    checkpoints: list[Checkpoint] = []
    first_message = 0
    if resume is not None:  # the blocks and checkpoints before message `kept` are the earlier prompt's
        first_message = resume.kept
        blocks = list(resume.prompt.blocks[: blocks_before(resume.prompt, first_message)])
        checkpoints = [c for c in resume.prompt.checkpoints if c.position <= len(blocks)]
    before: Any = None  # the block right before this one in the same list (tools, system, or a message's content)
    content = False  # whether that list has had a content block yet
    for place, block, label, framing in _sections(request, first_message):
        if place.index == 0:
            before, content = None, False
        if not isinstance(block, dict) or not block:
            raise RequestRejected(
                f"The content block at {named(place)} is malformed: expected a non-empty JSON object."
            )
        if block_problem(block, ""):  # named only when wrong: naming every block was a tenth of the walk
            raise RequestRejected(f"The request is malformed: {block_problem(block, str(named(place)))}.")
        if len(block) > 1:
            members = " and ".join(sorted(block))
            raise RequestRejected(
                f"The content block at {named(place)} sets {members}: a content block must set exactly one member.",
                f"{named(place)} sets {members} in one block; give each its own block",
            )
        if "cachePoint" in block:
            _check_point_follows(place, named(place), before, content, words)
            point = _checkpoint(place, block["cachePoint"], len(blocks), model, named(place), words)
            checkpoints.append(point)
            before = block
            continue
        # The tool-use system prompt comes before the tools: count it with the first. (Compared field by field:
        # a Place's own == is a Python function, and this test runs for every block.)
        if place.index == 0 and place.section == TOOLS:
            framing += tool_prompt_tokens(request, model)
        before, content = block, True
        try:
            data = f"{label}|{canonical_json(block)}".encode()
        except UnicodeEncodeError:
            raise RequestRejected(
                f"The content block at {named(place)} is not valid Unicode: it holds a lone surrogate; send UTF-8 text."
            ) from None
        blocks.append(Block(place, block_tokens(block) + framing, data))
    _check_checkpoints(checkpoints, named, words)
    return blocks, checkpoints


def check_layout(request: dict[str, Any], model: ModelInfo | None = None, api: API = API.CONVERSE) -> list[Checkpoint]:
    """Every cachePoint in tools -> system -> messages order, after Bedrock's checkpoint rules.

    Checks the count, the ttl values, 1h support (when `model` is given), content before each point and the
    non-increasing TTL order; the conversation itself is not checked. `api`: the API the request (in Converse's
    form) was written for, whose terms a rejection uses.
    """
    return _walk(request, model, api=api)[1]


def linearize(
    request: dict[str, Any], model: ModelInfo, api: API = API.CONVERSE, resume: Resume | None = None
) -> Prompt:
    """Flatten a Converse request body into blocks and checkpoints, enforcing Bedrock's request rules. `api` is
    "invoke" for a request converted from an InvokeModel body (`messages.converse_form`). With `resume`, the messages
    it keeps are taken from the earlier prompt as they are (see `rules.memo`)."""
    words = terms(api)
    _check_conversation(request.get("messages"), resume.kept if resume else 0, words)
    _check_inference(request.get("inferenceConfig"), words)
    blocks, checkpoints = _walk(request, model, resume, api)
    variant = resume.prompt.variant if resume else Variant.of(request, api)  # a resumed request's is the same
    prompt = Prompt(tuple(blocks), tuple(checkpoints), variant=variant)
    if prompt.total_tokens > model.context_tokens:
        raise RequestRejected(
            f"Input is too long for requested model: about {prompt.total_tokens:,} tokens (estimated offline), the "
            f"limit of {model.name} is {model.context_tokens:,}."
        )
    return prompt


def _check_point_follows(place: Place, named: Place, before: Any, content: bool, words: Terms) -> None:
    """Bedrock's rules (measured live) on what a cachePoint at `place` (`named` as sent) may follow in its own list.
    A point right after another point is accepted (and counts toward the four)."""
    if not content:
        raise RequestRejected(
            f"The {words.point} at {named} has no content block before it in its list: There is nothing available "
            "to cache.",
            f"the {words.point} at {named} has no block before it in its own list; move it after one",
            ORPHAN_CHECKPOINT,
            place,
        )
    if "document" in before and str((before["document"] or {}).get("format", "")).lower() != "pdf":
        raise RequestRejected(
            f"A {words.point} cannot {words.marks} a document that is not a PDF ({named}).",
            f"the {words.point} at {named} {words.is_on} a non-PDF document; put it before the document",
            AFTER_DOCUMENT,
            place,
        )
    if "reasoningContent" in before:
        raise RequestRejected(
            words.after_reasoning.format(place=named),
            f"the {words.point} at {named} {words.is_on} a {words.reasoning}; move it to the next user message",
            AFTER_REASONING,
            place,
        )


def _check_inference(config: Any, words: Terms) -> None:
    """inferenceConfig within Bedrock's ranges, named as the body names them (maxTokens also bounds the reply:
    `emulator.replies.bounded`)."""
    if config is None:
        return
    if not isinstance(config, dict):
        raise RequestRejected("inferenceConfig must be an object.")
    max_tokens = config.get("maxTokens")
    if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1):
        name = words.settings["maxTokens"]
        raise RequestRejected(f"{name} must be a whole number of at least 1, got {max_tokens!r}.")
    for name in ("temperature", "topP"):
        value = config.get(name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1
        ):
            raise RequestRejected(f"{words.settings[name]} must be between 0 and 1, got {value!r}.")


def _checkpoint(
    place: Place, point: Any, position: int, model: ModelInfo | None, named: Place, words: Terms
) -> Checkpoint:
    """The checkpoint a cachePoint block at `place` (`named` as sent) makes, after its own rules."""
    if not isinstance(point, dict) or point.get("type") != "default":
        raise RequestRejected(
            f"1 validation error detected: Value {point!r} at '{named}.{words.point}' failed to satisfy constraint: "
            "type must be 'default'.",
            f'the {words.point} at {named} is {repr(point)[:60]}; write {{"type": "default"}}',
            INVALID_CHECKPOINT,
            place,
        )
    ttl = point.get("ttl", "5m")
    if ttl not in TTLS:
        raise RequestRejected(
            f"1 validation error detected: Value '{ttl}' at '{named}.{words.point}.ttl' failed to satisfy "
            "constraint: Member must satisfy enum value set: [5m, 1h]",
            f"the {words.point} at {named} has ttl {ttl!r}; use 5m or 1h",
            INVALID_TTL,
            place,
        )
    if ttl == "1h" and model is not None and not model.supports_1h:
        raise RequestRejected(
            f"The model {model.base_id} does not support a 1h cache TTL ({words.point} at {named}). Use ttl 5m.",
            f"{model.short} offers no 1h TTL (the {words.point} at {named}); use ttl 5m",
            TTL_UNSUPPORTED,
            place,
        )
    return Checkpoint(place, position, TTL(ttl))


def _check_checkpoints(checkpoints: list[Checkpoint], named: Callable[[Place], Place], words: Terms) -> None:
    """The count and the TTL order (`named` names a checkpoint's place as sent)."""
    if len(checkpoints) > MAX_CHECKPOINTS:
        found = len(checkpoints)
        raise RequestRejected(
            f"A maximum of {MAX_CHECKPOINTS} blocks with {words.point} may be provided. Found {found}.",
            f"{found} checkpoints: Bedrock allows {MAX_CHECKPOINTS}; remove {found - MAX_CHECKPOINTS}",
            TOO_MANY_CHECKPOINTS,
            checkpoints[MAX_CHECKPOINTS].place,
        )
    for earlier, later in itertools.pairwise(checkpoints):
        if TTL_SECONDS[later.ttl] > TTL_SECONDS[earlier.ttl]:
            first, then = named(earlier.place), named(later.place)
            raise RequestRejected(
                f"A {words.point} with ttl '{later.ttl}' ({then}) must not come after one with ttl "
                f"'{earlier.ttl}' ({first}): blocks are processed in the order tools, system, messages, "
                "and TTLs must not increase along it.",
                f"TTL {earlier.ttl} before {later.ttl} is rejected: {then} comes after {first}; "
                "put the 1h checkpoints first",
                TTL_ORDER,
                later.place,
            )


def _tool_uses(message: dict[str, Any]) -> set[str]:
    """The ids of the tool calls in an assistant message (results must answer them in the next message)."""
    if message.get("role") != "assistant":
        return set()
    return {b["toolUse"].get("toolUseId") for b in message["content"] if _member(b, "toolUse")}


def _check_conversation(messages: Any, first: int = 0, words: Terms = TERMS[API.CONVERSE]) -> None:
    """The conversation rules, from message `first` on (the ones before it were checked with an earlier request)."""
    if not isinstance(messages, list) or not messages:
        raise RequestRejected("The messages field must be a non-empty list: add a user message.")
    pending_tool_uses = _tool_uses(messages[first - 1]) if first else set()
    for m, message in enumerate(itertools.islice(messages, first, None), start=first):
        where = f"messages[{m}]"
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            raise RequestRejected(f"The message at {where} is malformed: role must be 'user' or 'assistant'.")
        content = message.get("content")
        if not isinstance(content, list):
            raise RequestRejected(f"The message at {where} is malformed: content must be a list of content blocks.")
        if not content:
            raise RequestRejected(f"The message at {where} has no content: every message needs at least one block.")
        if m == 0 and message["role"] != "user":
            raise RequestRejected("A conversation must start with a user message.")
        if m > 0 and message["role"] == messages[m - 1].get("role"):
            raise RequestRejected(
                f"A conversation must alternate between user and assistant roles: {where} repeats "
                f"role '{message['role']}'."
            )
        results = [b["toolResult"].get("toolUseId") for b in content if _member(b, "toolResult")]
        for tool_use_id in results:
            if tool_use_id not in pending_tool_uses:
                raise RequestRejected(
                    f"The {words.tool_result} {tool_use_id!r} at {where} does not answer a {words.tool_use} in the "
                    "previous assistant message."
                )
        pending_tool_uses = _tool_uses(message)


def _member(block: Any, name: str) -> bool:
    """Whether `block` holds an object under `name` (any other type is refused later, with its place)."""
    return isinstance(block, dict) and isinstance(block.get(name), dict)


def nearest_positions(cumulative: tuple[int, ...], tokens: int) -> list[int]:
    """The prefix lengths (in blocks, at least 1) whose token count is nearest `tokens`, shortest first: where a
    read of `tokens` (as Bedrock reported it) ended, on a prompt whose counts are estimates. Counts never
    fall as a prefix grows, so the nearest are the runs of equal counts on either side of where `tokens` would go."""
    last = len(cumulative) - 1
    at = bisect.bisect_left(cumulative, tokens, 1, last + 1)
    gap = min(abs(cumulative[p] - tokens) for p in (at - 1, at) if 1 <= p <= last)
    nearest: list[int] = []
    for count in sorted({tokens - gap, tokens + gap}):
        nearest += range(
            bisect.bisect_left(cumulative, count, 1, last + 1), bisect.bisect_right(cumulative, count, 1, last + 1)
        )
    return nearest
