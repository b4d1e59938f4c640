"""How much a finding matters, the one scale lint, diff and the doctor share."""

from __future__ import annotations

from .word import Word


class Severity(Word):
    """ERROR: Bedrock rejects the request, or it can never read the cache. WARNING: it pays for caching it may not
    get back (a miss, a point that writes anew every call, an estimate near the minimum). INFO: worth knowing, costs
    nothing (a read; a point below the minimum while a later one caches)."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def github(self) -> str:
        """The GitHub Actions workflow command of this level (it has notice where we have info)."""
        return "notice" if self is Severity.INFO else str(self.value)
