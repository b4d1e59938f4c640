"""What the emulator remembers about each answer: the call, what each checkpoint did, and why."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..call import Call
from ..rules import CheckpointOutcome, Diagnosis


@dataclass(frozen=True, kw_only=True)
class CallRecord(Call):
    """One answered request (its `agent` is the caller's account): its number, the operation, what each checkpoint
    did, and the diagnosis (the same words the cache doctor gives when it infers the call from a recording)."""

    number: int
    operation: str
    account: str
    checkpoints: tuple[CheckpointOutcome, ...] = field(default=())
    read_position: int = 0
    total_tokens: int = 0
    diagnosis: Diagnosis | None = None
