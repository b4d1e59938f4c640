"""What the emulator remembers about each answer: the request, the usage, what each checkpoint did, and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..rules import CallOutcome, CheckpointOutcome, Diagnosis


@dataclass(frozen=True)
class CallRecord:
    """One answered request: the operation, who sent it, what the cache did, the usage reported, and the diagnosis
    (the same words the cache doctor gives when it infers the call from a recording)."""

    number: int
    operation: str
    model_id: str
    account: str
    at: float
    request: dict[str, Any]
    usage: dict[str, Any]
    checkpoints: tuple[CheckpointOutcome, ...] = field(default=())
    read_position: int = 0
    total_tokens: int = 0
    diagnosis: Diagnosis | None = None

    @property
    def outcome(self) -> CallOutcome:
        """READ, WRITE, READ+WRITE or NONE, from the usage."""
        return CallOutcome.of(self.usage.get("cacheReadInputTokens", 0), self.usage.get("cacheWriteInputTokens", 0))
