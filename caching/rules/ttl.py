"""How long a cache entry lives after its last use: Bedrock offers 5 minutes (the default) and 1 hour."""

from __future__ import annotations

from ..errors import LayoutError
from .word import Word


class TTL(Word):
    """A cache entry's time to live; a member compares equal to Bedrock's spelling ("5m", "1h")."""

    FIVE_MINUTES = "5m"
    ONE_HOUR = "1h"

    @property
    def seconds(self) -> int:
        return 3600 if self is TTL.ONE_HOUR else 300

    @classmethod
    def parse(cls, value: object, fix: str = "use 5m or 1h") -> TTL:
        """`value` as a TTL, or one sentence naming it and `fix`."""
        try:
            return cls(value)
        except ValueError:
            raise LayoutError(f"A cache TTL must be '5m' or '1h', got {value!r}: {fix}.") from None


TTLS: tuple[TTL, ...] = tuple(TTL)
TTL_SECONDS: dict[str, int] = {ttl: ttl.seconds for ttl in TTL}
