"""A request as the cache sees it: tools -> system -> messages, one flat list of blocks with checkpoints between.

Bedrock caches a prefix of the prompt. The prompt is read in a fixed order, tool definitions first, then the system
prompt, then the messages, so changing an early block changes every prefix after it. A `cachePoint` is not content:
it marks the boundary after the block before it. `linearize` also applies the request rules Bedrock enforces,
raising `RequestRejected` with a Bedrock-like message, before anything touches the cache.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from .catalog import ModelInfo
from .places import Place
from .tokens import MESSAGE_FRAMING_TOKENS, block_tokens, canonical_json

MAX_CHECKPOINTS = 4
TTLS = ("5m", "1h")
TTL_SECONDS = {"5m": 300, "1h": 3600}


class RequestRejected(Exception):
    """A request Bedrock would refuse with a ValidationException; `advice` is a short diagnosis with the fix."""

    def __init__(self, message: str, advice: str = "") -> None:
        super().__init__(message)
        self.advice = advice or message


class Block(NamedTuple):
    """One unit of prompt content: a tool spec, a system block or a message content block."""

    place: Place
    tokens: int
    data: bytes


class Checkpoint(NamedTuple):
    """A cachePoint: `position` blocks come before it."""

    place: Place
    position: int
    ttl: str


@dataclass(frozen=True)
class Prompt:
    """The linearized prompt with its checkpoints, in order; `cumulative[i]` = tokens of the first i blocks."""

    blocks: tuple[Block, ...]
    checkpoints: tuple[Checkpoint, ...]
    # Computed from the blocks, unless a caller passes its own counts: the planner (built block by block) and the
    # doctor (the estimate scaled to the totals Bedrock reported).
    cumulative: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not self.cumulative:
            object.__setattr__(self, "cumulative", (0, *itertools.accumulate(block.tokens for block in self.blocks)))

    def tokens_before(self, position: int) -> int:
        """Tokens of the first `position` blocks."""
        return self.cumulative[position]

    @property
    def total_tokens(self) -> int:
        return self.cumulative[-1]


def _sections(request: dict[str, Any]) -> Iterator[tuple[Place, Any, str, int]]:
    """Every block of the request in prompt order: (place, block, label, framing tokens)."""
    tool_config = request.get("toolConfig") or {}
    for i, tool in enumerate(tool_config.get("tools", []) if isinstance(tool_config, dict) else []):
        yield Place.tool(i), tool, "tools", 0
    for i, block in enumerate(request.get("system") or []):
        yield Place.system(i), block, "system", 0
    for m, message in enumerate(request.get("messages") or []):
        content = message.get("content") if isinstance(message, dict) else None
        for c, block in enumerate(content or []):
            opens = c == 0
            # The label is part of the bytes: the same text as a tool, in the system prompt, or said by the user or
            # the assistant (opening a new message or continuing one) is different content.
            label = f"{message.get('role')}|{'open' if opens else 'cont'}"
            yield Place.content(m, c), block, label, MESSAGE_FRAMING_TOKENS if opens else 0


def _walk(request: dict[str, Any], model: ModelInfo | None) -> tuple[list[Block], list[Checkpoint]]:
    blocks: list[Block] = []
    checkpoints: list[Checkpoint] = []
    for place, block, label, framing in _sections(request):
        if not isinstance(block, dict) or not block:
            raise RequestRejected(f"The content block at {place} is malformed: expected a non-empty JSON object.")
        if "cachePoint" in block:
            checkpoints.append(_checkpoint(place, block["cachePoint"], len(blocks), model))
            continue
        try:
            data = f"{label}|{canonical_json(block)}".encode()
        except UnicodeEncodeError:
            raise RequestRejected(
                f"The content block at {place} is not valid Unicode: it holds a lone surrogate; send UTF-8 text."
            ) from None
        blocks.append(Block(place, block_tokens(block) + framing, data))
    _check_checkpoints(checkpoints)
    return blocks, checkpoints


def check_layout(request: dict[str, Any], model: ModelInfo | None = None) -> list[Checkpoint]:
    """Every cachePoint in tools -> system -> messages order, after Bedrock's checkpoint rules.

    Checks the count, the ttl values, 1h support (when `model` is given), content before each point and the
    non-increasing TTL order; the conversation itself is not checked.
    """
    return _walk(request, model)[1]


def linearize(request: dict[str, Any], model: ModelInfo) -> Prompt:
    """Flatten a Converse request body into blocks and checkpoints, enforcing Bedrock's request rules."""
    _check_conversation(request.get("messages"))
    blocks, checkpoints = _walk(request, model)
    return Prompt(tuple(blocks), tuple(checkpoints))


