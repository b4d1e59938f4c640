"""Small builders shared by the tests: prompts of an exact token size, and raw Converse calls."""

from __future__ import annotations

from typing import Any

from caching.emulator import block_tokens

SONNET = "global.anthropic.claude-sonnet-4-6"
CP: dict[str, Any] = {"cachePoint": {"type": "default"}}
FRAMING = 3  # tokens for each message's role framing, as the emulator counts them


def text_of(tokens: int, word: str = "rule") -> str:
    """Text the estimator counts as exactly `tokens` tokens (4 characters each)."""
    unit = (word + " " * 4)[:4]
    return unit * tokens


def cp(ttl: str | None = None) -> dict[str, Any]:
    return {"cachePoint": {"type": "default", **({"ttl": ttl} if ttl else {})}}


def user(*blocks: Any) -> dict[str, Any]:
    return {"role": "user", "content": [{"text": b} if isinstance(b, str) else b for b in blocks]}


def assistant(*blocks: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": [{"text": b} if isinstance(b, str) else b for b in blocks]}


def message_tokens(message: dict[str, Any]) -> int:
    """A message's tokens by the emulator's documented rule: its blocks plus the role framing."""
    return FRAMING + sum(block_tokens(b) for b in message["content"] if "cachePoint" not in b)


def usage_of(response: dict[str, Any]) -> tuple[int, int, int]:
    """(read, write, input) from a Converse response."""
    u = response["usage"]
    return u["cacheReadInputTokens"], u["cacheWriteInputTokens"], u["inputTokens"]
