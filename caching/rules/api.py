"""The two Bedrock Runtime APIs a request can go through. They build different prompts from the same conversation,
so they never share a cache entry (measured live)."""

from __future__ import annotations

from typing import Any

from .word import Word


class API(Word):
    """Converse (and ConverseStream), or InvokeModel (and its stream) with an Anthropic Messages body."""

    CONVERSE = "converse"
    INVOKE = "invoke"

    @classmethod
    def of_body(cls, body: dict[str, Any]) -> API:
        """The API a saved request body was written for: an Anthropic Messages body names its anthropic_version."""
        return cls.INVOKE if "anthropic_version" in body else cls.CONVERSE
