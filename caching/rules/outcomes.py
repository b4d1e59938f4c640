"""The vocabulary of outcomes: what a call did to the cache, what each checkpoint did, and why a read missed."""

from __future__ import annotations

from dataclasses import dataclass

from .places import Place
from .ttl import TTL
from .word import Word


class Kind(Word):
    """The kind of a diagnosis, and why a checkpoint did not read or did not write."""

    HIT = "hit"
    BELOW_MINIMUM = "below minimum"
    EXPIRED = "expired"
    BEYOND_LOOKBACK = "beyond the lookback"
    NEW_PREFIX = "new prefix"
    OTHER_ACCOUNT = "other account"
    UNEXPLAINED = "no cause"  # a live entry, yet nothing read: only under an Uncertainty's miss rate
    COVERED = "covered by the read"
    REJECTED = "rejected"
    NO_CACHE_POINT = "no cachePoint"


class Action(Word):
    """What one checkpoint did."""

    READ = "read"
    READ_WRITE = "read+write"
    WRITE = "write"
    SKIP = "skip"


class CallOutcome(Word):
    """What one call did to the cache, from its read and written tokens."""

    READ = "READ"
    WRITE = "WRITE"
    READ_WRITE = "READ+WRITE"
    NONE = "NONE"

    @classmethod
    def of(cls, read: int, write: int) -> CallOutcome:
        if read and write:
            return cls.READ_WRITE
        return cls.READ if read else cls.WRITE if write else cls.NONE


def duration(seconds: float) -> str:
    """6m12s."""
    whole = round(seconds)
    return f"{whole // 60}m{whole % 60:02d}s"


@dataclass(frozen=True)
class Miss:
    """Why a checkpoint found nothing to read: an expired entry (its ttl, seconds since its last use), a live entry
    `distance` blocks back beyond the lookback, an entry of another account, or a new prefix."""

    kind: Kind
    ttl: TTL | None = None
    idle: float = 0.0
    distance: int = 0

    @property
    def detail(self) -> str:
        if self.kind == Kind.EXPIRED:
            where = f", {self.distance} blocks back" if self.distance else ""
            return f"{self.ttl} entry last used {duration(self.idle)} ago{where}"
        if self.kind == Kind.BEYOND_LOOKBACK:
            return f"cached prefix {self.distance} blocks before this checkpoint"
        return ""


NEW = Miss(Kind.NEW_PREFIX)


@dataclass(frozen=True)
class CheckpointOutcome:
    """What happened at one cachePoint of a request.

    A read found the entry this request read, at the checkpoint or up to the lookback before it (`read_distance`
    blocks back; -1 for the other checkpoints); a read+write then also wrote the longer prefix up to itself. A write
    or a skip carries `miss`, why nothing was read at this checkpoint; a skip carries `reason`, why nothing was
    written or read there (each None when there is nothing to explain).
    """

    place: Place
    position: int
    prefix_tokens: int
    ttl: TTL
    action: Action
    reason: Kind | None = None
    miss: Kind | None = None
    read_distance: int = -1
    detail: str = ""
    minimum: int = 0
