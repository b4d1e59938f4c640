"""A request as the cache sees it: tools -> system -> messages, one flat list of blocks with checkpoints between.

Bedrock caches a prefix of the prompt. The prompt is read in a fixed order, tool definitions first, then the system
prompt, then the messages, so changing an early block changes every prefix after it. A `cachePoint` is not content:
it marks the boundary after the block before it. `linearize` also applies the request rules Bedrock enforces,
raising `RequestRejected` with a Bedrock-like message, before anything touches the cache.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, NamedTuple

from .catalog import ModelInfo
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

    where: str
    tokens: int
    data: bytes


class Checkpoint(NamedTuple):
    """A cachePoint: `position` blocks come before it."""

    where: str
    position: int
    ttl: str


@dataclass(frozen=True)
class Prompt:
    """The linearized prompt with its checkpoints, in order; `cumulative[i]` = tokens of the first i blocks."""

    blocks: tuple[Block, ...]
    checkpoints: tuple[Checkpoint, ...]
    # Computed from the blocks, unless a caller that builds prompts block by block (the planner) passes it.
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


def check_layout(request: dict[str, Any], model: ModelInfo | None = None) -> list[tuple[str, str]]:
    """The (where, ttl) of every cachePoint in tools -> system -> messages order, after Bedrock's checkpoint rules.

    Checks the count, the ttl values, 1h support (when `model` is given) and the non-increasing TTL order.
    """
    points: list[Checkpoint] = []
    sections = [
        ("tools", request.get("toolConfig", {}).get("tools", [])),
        ("system", request.get("system", [])),
        *(
            (f"messages[{m}].content", message.get("content", []))
            for m, message in enumerate(request.get("messages", []))
        ),
    ]
    for name, blocks in sections:
        for i, block in enumerate(blocks):
            if isinstance(block, dict) and "cachePoint" in block:
                points.append(_checkpoint(f"{name}[{i}]", block["cachePoint"], len(points) + 1, model))
    _check_checkpoints(points)
    return [(point.where, point.ttl) for point in points]


def linearize(request: dict[str, Any], model: ModelInfo) -> Prompt:
    """Flatten a Converse request body into blocks and checkpoints, enforcing Bedrock's request rules."""
    _check_conversation(request.get("messages"))
    blocks: list[Block] = []
    checkpoints: list[Checkpoint] = []

    def visit(where: str, block: Any, label: str, framing: int = 0) -> None:
        if not isinstance(block, dict) or not block:
            raise RequestRejected(f"The content block at {where} is malformed: expected a non-empty JSON object.")
        if "cachePoint" in block:
            checkpoints.append(_checkpoint(where, block["cachePoint"], len(blocks), model))
            return
        # The label is part of the bytes: the same text as a tool, in the system prompt, or said by the user or
        # the assistant (opening a new message or continuing one) is different content.
        data = f"{label}|{canonical_json(block)}".encode()
        blocks.append(Block(where, block_tokens(block) + framing, data))

    for i, tool in enumerate(request.get("toolConfig", {}).get("tools", [])):
        visit(f"tools[{i}]", tool, "tools")
    for i, block in enumerate(request.get("system", [])):
        visit(f"system[{i}]", block, "system")
    for m, message in enumerate(request["messages"]):
        for c, block in enumerate(message["content"]):
            opens = c == 0
            label = f"{message['role']}|{'open' if opens else 'cont'}"
            visit(f"messages[{m}].content[{c}]", block, label, MESSAGE_FRAMING_TOKENS if opens else 0)

    _check_checkpoints(checkpoints)
    return Prompt(tuple(blocks), tuple(checkpoints))


def _checkpoint(where: str, point: Any, position: int, model: ModelInfo | None) -> Checkpoint:
    if not isinstance(point, dict) or point.get("type") != "default":
        raise RequestRejected(
            f"1 validation error detected: Value {point!r} at '{where}.cachePoint' failed to satisfy constraint: "
            "type must be 'default'."
        )
    ttl = point.get("ttl", "5m")
    if ttl not in TTLS:
        raise RequestRejected(
            f"1 validation error detected: Value '{ttl}' at '{where}.cachePoint.ttl' failed to satisfy constraint: "
            "Member must satisfy enum value set: [5m, 1h]"
        )
    if ttl == "1h" and model is not None and not model.supports_1h:
        raise RequestRejected(
            f"The model {model.base_id} does not support a 1h cache TTL (cachePoint at {where}). Use ttl 5m."
        )
    if position == 0:
        raise RequestRejected(f"The cachePoint at {where} has no content before it: there is nothing to cache.")
    return Checkpoint(where, position, ttl)


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
                f"A cachePoint with ttl '{later.ttl}' ({later.where}) must not come after one with ttl "
                f"'{earlier.ttl}' ({earlier.where}): blocks are processed in the order tools, system, messages, "
                "and TTLs must not increase along it.",
                f"TTL {earlier.ttl} before {later.ttl} is rejected: {later.where} comes after {earlier.where}; "
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