def _checkpoint(place: Place, point: Any, position: int, model: ModelInfo | None) -> Checkpoint:
    if not isinstance(point, dict) or point.get("type") != "default":
        raise RequestRejected(
            f"1 validation error detected: Value {point!r} at '{place}.cachePoint' failed to satisfy constraint: "
            "type must be 'default'."
        )
    ttl = point.get("ttl", "5m")
    if ttl not in TTLS:
        raise RequestRejected(
            f"1 validation error detected: Value '{ttl}' at '{place}.cachePoint.ttl' failed to satisfy constraint: "
            "Member must satisfy enum value set: [5m, 1h]"
        )
    if ttl == "1h" and model is not None and not model.supports_1h:
        raise RequestRejected(
            f"The model {model.base_id} does not support a 1h cache TTL (cachePoint at {place}). Use ttl 5m."
        )
    if position == 0:
        raise RequestRejected(f"The cachePoint at {place} has no content before it: there is nothing to cache.")
    return Checkpoint(place, position, ttl)


def _check_checkpoints(checkpoints: list[Checkpoint]) -> None:
    if len(checkpoints) > MAX_CHECKPOINTS:
        found = len(checkpoints)
        raise RequestRejected(
            f"A maximum of {MAX_CHECKPOINTS} blocks with cachePoint may be provided. Found {found}.",
            f"{found} checkpoints: Bedrock allows {MAX_CHECKPOINTS}; remove {found - MAX_CHECKPOINTS}",
        )
    for earlier, later in itertools.pairwise(checkpoints):
        if TTL_SECONDS[later.ttl] > TTL_SECONDS[earlier.ttl]:
            raise RequestRejected(
                f"A cachePoint with ttl '{later.ttl}' ({later.place}) must not come after one with ttl "
                f"'{earlier.ttl}' ({earlier.place}): blocks are processed in the order tools, system, messages, "
                "and TTLs must not increase along it.",
                f"TTL {earlier.ttl} before {later.ttl} is rejected: {later.place} comes after {earlier.place}; "
                "put the 1h checkpoints first",
            )


def _check_conversation(messages: Any) -> None:
    if not isinstance(messages, list) or not messages:
        raise RequestRejected("The messages field must be a non-empty list: add a user message.")
    pending_tool_uses: set[str] = set()
    for m, message in enumerate(messages):
        where = f"messages[{m}]"
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            raise RequestRejected(f"The message at {where} is malformed: role must be 'user' or 'assistant'.")
        content = message.get("content")
        if not isinstance(content, list) or not content:
            raise RequestRejected(f"The message at {where} has no content: every message needs at least one block.")
        if m == 0 and message["role"] != "user":
            raise RequestRejected("A conversation must start with a user message.")
        if m > 0 and message["role"] == messages[m - 1].get("role"):
            raise RequestRejected(
                f"A conversation must alternate between user and assistant roles: {where} repeats "
                f"role '{message['role']}'."
            )
        uses = {b["toolUse"].get("toolUseId") for b in content if isinstance(b, dict) and "toolUse" in b}
        results = [b["toolResult"].get("toolUseId") for b in content if isinstance(b, dict) and "toolResult" in b]
        for tool_use_id in results:
            if tool_use_id not in pending_tool_uses:
                raise RequestRejected(
                    f"The toolResult {tool_use_id!r} at {where} does not answer a toolUse in the previous "
                    "assistant message."
                )
        pending_tool_uses = uses if message["role"] == "assistant" else set()
