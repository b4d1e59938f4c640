"""The three hit rates in use, in one registry: the audit leads with the first and gives every one, named.

"Hit rate" means different things to different people: the share of calls that read the cache, AWS's "cache
efficiency" (read tokens over cached tokens, as its Claude Code guidance computes it), or the share of all input
tokens that were read. The same traffic can score 90% on one and 40% on another, so a figure is never shown without
its definition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..rules.usage import Usage


@dataclass(frozen=True)
class HitRate:
    """One definition of a hit rate: its key in --json, its short name, and what it divides by what."""

    name: str
    label: str
    definition: str
    of: Callable[[int, int, Usage], float]  # (calls, calls that read, their tokens) -> the rate


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


RATES = (
    HitRate(
        "calls", "calls that read", "calls that read the cache / all calls", lambda calls, hits, _: _ratio(hits, calls)
    ),
    HitRate(
        "cache_efficiency",
        "cache efficiency",
        "read / (read + written) tokens, as AWS's guidance defines it",
        lambda _, __, usage: _ratio(
            usage.cacheReadInputTokens, usage.cacheReadInputTokens + usage.cacheWriteInputTokens
        ),
    ),
    HitRate(
        "input_read",
        "input read",
        "read / all input tokens (regular + read + written)",
        lambda _, __, usage: _ratio(usage.cacheReadInputTokens, usage.prompt_tokens),
    ),
)
LEAD = RATES[0]  # what "hit rate" means in the audit's tables: the first thing anyone counts


def rates(calls: int, hits: int, usage: Usage) -> dict[str, float]:
    """Every hit rate of some calls, by name, the lead first."""
    return {rate.name: rate.of(calls, hits, usage) for rate in RATES}
