"""One model call's token usage, with Bedrock's own field names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import limits
from ..errors import UsageError
from .api import API
from .ttl import TTL, TTLS

COUNTS = ("inputTokens", "outputTokens", "cacheReadInputTokens", "cacheWriteInputTokens")


def _count(value: Any, name: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(
            f"{name} must be a whole number of tokens, got {value!r}: pass the usage dict Bedrock returned."
        )
    if value < 0:
        raise UsageError(f"{name} cannot be negative, got {value}: pass the usage dict Bedrock returned.")
    if value > limits.MOST_TOKENS_IN_A_CALL:
        shown = f"{value:,}" if value < 10**30 else f"a number of {len(str(value)):,} digits"
        raise UsageError(
            f"{name} is {shown}, more than one call can hold ({limits.named('MOST_TOKENS_IN_A_CALL')}): pass the "
            "usage dict Bedrock returned."
        )
    return value


@dataclass(frozen=True)
class Usage:
    """Token counts of one model call (or a sum of calls), as Bedrock reports them.

    `inputTokens` excludes cached tokens: the prompt is inputTokens + cacheReadInputTokens + cacheWriteInputTokens.
    `cacheDetails` splits the written tokens by TTL, as ((ttl, tokens), ...).
    """

    inputTokens: int = 0
    outputTokens: int = 0
    cacheReadInputTokens: int = 0
    cacheWriteInputTokens: int = 0
    cacheDetails: tuple[tuple[str, int], ...] = ()

    @classmethod
    def from_bedrock(cls, usage: Mapping[str, Any]) -> Usage:
        """Build from any Bedrock usage dict: missing keys count 0; negative or non-integer values are rejected."""
        if not isinstance(usage, Mapping):
            raise UsageError(f"A usage record must be a dict of token counts, got {usage!r}: pass response['usage'].")
        counts = {name: _count(usage.get(name), name) for name in COUNTS}
        details = usage.get("cacheDetails") or []
        if not isinstance(details, list):
            raise UsageError(f"cacheDetails must be a list of {{ttl, inputTokens}}, got {details!r}.")
        parsed = []
        for detail in details:
            ttl = detail.get("ttl") if isinstance(detail, Mapping) else None
            if ttl not in TTLS:
                raise UsageError(f"cacheDetails entries need ttl '5m' or '1h', got {detail!r}.")
            parsed.append((TTL(ttl), _count(detail.get("inputTokens"), f"cacheDetails[{ttl}].inputTokens")))
        return cls(**counts, cacheDetails=tuple(parsed))

    @classmethod
    def of(cls, *, regular: int = 0, output: int = 0, read: int = 0, write_5m: int = 0, write_1h: int = 0) -> Usage:
        """Build from tokens by kind; the writes split by TTL become cacheDetails, 1h first as Bedrock lists them."""
        details = tuple((ttl, n) for ttl, n in ((TTL.ONE_HOUR, write_1h), (TTL.FIVE_MINUTES, write_5m)) if n)
        return cls(regular, output, read, write_5m + write_1h, details)

    def to_bedrock(self, api: API = API.CONVERSE) -> dict[str, Any]:
        """The usage as Bedrock reports it: Converse's `usage` (with totalTokens and cacheDetails), or for
        InvokeModel the Anthropic Messages `usage` (cache_creation split by TTL)."""
        if api is API.INVOKE:
            return {
                "input_tokens": self.inputTokens,
                "cache_creation_input_tokens": self.cacheWriteInputTokens,
                "cache_read_input_tokens": self.cacheReadInputTokens,
                "cache_creation": {
                    "ephemeral_5m_input_tokens": self.written(TTL.FIVE_MINUTES),
                    "ephemeral_1h_input_tokens": self.written(TTL.ONE_HOUR),
                },
                "output_tokens": self.outputTokens,
            }
        return {
            "inputTokens": self.inputTokens,
            "outputTokens": self.outputTokens,
            "totalTokens": self.totalTokens,
            "cacheReadInputTokens": self.cacheReadInputTokens,
            "cacheWriteInputTokens": self.cacheWriteInputTokens,
            "cacheDetails": [{"ttl": str(ttl), "inputTokens": tokens} for ttl, tokens in self.cacheDetails],
        }

    @property
    def prompt_tokens(self) -> int:
        """Every input token of the prompt: regular + read + written."""
        return self.inputTokens + self.cacheReadInputTokens + self.cacheWriteInputTokens

    @property
    def totalTokens(self) -> int:
        return self.prompt_tokens + self.outputTokens

    def written(self, ttl: str, requested_ttl: str = TTL.FIVE_MINUTES) -> int:
        """Tokens written with `ttl`: from cacheDetails when present, else all of them at the requested TTL."""
        if self.cacheDetails:
            return sum(tokens for detail_ttl, tokens in self.cacheDetails if detail_ttl == ttl)
        return self.cacheWriteInputTokens if ttl == requested_ttl else 0

    def __add__(self, other: Usage) -> Usage:
        mine, theirs = self.cacheDetails, other.cacheDetails
        if mine and theirs:  # summed by TTL; sorted, "1h" comes before "5m" as Bedrock lists them
            merged = dict(mine)
            for ttl, tokens in theirs:
                merged[ttl] = merged.get(ttl, 0) + tokens
            details = tuple(sorted(merged.items()))
        else:
            details = tuple(sorted(mine or theirs))
        return Usage(
            self.inputTokens + other.inputTokens,
            self.outputTokens + other.outputTokens,
            self.cacheReadInputTokens + other.cacheReadInputTokens,
            self.cacheWriteInputTokens + other.cacheWriteInputTokens,
            details,
        )
