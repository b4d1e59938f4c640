"""The prompt cache: Bedrock's documented rules for when a request reads, writes or skips.

Rules (shared/reference/bedrock-prompt-caching.md):
- An entry's key is the exact bytes of the prefix up to a checkpoint, plus the model id, plus the account.
  Two accounts never share an entry, even for identical bytes.
- Read: at each checkpoint, look for an entry an earlier request wrote at that boundary or at up to 21 block
  boundaries before it (the lookback, as measured live). The longest prefix found anywhere is read.
- Write: at every checkpoint after the read point whose cumulative prefix reaches the model's minimum.
  cacheWriteInputTokens = tokens from the read point to the last written checkpoint; inputTokens = the rest.
- Below the minimum nothing is written and nothing fails.
- TTL: 5m unless the checkpoint says 1h; a hit refreshes the entries it read; an expired entry is a miss.

One request goes through three steps: `lookup` (what the rules let it read), `explain` (why each other checkpoint
found nothing, judged before the request changes the cache) and `commit` (refresh what was read, write the new
entries). The emulator runs all three (`apply`); the cache doctor finds the read from the usage Bedrock reported,
then explains and commits through the same steps; the planner skips `explain`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from .catalog import DEFAULT_MODEL_ID, Catalog, ModelInfo
from .outcomes import NEW, Action, CheckpointOutcome, Kind, Miss
from .prompt import Block, Checkpoint, Prompt, linearize
from .ttl import TTL, TTL_SECONDS
from .uncertainty import EXACT, Uncertainty

# Measured live (Sonnet 4.6, Oct 2026): a checkpoint still finds the previous entry when 21 content blocks were added
# after it (20 in between plus the checkpoint's own block); 22 or more always miss. AWS and Anthropic say "about 20".
LOOKBACK_BLOCKS = 21
FORGET_AFTER_SECONDS = 3600.0  # an entry expired this long ago is forgotten: it explains no miss any more
SWEEP_EVERY_CALLS = 1_000  # `commit` drops forgotten entries at least this many calls apart, so memory stays bounded


@dataclass(slots=True)  # made and read on every call the audit replays as sent: slots make both quicker
class Entry:
    ttl: TTL
    expires_at: float
    ready: bool = True  # False while the request that wrote it has not begun its response: nobody can read it yet


class Undo(NamedTuple):
    """One change a pending commit made, kept so `revert` can take it back: the slot (model id and digest, account),
    the entry there after it, and what was there before (a write: the entry replaced, if any; a refresh: the expiry
    it moved, with the expiry it set)."""

    key: tuple[str, str]
    account: str
    entry: Entry
    before: Entry | float | None
    refreshed_to: float = 0.0


class CacheResult(NamedTuple):
    """What one request did to the cache, in tokens, with the outcome of each checkpoint and the call's miss."""

    read_tokens: int
    write_tokens: int
    input_tokens: int
    write_1h_tokens: int
    write_5m_tokens: int
    read_position: int
    checkpoints: tuple[CheckpointOutcome, ...]
    miss: Miss | None = None
    written: tuple[Entry, ...] = ()  # the entries this request wrote, for `release`
    written_at: tuple[int, ...] = ()  # the position (in blocks) of each
    undo: tuple[Undo, ...] = ()  # a pending commit's changes, for `revert`


def no_clock() -> float:
    """The clock of a cache told each call's own time (the doctor's, a replay's): a named function, not a lambda, so
    the cache can be pickled (to move to another process)."""
    return 0.0


def found_ttl(prompt: Prompt, position: int) -> TTL:
    """The TTL taken for an entry a read found at `position` when no write of it was seen: that of the request's
    first cache point at or after it (5m if none), the point that would have written it."""
    return next((point.ttl for point in prompt.checkpoints if point.position >= position), TTL.FIVE_MINUTES)


def next_digest(previous: str, block: Block) -> str:
    """The digest of a prefix one block longer than the prefix whose digest is `previous`."""
    return hashlib.sha256(previous.encode() + b"\x00" + block.data).hexdigest()


def prefix_digests(prompt: Prompt, known: list[str] | None = None) -> list[str]:
    """digests[i] identifies the first i blocks (and the prompt's variant): a hash chain, so each prefix costs one
    step. `known`: the digests of this prompt's first len(known) - 1 blocks, from an earlier prompt that shares them."""
    digests = list(known) if known else [hashlib.sha256(prompt.variant.key).hexdigest()]
    for block in prompt.blocks[len(digests) - 1 :]:
        digests.append(next_digest(digests[-1], block))
    return digests


