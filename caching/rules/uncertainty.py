"""How much less tidy than its documented rules Bedrock may be, as a setting the rules engine applies.

The documented rules make expiry a sharp edge (an entry lives its TTL after its last use) and never miss without a
cause. Two measurements say Bedrock is not that tidy:
- a 5-minute entry was measured to disappear somewhere between 300 and 420 s after its last use (the
  cacheeconomics project, replaying request timings against live counters): `expiry_window` is that extra time,
  and each prefix lives a share of it drawn once from its key;
- cross-region inference can send a request to a region without the entry (AWS: it "may lead to increased cache
  writes"): `miss_rate` is the share of requests that find nothing, whatever they send.

`EXACT` (the default everywhere) is the documented rules. Draws are deterministic: the same seed, traffic and
settings give the same misses, so a test that runs its agent against a less kind Bedrock is repeatable.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

MEASURED_WINDOW_SECONDS = 120.0  # 300 to 420 s for a 5m entry (cacheeconomics)


def _share(*parts: object) -> float:
    """A number in [0, 1) drawn from the parts: the same parts, the same number."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass(frozen=True)
class Uncertainty:
    """An expiry window (seconds an entry may outlive its TTL) and a rate of misses with no cause."""

    expiry_window: float = 0.0
    miss_rate: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.expiry_window < float("inf"):
            raise ValueError(f"the expiry window must be 0 s or more, got {self.expiry_window!r}")
        if not 0 <= self.miss_rate <= 1:
            raise ValueError(f"the miss rate must be between 0 and 1, got {self.miss_rate!r}")

    @property
    def exact(self) -> bool:
        """True for the documented rules: no window, no causeless misses."""
        return not self.expiry_window and not self.miss_rate

    def extra_life(self, model_id: str, digest: str, account: str) -> float:
        """Seconds past its TTL this prefix's entry lives: its share of the window, the same at every use."""
        if not self.expiry_window:
            return 0.0
        return self.expiry_window * _share(self.seed, "life", model_id, digest, account)

    def misses(self, model_id: str, account: str, first_digest: str, now: float) -> bool:
        """True when this request finds nothing, whatever it sends (drawn from who sends what, and when)."""
        return bool(self.miss_rate) and _share(self.seed, "miss", model_id, account, first_digest, now) < self.miss_rate

    def words(self) -> str:
        """The setting in a few words, for a report."""
        life = f"entries live up to {self.expiry_window:g} s past their TTL" if self.expiry_window else "a sharp TTL"
        misses = f"{self.miss_rate:.1%} of calls miss with no cause" if self.miss_rate else "no miss without a cause"
        return f"{life}, {misses}"


EXACT = Uncertainty()
