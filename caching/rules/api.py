"""The two Bedrock Runtime APIs a request can go through. They build different prompts from the same conversation,
so they never share a cache entry (measured live)."""

from __future__ import annotations

from typing import Any

from .word import Word


class API(Word):
    """Converse (and ConverseStream), or InvokeModel (and its stream) with an Anthropic Messages body."""

    CONVERSE = "converse"
    INVOKE = "invoke"

    @property
    def operation(self) -> str:
        """The operation's name as Bedrock logs it (the streaming one adds Stream or WithResponseStream)."""
        return "InvokeModel" if self is API.INVOKE else "Converse"

    @classmethod
    def of_operation(cls, name: str) -> API:
        """The API of an operation: InvokeModel and InvokeModelWithResponseStream, else Converse (and its stream)."""
        return cls.INVOKE if name.startswith("InvokeModel") else cls.CONVERSE

    @classmethod
    def of_body(cls, body: dict[str, Any]) -> API:
        """The API a saved request body was written for: an Anthropic Messages body names its anthropic_version."""
        return cls.INVOKE if "anthropic_version" in body else cls.CONVERSE