def cache_keys(request: dict[str, Any], model_id: str, account: str) -> dict[str, str]:
    """The key of each checkpoint's prefix in a Converse request: {"system[1]": hex digest of account, model, bytes}."""
    model = Catalog().find(model_id)
    if model is None:
        raise ValueError(f"Unknown model id {model_id!r}: use one of the catalog's ids, e.g. {DEFAULT_MODEL_ID}.")
    prompt = linearize(request, model)
    digests = prefix_digests(prompt)
    return {
        str(p.place): hashlib.sha256(f"{account}|{model_id}|{digests[p.position]}".encode()).hexdigest()
        for p in prompt.checkpoints
    }


def call_miss(misses: dict[int, Miss]) -> Miss | None:
    """The miss that explains a call, from its checkpoints' misses (in checkpoint order): the first expired entry,
    else the latest checkpoint that had a live entry beyond its lookback, else another account's entry; None for a
    new prefix."""
    ordered = [misses[index] for index in sorted(misses)]
    for kind in (Kind.UNEXPLAINED, Kind.EXPIRED, Kind.BEYOND_LOOKBACK, Kind.OTHER_ACCOUNT):
        found = [miss for miss in ordered if miss.kind == kind]
        if found:
            return found[0] if kind == Kind.EXPIRED else found[-1]
    return None


