"""The calls replayed as they were sent and paid (`AsLogged`), from the logged counts alone: what was read and
written, which writes no later call read, and the reads the rules promised that the logs lack.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from ..rules import TTL, Checkpoint, Entry, ModelInfo, Prompt, PromptCache
from ..rules.cache import FORGET_AFTER_SECONDS, found_ttl, no_clock
from ..rules.prompt import nearest_positions
from ..rules.usage import Usage
from .logs import LoggedCall
from .prepare import Prepared
from .spend import EMPTY, Key, Open, Replay, Spend

SETTLE_EVERY = 1_000  # calls between two settlings of writes whose entries have all expired
# A log times a call's start, and its entries can be read only once it answers (Bedrock: once the response begins):
# a read is promised only this long after the write, so parallel calls sent together are not counted as misses.
ANSWERED_SECONDS = 10.0


@dataclass
class _Written:
    """The entries one call wrote (each with the tokens up to it and its TTL), the tokens where its write began and
    ended, and (as logged) how many of the written tokens were 5m ones: they come last, since TTLs never increase
    along the prompt."""

    entries: list[tuple[Entry, int, TTL]]
    start: int
    end: int
    model_id: str
    five_minute: int | None = None  # None: the TTL of the entry at the end says it
    counted: bool = True  # False: a call replayed only to rebuild the cache (see windows.py); its waste is not counted

    def unread_at(self, used: int) -> tuple[int, int]:
        """Its 5m and its 1h tokens unread once read `used` tokens in: the unread tail, its 5m tokens first."""
        unread = self.end - used
        if self.five_minute is None:
            ttl = next((t for _, tokens, t in self.entries if tokens == self.end), TTL.FIVE_MINUTES)
            five = unread if ttl == TTL.FIVE_MINUTES else 0
        else:  # the unread tail of the write: its 5m tokens first, then the 1h ones before them
            five = min(unread, self.five_minute)
        return five, unread - five


class AsLogged(Replay):
    """The calls as they were sent and paid, from the logged counts alone. Each call's spend and hit are its logged
    usage. A read of R tokens found the live entry, among the prefixes of the call's prompt, that is known to be R
    tokens long (a write ended there, or an earlier read found it); a write of W tokens after it ended R + W tokens
    in, at the call's cache point whose estimated prefix is nearest that. The rules' estimates (scaled to each
    call's logged total) only locate prefixes, so what was read, what was written and what no one read are exact.

    A read that no live entry of its length explains (an entry written before the logs begin, or by calls not in
    them; or records that disagree) is counted in `Spend.unexplained`; what it read is then known to exist, so a
    later read of it is explained."""

    def __init__(self) -> None:
        super().__init__()
        # Every entry a pending write holds (so every live entry), by id: its tokens, and whether that count is a
        # logged one (the end of a write, or a read of it) rather than the estimate of a cache point inside a write.
        self._length: dict[int, int] = {}
        self._guessed: set[int] = set()
        self._anywhere: dict[str, ModelInfo] = {}  # each model with no minimum: a logged write is never refused
        self._born: dict[int, float] = {}  # when each live entry was written
        self.cache = PromptCache(no_clock)  # each step is given the call's own time
        # Writes not yet settled, in a heap by when the last of their entries expires (as far as is known: a read
        # may have refreshed one since), and the entries read so far (by id), each with the tokens a read took.
        self._pending: list[tuple[float, int, _Written]] = []
        self._read: dict[int, int] = {}
        self._held: set[int] = set()  # the entries of pending writes: a read of any other is not remembered
        self._writes = 0  # writes so far: orders the heap's ties

    # What a replay keeps by the id of an entry (entries are not hashable). A copy, or a replay pickled to another
    # process (a Dask worker), has new entries with new ids: these are handed over by entry (see __getstate__).
    _BY_ENTRY = ("_read", "_held", "_length", "_born", "_guessed")

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        entries = {id(entry): entry for _, _, written in self._pending for entry, _, _ in written.entries}
        for name in self._BY_ENTRY:  # kept only for the entries of pending writes (see _held)
            kept = state[name]
            pairs = kept.items() if isinstance(kept, dict) else ((key, None) for key in kept)
            state[name] = (type(kept), [(entries[key], value) for key, value in pairs if key in entries])
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name in self._BY_ENTRY:
            kind, pairs = state[name]
            state[name] = (
                kind((id(entry), value) for entry, value in pairs)
                if kind is dict
                else kind(id(entry) for entry, _ in pairs)
            )
        self.__dict__.update(state)

    def add(self, call: LoggedCall, prepared: Prepared, counted: bool = True) -> None:
        """Replay one call as it was sent; `counted` False: only to rebuild the cache (see windows.py)."""
        prompt, digests, account, model_id, now = (
            prepared.prompt,
            prepared.digests,
            call.account,
            call.model_id,
            call.at,
        )
        read, write = call.usage.cacheReadInputTokens, call.usage.cacheWriteInputTokens
        if counted:
            self._promised(call, prompt, digests, read)
        estimate = prompt.cumulative
        counts = list(estimate)
        points: list[Checkpoint] = []
        read_at, found = 0, None
        if read:
            read_at, found = self._reading(prompt, digests, model_id, account, now, read)
            counts[read_at] = read
            points = [point for point in prompt.checkpoints if point.position <= read_at]  # refreshed by the read
            if counted and (found is None or (self._length[id(found)] != read and id(found) not in self._guessed)):
                self._unexplained(call)
            if found is None:  # the entry was there: known from now on, with no write to charge
                points = [Checkpoint(prompt.blocks[read_at - 1].place, read_at, found_ttl(prompt, read_at))]
            else:
                self._note_read(found, read)
                if self._inherited:
                    self._track((model_id, account, digests[read_at]), found, read)
                if id(found) in self._guessed:  # now its length is known
                    self._length[id(found)] = read
                    self._guessed.discard(id(found))
        written: list[int] = []
        later = [point for point in prompt.checkpoints if point.position > read_at]
        if write and later:
            end = min(later, key=lambda p: (abs(estimate[p.position] - read - write), -p.position)).position
            for point in later:
                tokens = estimate[point.position]
                if point.position == end or (point.position < end and tokens >= prepared.model.min_tokens):
                    counts[point.position] = (
                        read + write if point.position == end else min(max(tokens, read), read + write)
                    )
                    points.append(point)
                    written.append(point.position)
        model = self._anywhere.get(model_id) or self._anywhere.setdefault(
            model_id, replace(prepared.model, min_tokens=0)
        )
        cut = Prompt(prompt.blocks, tuple(points), tuple(counts), prompt.variant)
        result = self.cache.commit(cut, model, model_id, account, digests, now, read_at if found else 0)
        five_minute = five_minute_tokens(call.usage)
        entries = []
        for entry, at in zip(result.written, result.written_at, strict=True):
            self._length[id(entry)] = counts[at]
            self._born[id(entry)] = now
            if at in written[:-1]:
                self._guessed.add(id(entry))
            if at in written:
                entries.append((entry, counts[at], entry.ttl))
            else:  # the entry a read found, now known
                self._wrote(_Written([(entry, read, entry.ttl)], read, read, model_id, 0))
        if write:  # with no entry (no cache point past the read), it is never read: waste
            if not entries and counted:
                self._unexplained(call)
            self._wrote(_Written(entries, read, read + write, model_id, five_minute, counted))
        if counted:
            spent = self.spend.tokens  # the logged usage, summed as a Usage: its cacheDetails may be absent
            spent[model_id] = spent.get(model_id, EMPTY) + call.usage
        self._counted(read > 0, counted)
        if self._replayed % SETTLE_EVERY == 0:  # writes that can no longer be read are settled, and let go
            self._settle(now)

    def finish(self) -> Spend:
        """The spend, every pending write settled."""
        self._settle(None)
        return super().finish()

    def _note_read(self, entry: Entry | None, tokens: int) -> None:
        """Remember that `entry` was read, `tokens` long (unless its write is settled: calls logged out of time order
        can read an entry after that, and its id may be another entry's later)."""
        if entry is not None and id(entry) in self._held:
            self._read[id(entry)] = max(self._read.get(id(entry), 0), tokens)

    def _wrote(self, written: _Written) -> None:
        """Keep a write until every entry it made has expired (a write with no entry: until the next settling)."""
        last = max([entry.expires_at for entry, _, _ in written.entries], default=float("-inf"))
        self._writes += 1
        heapq.heappush(self._pending, (last, self._writes, written))
        self._held.update([id(entry) for entry, _, _ in written.entries])

    def _used(self, written: _Written) -> int:
        """How far into the prompt a write's entries have been read: from where it began, at most where it ends."""
        reads = (self._read.get(id(entry), 0) for entry, _, _ in written.entries)
        return min(max([written.start, *reads]), written.end)

    def _settle(self, now: float | None) -> None:
        """Count the waste of each pending write whose entries had all expired FORGET_AFTER_SECONDS before `now`
        (None: of every one), and let it go. Not sooner: a call logged up to that late still finds the entries'
        lengths, whenever the settling runs (every SETTLE_EVERY calls of this replay, which are not the same calls
        in one process and in a cluster's part of the logs)."""
        pending = self._pending
        horizon = float("inf") if now is None else now - FORGET_AFTER_SECONDS
        while pending and pending[0][0] <= horizon:
            _, order, written = heapq.heappop(pending)
            last = max((entry.expires_at for entry, _, _ in written.entries), default=float("-inf"))
            if last > horizon:  # refreshed by a read since: looked at again when it expires
                heapq.heappush(pending, (last, order, written))
                continue
            end = written.end
            used = self._used(written)
            if end > used and written.counted:
                five, hour = written.unread_at(used)
                unread = five + hour
                self.spend.wasted_tokens += unread
                waste = self._waste.setdefault(written.model_id, [0, 0])  # priced once, in `finish`
                waste[0] += five
                waste[1] += unread - five
            for entry, _, _ in written.entries:
                self._let_go(entry)

    def _let_go(self, entry: Entry) -> None:
        """Forget what is known of an entry whose write is settled."""
        self._read.pop(id(entry), None)
        self._held.discard(id(entry))
        self._length.pop(id(entry), None)
        self._born.pop(id(entry), None)
        self._guessed.discard(id(entry))

    def _entries(self, now: float) -> Iterator[tuple[Key, Any]]:
        for (model_id, digest, account), (_, expires_at, _) in self.cache.entries().items():
            if expires_at > now:
                yield (model_id, account, digest), self.cache.entry(model_id, digest, account)

    def _open(self, now: float) -> Iterator[Open]:
        keys = {id(entry): key for key, entry in self._entries(now)}
        for _, _, written in self._pending:
            live = tuple(keys[id(entry)] for entry, _, _ in written.entries if id(entry) in keys)
            used = self._used(written)
            if written.counted and live and used < written.end:
                yield Open(written.model_id, used, written.end, live, written)

    def _live(self, now: float) -> Iterator[tuple[Any, ...]]:
        """As Replay's, with what the logs say of each entry: its length, whether that is only estimated, and when
        it was written if so recently that a call may not have been answered (ANSWERED_SECONDS)."""
        for key, (ttl, expires_at, ready) in self.cache.entries().items():
            if expires_at <= now:
                continue
            entry = self.cache.entry(*key)
            born = self._born.get(id(entry), float("-inf"))
            yield (
                key,
                ttl,
                expires_at,
                ready,
                self._length.get(id(entry)),
                id(entry) in self._guessed,
                max(born, now - ANSWERED_SECONDS),
            )

    def _promised(self, call: LoggedCall, prompt: Prompt, digests: list[str], read: int) -> None:
        """Count a call the rules say would read (a live entry of known length holds a prefix of it, within the
        lookback of its cache points), and a miss when it read less than that entry and wrote it again. A call that
        read less and did not write it again is not counted either way: the replay's idea of that entry is then
        not one the logs bear out."""
        at = self.cache.lookup(prompt, call.model_id, call.account, digests, call.at)
        entry = self.cache.entry(call.model_id, digests[at], call.account) if at else None
        if entry is None or id(entry) not in self._length or id(entry) in self._guessed:
            return  # no entry the logs vouch for, or one whose length is only estimated
        if call.at - self._born[id(entry)] < ANSWERED_SECONDS:
            return  # written so shortly before that its call may not have answered yet: no read was promised
        promised = self._length[id(entry)]
        if read >= promised:
            self.spend.misses.could_read += 1
        elif read + call.usage.cacheWriteInputTokens >= promised:
            self.spend.misses.could_read += 1
            self.spend.misses.add(call, promised, read)

    def _reading(
        self, prompt: Prompt, digests: list[str], model_id: str, account: str, now: float, tokens: int
    ) -> tuple[int, Entry | None]:
        """Where a read of `tokens` ended: the live entry known to be that long; else one whose length is only
        estimated, or else any, the nearest in length; else (no live entry) the prefix whose estimate is nearest."""
        guess = nearest_positions(prompt.cumulative, tokens)
        best: tuple[tuple[bool, int], int, Entry] | None = None
        for position in itertools.chain(guess, range(len(prompt.blocks), 0, -1)):  # the likely places first
            entry = self.cache.entry(model_id, digests[position], account)
            if entry is None or not entry.ready or entry.expires_at <= now or id(entry) not in self._length:
                continue
            length = self._length[id(entry)]
            if length == tokens:
                return position, entry
            rank = (id(entry) not in self._guessed, abs(length - tokens))
            if best is None or rank < best[0]:
                best = (rank, position, entry)
        return (best[1], best[2]) if best else (guess[-1], None)

    def _unexplained(self, call: LoggedCall) -> None:
        self.spend.unexplained += 1
        first = (call.at, call.where)  # the earliest, as parts audited apart agree on (Spend.absorb)
        if self.spend.first_unexplained is None or first < self.spend.first_unexplained:
            self.spend.first_unexplained = first


def five_minute_tokens(usage: Usage) -> int | None:
    """The 5m tokens of a logged write, when the log splits its writes by TTL (cacheDetails); else None (then the
    TTLs of the cache points that wrote say it)."""
    return usage.written(TTL.FIVE_MINUTES) if usage.cacheDetails else None
