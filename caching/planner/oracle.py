"""The best the caching rules allow: an oracle that knows when every prefix will be used again.

A workload's prompts are made of chains: the shared prefix (tools + system), sent by every call, and each session's
history, which grows call by call. For one chain, the oracle decides at each use whether to pay for the unread part
as plain input, or to write it with a 5m or a 1h TTL so the next use can read it, choosing the cheapest path over
all uses (a forward dynamic program over "not cached", "5m entry", "1h entry"). Writes happen only where the prefix
reaches the model's minimum; reading the previous prefix and writing the new one takes two checkpoints, within the
limit of four. The lookback limit does not bind it: it can always place a checkpoint where the last entry ended.
"""

from __future__ import annotations

from ..pricing import Prices
from ..rules import TTL_SECONDS

# A path is (cost, regular, read, write_5m, write_1h): its price so far, in units of one input token, and its tokens.
Path = tuple[float, int, int, int, int]
START: Path = (0.0, 0, 0, 0, 0)


class Chain:
    """The cheapest way to send one growing prefix at each of its uses."""

    def __init__(self, minimum: int, prices: Prices) -> None:
        self.minimum = minimum
        base = float(prices.input)
        self.read_price = float(prices.read) / base
        self.write_5m, self.write_1h = float(prices.write_5m) / base, float(prices.write_1h) / base
        self.paths: dict[str | None, Path] = {None: START}
        self.cached = 0  # tokens of the chain at its previous use
        self.last_use = float("-inf")

    def use(self, at: float, total: int, base: int = 0, last: bool = False) -> None:
        """The chain is sent at time `at` with `total` tokens (after `base` tokens that precede it)."""
        gap = at - self.last_use
        can_write = not last and base + total >= self.minimum
        best: dict[str | None, Path] = {}
        for state, (cost, regular, read_so_far, w5, w1h) in self.paths.items():
            alive = state is not None and gap < TTL_SECONDS[state]  # as the cache: an entry is gone at its TTL
            read = min(self.cached, total) if alive else 0
            unread = total - read
            cost += read * self.read_price
            read_so_far += read
            options: list[tuple[str | None, Path]] = [(None, (cost + unread, regular + unread, read_so_far, w5, w1h))]
            if can_write and unread:
                options.append(("5m", (cost + unread * self.write_5m, regular, read_so_far, w5 + unread, w1h)))
                options.append(("1h", (cost + unread * self.write_1h, regular, read_so_far, w5, w1h + unread)))
            elif not last and alive and not unread:
                options.append((state, (cost, regular, read_so_far, w5, w1h)))  # nothing new: the entry is refreshed
            for new_state, path in options:
                if new_state not in best or path[0] < best[new_state][0]:
                    best[new_state] = path
        self.paths, self.cached, self.last_use = best, total, at

    def best(self) -> Path:
        """The cheapest path so far: (cost, regular, read, write_5m, write_1h)."""
        return min(self.paths.values(), key=lambda path: path[0])