class PromptCache:
    """Entries per (model id, prefix digest) and account, with expiry on an injectable clock."""

    def __init__(
        self,
        clock: Callable[[], float],
        lookback: int = LOOKBACK_BLOCKS,
        sweeping: bool = True,
        uncertainty: Uncertainty = EXACT,
    ) -> None:
        self.clock = clock
        self.lookback = lookback
        self.uncertainty = uncertainty  # EXACT: the documented rules; else an expiry window and causeless misses
        self.sweeping = sweeping  # the planner forgets finished conversations itself, and skips the sweeps
        self._entries: dict[tuple[str, str], dict[str, Entry]] = {}
        self._commits = 0
        self._next_sweep = SWEEP_EVERY_CALLS

    def __len__(self) -> int:
        now = self.clock()
        return sum(1 for by_account in self._entries.values() for e in by_account.values() if e.expires_at > now)

    def entry(self, model_id: str, digest: str, account: str) -> Entry | None:
        """The entry of one prefix for one account, live or expired (forgotten an hour after it expired)."""
        by_account = self._entries.get((model_id, digest))
        return by_account.get(account) if by_account else None

    def entries(self) -> dict[tuple[str, str, str], tuple[TTL, float, bool]]:
        """Every entry kept, as plain values (a copy, for comparing the cache before and after): (model id, prefix
        digest, account) -> (its TTL, when it expires, whether it can be read yet)."""
        return {
            (model_id, digest, account): (entry.ttl, entry.expires_at, entry.ready)
            for (model_id, digest), by_account in self._entries.items()
            for account, entry in by_account.items()
        }

    def sweep(self, now: float) -> None:
        """Drop every entry that expired more than FORGET_AFTER_SECONDS ago."""
        horizon = now - FORGET_AFTER_SECONDS
        for key, by_account in list(self._entries.items()):
            if all(e.expires_at > horizon for e in by_account.values()):
                continue
            kept = {who: e for who, e in by_account.items() if e.expires_at > horizon}
            if kept:
                self._entries[key] = kept
            else:
                del self._entries[key]

    def live(self, model_id: str, digest: str, account: str, now: float) -> bool:
        found = self.entry(model_id, digest, account)
        return found is not None and found.ready and found.expires_at > now

    def learn(self, model_id: str, digest: str, account: str, ttl: TTL, now: float) -> None:
        """An entry a read proves was there, though no write of it was seen (made before the calls seen, and kept
        alive by reads since): known from now on, as if written now with `ttl` (see `found_ttl`)."""
        by_account = self._entries.setdefault((model_id, digest), {})
        by_account[account] = Entry(ttl, now + self._life(ttl, model_id, digest, account), True)

    @staticmethod
    def release(entries: tuple[Entry, ...]) -> None:
        """The request that wrote these entries has begun its response: they can be read from now on."""
        for entry in entries:
            entry.ready = True

    def revert(self, result: CacheResult) -> None:
        """Take back what a pending commit did (its request failed before its answer was built): its writes give
        their slots back to what was there, its refreshes give back the old expiry. A slot another request has
        changed since keeps that request's change."""
        for change in reversed(result.undo):
            by_account = self._entries.get(change.key)
            if by_account is None or by_account.get(change.account) is not change.entry:
                continue
            if isinstance(change.before, float):
                if change.entry.expires_at == change.refreshed_to:
                    change.entry.expires_at = change.before
            elif change.before is not None:
                by_account[change.account] = change.before
            else:
                del by_account[change.account]
                if not by_account:
                    del self._entries[change.key]

    def lookup(self, prompt: Prompt, model_id: str, account: str, digests: list[str], now: float) -> int:
        """The position of the longest prefix this request reads (0: none)."""
        entries, lookback = self._entries, self.lookback
        # Each checkpoint looks at its own boundary, then back over up to `lookback` earlier boundaries; the longest
        # prefix found is read. Later checkpoints look first: once one finds an entry, an earlier one cannot find a
        # longer prefix, because any boundary past that find and before the earlier checkpoint also lies in the
        # later checkpoint's window, which was searched from the top down.
        for point in reversed(prompt.checkpoints):
            top = point.position
            bottom = top - lookback - 1  # the window stops above position 0: a prefix of nothing is never read
            for position in range(top, bottom if bottom > 0 else 0, -1):
                by_account = entries.get((model_id, digests[position]))
                found = by_account.get(account) if by_account else None
                if found is not None and found.ready and found.expires_at > now:
                    return position
        return 0

    def reader(self, prompt: Prompt, read_position: int) -> int | None:
        """The index of the checkpoint credited with the read: the first whose window holds it."""
        if read_position:
            for index, point in enumerate(prompt.checkpoints):
                if point.position >= read_position >= point.position - self.lookback:
                    return index
        return None

    def explain(
        self, prompt: Prompt, model_id: str, account: str, digests: list[str], now: float, read_position: int
    ) -> dict[int, Miss]:
        """Why each checkpoint past the read found nothing (by checkpoint index), on the cache as it is now."""
        reader = self.reader(prompt, read_position)
        return {
            i: self._why_missed(p.position, read_position, digests, model_id, account, now)
            for i, p in enumerate(prompt.checkpoints)
            if p.position > read_position and i != reader
        }

    def commit(
        self,
        prompt: Prompt,
        model: ModelInfo,
        model_id: str,
        account: str,
        digests: list[str],
        now: float,
        read_position: int,
        misses: dict[int, Miss] | None = None,
        write_limit: int | None = None,
        pending: bool = False,
    ) -> CacheResult:
        """Refresh what was read and write at every checkpoint past it that reaches the model's minimum.

        `write_limit` (the doctor's) stops writes at checkpoints whose prefix is longer than that many tokens: what
        the usage says was cached. With `misses` None (the planner) no per-checkpoint outcomes are built.
        """
        tokens_before = prompt.cumulative
        points = prompt.checkpoints
        reader = self.reader(prompt, read_position) if misses is not None else None  # names the outcomes only
        self._commits += 1
        if self.sweeping and self._commits >= self._next_sweep:
            self.sweep(now)
            # The next sweep once as many calls have passed as there are prefixes kept: memory stays within a few
            # times what is alive, and the sweeps cost a call the same however much is cached.
            self._next_sweep = self._commits + max(SWEEP_EVERY_CALLS, len(self._entries))
        read_tokens = tokens_before[read_position]
        undo: list[Undo] = []

        # Refresh what was read: the entry itself and this request's own checkpoints inside it.
        if read_position:
            for position in {read_position, *(p.position for p in points if p.position <= read_position)}:
                refreshed = self.entry(model_id, digests[position], account)
                if refreshed is not None and refreshed.expires_at > now:
                    before = refreshed.expires_at
                    refreshed.expires_at = now + self._life(refreshed.ttl, model_id, digests[position], account)
                    if pending:
                        key = (model_id, digests[position])
                        undo.append(Undo(key, account, refreshed, before, refreshed.expires_at))

        # Write at every checkpoint past the read that reaches the minimum (and the doctor's limit). This loop runs
        # for every call the audit reads and the planner simulates, so the outcomes' words are built apart, and only
        # when asked for.
        outcomes: list[CheckpointOutcome] = []
        written: list[Entry] = []
        written_at: list[int] = []
        last_1h = last_5m = 0  # the position of the last write of each TTL
        for index, point in enumerate(points):
            position = point.position
            tokens = tokens_before[position]
            writes = (
                position > read_position
                and tokens >= model.min_tokens
                and (write_limit is None or tokens <= write_limit)
            )
            if writes:
                key = (model_id, digests[position])
                by_account = self._entries.get(key)
                if by_account is None:
                    by_account = self._entries[key] = {}
                replaced = by_account.get(account)
                entry = Entry(point.ttl, now + self._life(point.ttl, model_id, key[1], account), not pending)
                by_account[account] = entry
                if pending:
                    undo.append(Undo(key, account, entry, replaced))
                written.append(entry)
                written_at.append(position)
                if point.ttl == TTL.ONE_HOUR:
                    last_1h = position
                else:
                    last_5m = position
            if misses is not None:
                outcomes.append(
                    self._outcome(point, index, tokens, index == reader, writes, read_position, misses, model)
                )

        # Tokens: the 1h writes come first (TTLs never increase along the prompt), then the 5m ones.
        end_1h = max(last_1h, read_position)
        end = max(end_1h, last_5m)
        write_1h = tokens_before[end_1h] - read_tokens
        write_5m = tokens_before[end] - tokens_before[end_1h]
        return CacheResult(
            read_tokens=read_tokens,
            write_tokens=write_1h + write_5m,
            input_tokens=prompt.total_tokens - read_tokens - write_1h - write_5m,
            write_1h_tokens=write_1h,
            write_5m_tokens=write_5m,
            read_position=read_position,
            checkpoints=tuple(outcomes),
            miss=call_miss(misses) if misses is not None else None,
            written=tuple(written),
            written_at=tuple(written_at),
            undo=tuple(undo),
        )

    def apply(
        self,
        prompt: Prompt,
        model: ModelInfo,
        model_id: str,
        account: str,
        digests: list[str] | None = None,
        explain: bool = True,
        pending: bool = False,
    ) -> CacheResult:
        """Look up, explain and commit one request; return the tokens of each kind.

        `digests` (from `prefix_digests`) may be passed in by a caller that extends prompts block by block.
        With `explain=False` (the traffic planner) the per-checkpoint outcomes and miss reasons are not built.
        With `pending`, what it writes stays unreadable until `release(result.written)`, or is taken back with what
        it refreshed by `revert(result)`.
        """
        now = self.clock()
        digests = digests or prefix_digests(prompt)
        read_position = self.lookup(prompt, model_id, account, digests, now)
        would_read = 0
        if read_position and self.uncertainty.misses(model_id, account, digests[-1], now):
            would_read, read_position = read_position, 0  # sent where the entry is not: it reads nothing
        misses = self.explain(prompt, model_id, account, digests, now, read_position) if explain else None
        if misses is not None and would_read:
            reader = self.reader(prompt, would_read)
            if reader is not None:
                misses[reader] = Miss(Kind.UNEXPLAINED)
        return self.commit(prompt, model, model_id, account, digests, now, read_position, misses, pending=pending)

    def forget(self, model_id: str, digests: list[str]) -> None:
        """Drop the entries of these prefixes (the traffic planner forgets a finished conversation)."""
        for digest in digests:
            self._entries.pop((model_id, digest), None)

    @staticmethod
    def _outcome(
        point: Checkpoint,
        index: int,
        tokens: int,
        reads: bool,
        wrote: bool,
        read_position: int,
        misses: dict[int, Miss],
        model: ModelInfo,
    ) -> CheckpointOutcome:
        """What one checkpoint did (`reads`: it is credited with the read; `wrote`: it wrote), and why not more."""
        action = Action.READ if reads else Action.SKIP
        reason: Kind | None = None if reads else Kind.COVERED
        miss: Kind | None = None
        detail = ""
        if point.position > read_position:
            if not reads:
                miss, detail = misses[index].kind, misses[index].detail
            if tokens < model.min_tokens:
                reason, detail = Kind.BELOW_MINIMUM, f"{tokens:,} < {model.min_tokens:,} tokens for {model.short}"
            elif wrote:
                action, reason = (Action.READ_WRITE if reads else Action.WRITE), None
        return CheckpointOutcome(
            place=point.place,
            position=point.position,
            prefix_tokens=tokens,
            ttl=point.ttl,
            action=action,
            reason=reason,
            miss=miss,
            read_distance=point.position - read_position if reads else -1,
            detail=detail,
            minimum=model.min_tokens,
        )

    def _life(self, ttl: TTL, model_id: str, digest: str, account: str) -> float:
        """Seconds an entry lives after its last use: its TTL, and its share of the uncertainty's expiry window."""
        uncertainty = self.uncertainty
        if not uncertainty.expiry_window:  # the documented rules (the usual case): no share to draw
            return TTL_SECONDS[ttl]
        return TTL_SECONDS[ttl] + uncertainty.extra_life(model_id, digest, account)

    def _why_missed(
        self, position: int, after: int, digests: list[str], model_id: str, account: str, now: float
    ) -> Miss:
        """Why no entry longer than `after` blocks was read at this checkpoint: the nearest explanation."""
        window = range(position, max(after, position - self.lookback - 1), -1)
        for p in window:
            entry = self.entry(model_id, digests[p], account)
            if entry is not None and now - FORGET_AFTER_SECONDS < entry.expires_at <= now:
                idle = now - entry.expires_at + self._life(entry.ttl, model_id, digests[p], account)
                return Miss(Kind.EXPIRED, entry.ttl, idle, position - p)
        for p in range(position - self.lookback - 1, after, -1):
            if self.live(model_id, digests[p], account, now):
                return Miss(Kind.BEYOND_LOOKBACK, distance=position - p)
        for p in window:
            others = self._entries.get((model_id, digests[p]), {})
            if any(who != account and e.expires_at > now for who, e in others.items()):
                return Miss(Kind.OTHER_ACCOUNT)
        return NEW
