"""The best the caching rules allow: an oracle that knows when every prefix will be used again.

A workload's prompts are made of chains: the shared prefix (tools + system), sent by every call, and each session's
history, which grows call by call. For one chain, the oracle decides at each use whether to pay for the unread part
as plain input, or to write it with a 5m or a 1h TTL so a later use can read it, choosing the cheapest path over
all uses (a forward dynamic program whose state is the set of entries still alive). Writes happen only where the
prefix reaches the model's minimum; reading and writing take at most three checkpoints, within the limit of four. The lookback limit does not bind it: it can always place a checkpoint where the last entry ended.
"""

from __future__ import annotations

from ..pricing import Prices
from ..rules import TTL_SECONDS

# A path is (cost, regular, read, write_5m, write_1h): its price so far, in units of one input token, and its tokens.
Path = tuple[float, int, int, int, int]
START: Path = (0.0, 0, 0, 0, 0)


# A state: the tokens of the chain covered by its longest live 1h entry and by its longest live 5m entry (0: none; a
# 5m entry no longer than the 1h one is worthless). Every live entry was last used at the chain's previous use: a use
# reads the longest live entry, and its checkpoints refresh the other one too, so one time serves the whole state.
State = tuple[int, int]


def _covers(better: State, other: State) -> bool:
    """True when `better` has entries at least as long, each living at least as long, as those of `other`."""
    return better[0] >= other[0] and max(better) >= other[1]


def _cheapest(paths: dict[State, Path]) -> dict[State, Path]:
    """Drop each state that another state beats: no dearer so far, and every entry of it covered."""
    kept: list[tuple[State, Path]] = []
    for state, path in sorted(paths.items(), key=lambda item: item[1][0]):
        if not any(_covers(better, state) for better, _ in kept):
            kept.append((state, path))
    return dict(kept)


class Chain:
    """The cheapest way to send one growing prefix at each of its uses.

    A state remembers every entry still alive (see State), so an older 1h entry is not forgotten after a call that
    wrote nothing. Each use reads the longest live entry, then leaves the unread part uncached or writes it with a
    5m or a 1h TTL: at most three checkpoints, within Bedrock's four.
    """

    def __init__(self, minimum: int, prices: Prices) -> None:
        self.minimum = minimum
        base = float(prices.input)
        self.read_price = float(prices.read) / base
        self.write_5m, self.write_1h = float(prices.write_5m) / base, float(prices.write_1h) / base
        self.paths: dict[State, Path] = {(0, 0): START}
        self.last_use = float("-inf")

    def use(self, at: float, total: int, base: int = 0, last: bool = False) -> None:
        """The chain is sent at time `at` with `total` tokens (after `base` tokens that precede it)."""
        gap = at - self.last_use
        can_write = not last and base + total >= self.minimum
        best: dict[State, Path] = {}
        for (hour, five), (cost, regular, read_so_far, w5, w1h) in self.paths.items():
            # As the cache: an entry is gone at its TTL. What is alive is read, and refreshed.
            alive = (hour if gap < TTL_SECONDS["1h"] else 0, five if gap < TTL_SECONDS["5m"] else 0)
            read = max(alive)
            unread = total - read
            cost += read * self.read_price
            read_so_far += read
            options: list[tuple[State, Path]] = [(alive, (cost + unread, regular + unread, read_so_far, w5, w1h))]
            if can_write and unread:
                options.append(
                    ((alive[0], total), (cost + unread * self.write_5m, regular, read_so_far, w5 + unread, w1h))
                )
                options.append(((total, 0), (cost + unread * self.write_1h, regular, read_so_far, w5, w1h + unread)))
            for state, path in options:
                if state not in best or path[0] < best[state][0]:
                    best[state] = path
        self.paths, self.last_use = _cheapest(best), at

    def best(self) -> Path:
        """The cheapest path so far: (cost, regular, read, write_5m, write_1h)."""
        return min(self.paths.values(), key=lambda path: path[0])
