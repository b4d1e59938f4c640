"""How each API's request body names what the request rules speak of, so a rejection reads in the terms of the body
that was sent: Converse's cachePoint blocks, toolUse and inferenceConfig, or an Anthropic Messages body's
cache_control, tool_use and max_tokens (InvokeModel). A rule words its rejection once, with these terms; places are
named by `places.own_place`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .api import API


@dataclass(frozen=True)
class Terms:
    """One API's words: a checkpoint (`point`), how it marks the block before it (`marks` and `is_on`: a cachePoint
    follows the block, a cache_control is set on it), a reasoning block, the rejection of a checkpoint on one (`after_reasoning`,
    with a {place}), a tool call and its result, and inferenceConfig's settings by the body's names."""

    point: str
    marks: str
    is_on: str
    reasoning: str
    after_reasoning: str
    tool_use: str
    tool_result: str
    settings: Mapping[str, str]


TERMS = {
    API.CONVERSE: Terms(
        point="cachePoint",
        marks="follow",
        is_on="follows",
        reasoning="reasoning block",
        after_reasoning="Cache point cannot be inserted after reasoning block ({place}).",  # Bedrock's words
        tool_use="toolUse",
        tool_result="toolResult",
        settings={name: f"inferenceConfig.{name}" for name in ("maxTokens", "temperature", "topP")},
    ),
    API.INVOKE: Terms(
        point="cache_control",
        marks="be set on",
        is_on="is set on",
        reasoning="thinking block",
        after_reasoning="A cache_control cannot be set on a thinking block ({place}).",
        tool_use="tool_use",
        tool_result="tool_result",
        settings={"maxTokens": "max_tokens", "temperature": "temperature", "topP": "top_p"},
    ),
}


def terms(api: str) -> Terms:
    """The words of the API a request was written for (Converse's for anything but InvokeModel)."""
    return TERMS[API.INVOKE] if api == API.INVOKE else TERMS[API.CONVERSE]
