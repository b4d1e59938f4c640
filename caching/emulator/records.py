"""What the emulator remembers about each answer: which checkpoint hit, which wrote, which were skipped and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Why a checkpoint did not read or did not write. Later features (the cache doctor, the reports) read these.
BELOW_MINIMUM = "below minimum"
EXPIRED = "expired"
BEYOND_LOOKBACK = "beyond the lookback"
NEW_PREFIX = "new prefix"
OTHER_ACCOUNT = "other account"
COVERED = "covered by the read"


def outcome(read: int, write: int) -> str:
    """READ, WRITE, READ+WRITE or NONE: what a call did to the cache, from its read and written tokens."""
    return {(True, True): "READ+WRITE", (True, False): "READ", (False, True): "WRITE"}.get(
        (read > 0, write > 0), "NONE"
    )


@dataclass(frozen=True)
class CheckpointOutcome:
    """What happened at one cachePoint of a request.

    `action` is "read", "read+write", "write" or "skip". A read found the entry this request read, at the
    checkpoint or up to 20 blocks before it (`read_distance` blocks back; -1 for the other checkpoints); a
    read+write then also wrote the longer prefix up to itself. A write or a skip carries `miss`, why nothing was
    read at this checkpoint; a skip carries `reason`, why nothing was written or read there.
    """

    where: str
    position: int
    prefix_tokens: int
    ttl: str
    action: str
    reason: str = ""
    miss: str = ""
    read_distance: int = -1
    detail: str = ""
    minimum: int = 0


@dataclass(frozen=True)
class CallRecord:
    """One answered request: the operation, who sent it, what the cache did, and the usage reported."""

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

    @property
    def outcome(self) -> str:
        """READ, WRITE, READ+WRITE or NONE, from the usage."""
        return outcome(self.usage.get("cacheReadInputTokens", 0), self.usage.get("cacheWriteInputTokens", 0))
