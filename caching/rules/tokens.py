"""The emulator's token estimate: one deterministic rule for every kind of block.

Claude's tokenizer is not public, so offline counts are an ESTIMATE: about four characters a token (ceil), the
common rule of thumb. It overcounts English prose a little and undercounts code. What matters for teaching caching
is that the same bytes always give the same count, and that CountTokens and Converse agree.
"""

from __future__ import annotations

import json
from typing import Any

CHARS_PER_TOKEN = 4
MESSAGE_FRAMING_TOKENS = 3  # role marker and turn separators, charged to each message's first block
TOOL_FRAMING_TOKENS = 4  # wrapper of a tool definition, a tool call or a tool result
MEDIA_TOKENS = 1_000  # an image, document, video or audio block, whatever its size


def text_tokens(text: str) -> int:
    """Tokens in a piece of text: ceil(characters / 4)."""
    return -(-len(text) // CHARS_PER_TOKEN)


def canonical_json(value: Any) -> str:
    """One spelling of a JSON value: sorted keys, no spaces. Used for hashing and for counting."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def block_tokens(block: dict[str, Any]) -> int:
    """Tokens of one tool spec, system block or message content block (framing excluded)."""
    if "text" in block:
        return text_tokens(block["text"])
    if "toolSpec" in block:
        spec = block["toolSpec"]
        schema = spec.get("inputSchema", {}).get("json", {})
        return (
            TOOL_FRAMING_TOKENS
            + text_tokens(spec.get("name", ""))
            + text_tokens(spec.get("description", ""))
            + text_tokens(canonical_json(schema))
        )
    if "toolUse" in block:
        use = block["toolUse"]
        return TOOL_FRAMING_TOKENS + text_tokens(use.get("name", "")) + text_tokens(canonical_json(use.get("input")))
    if "toolResult" in block:
        return TOOL_FRAMING_TOKENS + sum(block_tokens(part) for part in block["toolResult"].get("content", []))
    if "json" in block:
        return text_tokens(canonical_json(block["json"]))
    if any(kind in block for kind in ("image", "document", "video", "audio")):
        return MEDIA_TOKENS
    if "reasoningContent" in block:
        return text_tokens(block["reasoningContent"].get("reasoningText", {}).get("text", ""))
    return text_tokens(canonical_json(block))
