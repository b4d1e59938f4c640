"""The best the caching rules allow: an oracle that knows when every prefix will be used again.

A workload's prompts are made of chains: the shared prefix (tools + system), sent by every call, and each session's
history, which grows call by call. For one chain, the oracle decides at each use whether to pay for the unread part
as plain input, or to write it with a 5m or a 1h TTL so a later use can read it, choosing the cheapest path over
all uses (a forward dynamic program whose state is the set of entries still alive). Writes happen only where the
prefix reaches the model's minimum; reading and writing take at most three checkpoints, within the limit of four. The lookback limit does not bind it: it can always place a checkpoint where the last entry ended.
"""

from __future__ import annotations

from .ttl import TTL
from .usage import Usage

HOUR, FIVE = TTL.ONE_HOUR.seconds, TTL.FIVE_MINUTES.seconds

# A path is (cost, regular, read, write_5m, write_1h): its price so far, in units of one input token, and its tokens.
# A plain tuple, not a Usage: the search builds several at every use of every chain, and only the best one leaves
# it (as a Usage, see Chain.best).
Path = tuple[float, int, int, int, int]
START: Path = (0.0, 0, 0, 0, 0)


# A state: the tokens of the chain covered by its longest live 1h entry and by its longest live 5m entry (0: none; a
# 5m entry no longer than the 1h one is worthless). Every live entry was last used at the chain's previous use: a use
# reads the longest live entry, and its checkpoints refresh the other one too, so one time serves the whole state.
State = tuple[int, int]


def _cheapest(paths: dict[State, Path]) -> dict[State, Path]:
    """Drop each state that another state beats: no dearer so far, with a 1h entry at least as long and a longest
    entry at least as long. This runs at every use of every chain, so it is written for speed."""
    if len(paths) == 1:
        return paths
    kept: dict[State, Path] = {}
    for state, path in sorted(paths.items(), key=_cost):
        hour, five = state
        for better_hour, better_five in kept:
            if better_hour >= hour and (better_hour if better_hour > better_five else better_five) >= five:
                break
        else:
            kept[state] = path
    return kept


def _cost(item: tuple[State, Path]) -> float:
    return item[1][0]


class Chain:
    """The cheapest way to send one growing prefix at each of its uses.

    A state remembers every entry still alive (see State), so an older 1h entry is not forgotten after a call that
    wrote nothing. Each use reads the longest live entry, then leaves the unread part uncached or writes it with a
    5m or a 1h TTL: at most three checkpoints, within Bedrock's four.
    """

    def __init__(self, minimum: int, weights: tuple[float, float, float]) -> None:
        """`weights`: what a read, a 5m write and a 1h write cost per token, in units of one input token (see
        pricing.Prices.weights)."""
        self.minimum = minimum
        self.read_price, self.write_5m, self.write_1h = weights
        self.paths: dict[State, Path] = {(0, 0): START}
        self.last_use = float("-inf")

    def use(self, at: float, total: int, base: int = 0, last: bool = False) -> None:
        """The chain is sent at time `at` with `total` tokens (after `base` tokens that precede it)."""
        gap = at - self.last_use
        hour_lives, five_lives = gap < HOUR, gap < FIVE
        can_write = not last and base + total >= self.minimum
        read_price, write_5m, write_1h = self.read_price, self.write_5m, self.write_1h
        best: dict[State, Path] = {}
        for state, (cost, regular, read_so_far, w5, w1h) in self.paths.items():
            # As the cache: an entry is gone at its TTL. What is alive is read, and refreshed.
            hour, five = state
            if not (hour_lives and five_lives):
                hour, five = hour if hour_lives else 0, five if five_lives else 0
                state = (hour, five)
            read = hour if hour > five else five
            unread = total - read
            cost += read * read_price
            read_so_far += read
            # Leave the unread part uncached, or (when it can) write it for 5m, or for 1h: keep the cheapest way to
            # reach each state.
            price = cost + unread
            known = best.get(state)
            if known is None or price < known[0]:
                best[state] = (price, regular + unread, read_so_far, w5, w1h)
            if can_write and unread:
                price, state = cost + unread * write_5m, (hour, total)
                known = best.get(state)
                if known is None or price < known[0]:
                    best[state] = (price, regular, read_so_far, w5 + unread, w1h)
                price, state = cost + unread * write_1h, (total, 0)
                known = best.get(state)
                if known is None or price < known[0]:
                    best[state] = (price, regular, read_so_far, w5, w1h + unread)
        self.paths, self.last_use = _cheapest(best), at

    def cost(self) -> float:
        """The price of the cheapest path so far, in units of one input token."""
        return min(path[0] for path in self.paths.values())

    def best(self) -> Usage:
        """The tokens of the cheapest path so far, by kind (no output: the oracle decides only how input is sent)."""
        _, regular, read, write_5m, write_1h = min(self.paths.values(), key=lambda path: path[0])
        return Usage.of(regular=regular, read=read, write_5m=write_5m, write_1h=write_1h)
