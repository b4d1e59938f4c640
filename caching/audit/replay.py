"""Logged traffic replayed on the rules engine: as it was sent (`AsLogged`: what was paid, and which writes were
never read, from the logged counts), with each approach and TTL of the registry placing the cache points instead,
and through the oracle (the best the rules allow). The alternatives' token counts are the offline estimate of each
prefix, scaled so every call's prompt matches its logged total.
"""

from __future__ import annotations

import copy
import hashlib
import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple, TypeVar

from ..pricing import Cost, cost_of
from ..rules import (
    API,
    TTL,
    Catalog,
    Checkpoint,
    Entry,
    ModelInfo,
    Prompt,
    PromptCache,
    RequestRejected,
)
from ..rules.approaches import Shape
from ..rules.approaches import approach as find_approach
from ..rules.cache import FORGET_AFTER_SECONDS, LOOKBACK_BLOCKS, SWEEP_EVERY_CALLS
from ..rules.memo import Linearizer
from ..rules.messages import converse_form
from ..rules.places import TOOLS
from ..rules.prompt import blocks_before, nearest_positions
from ..rules.usage import Usage
from .logs import LoggedCall

SETTLE_EVERY = 1_000  # calls between two settlings of writes whose entries have all expired
EXAMPLES = 5  # unexplained misses kept as examples (the earliest)
# A log times a call's start, and its entries can be read only once it answers (Bedrock: once the response begins):
# a read is promised only this long after the write, so parallel calls sent together are not counted as misses.
ANSWERED_SECONDS = 10.0


class Prepared(NamedTuple):
    """A logged call's prompt as sent, scaled to its logged total, and its shape (where the tools, the system prompt,
    the previous and the last user message end), on which each approach places its points."""

    prompt: Prompt
    digests: list[str]
    model: ModelInfo
    request: dict[str, Any]  # in Converse's shape
    estimate: Prompt  # unscaled, as the doctor reads it
    output: int  # output tokens, as logged
    shape: Shape


def prepare(call: LoggedCall, usage: Usage, catalog: Catalog, linearizer: Linearizer | None = None) -> Prepared | None:
    """Linearize a logged call once (None: no body, an unknown model, or a request Bedrock would reject).
    A `Linearizer` walks only what a call adds to an earlier one of its conversation."""
    model = catalog.find(call.model_id)
    if model is None or call.request is None or call.error:
        return None
    try:
        request = converse_form(call.request) if call.api == API.INVOKE else call.request
        estimate, digests = (linearizer or Linearizer(0))(request, model, call.api)
    except (RequestRejected, TypeError, KeyError, AttributeError, ValueError):
        return None
    scale = usage.prompt_tokens / estimate.total_tokens if usage.prompt_tokens and estimate.total_tokens else 1.0
    scaled = tuple(map(round, map(scale.__mul__, estimate.cumulative)))
    prompt = Prompt(estimate.blocks, estimate.checkpoints, scaled, estimate.variant)
    places = [block.place for block in itertools.takewhile(lambda b: b.place.message is None, prompt.blocks)]
    system_end = len(places)  # the tools, then the system prompt, come first
    tools_end = sum(1 for place in places if place.section == TOOLS)
    messages = request.get("messages", [])
    users = _last_users(messages)
    user_end = blocks_before(prompt, users[-1] + 1) if users else 0
    previous_end = blocks_before(prompt, users[-2] + 1) if len(users) > 1 else 0
    content = messages[users[-1]].get("content") if users else None
    after_tool = isinstance(content, list) and any(isinstance(b, dict) and "toolResult" in b for b in content)
    shape = Shape(tools_end, system_end, previous_end, user_end, after_tool)
    return Prepared(prompt, digests, model, request, estimate, usage.outputTokens, shape)


def _last_users(messages: list[Any]) -> list[int]:
    """The indexes of the last two user messages, the earlier first. Looked for from the end: only the end of a
    conversation counts, and scanning a long one from its start was a tenth of preparing a call."""
    found: list[int] = []
    for i in range(len(messages) - 1, -1, -1):
        if isinstance(messages[i], dict) and messages[i].get("role") == "user":
            found.insert(0, i)
            if len(found) == 2:
                break
    return found


# Where a setting puts the cache points on a request, on plain values: (position in blocks, TTL, its seconds).
Placement = tuple[tuple[int, TTL, int], ...]


@lru_cache(maxsize=16_384)  # requests of one shape recur: their settings are grouped once, not on every call
def _partition(shape: Shape, settings: tuple[tuple[str, str], ...]) -> tuple[tuple[Placement, tuple[int, ...]], ...]:
    """The settings (approach, ttl) grouped by the cache points they place on a request of `shape`, in the order
    each group first appears: its points, and the indices of its settings."""
    parts: dict[Placement, list[int]] = {}
    for index, (name, ttl) in enumerate(settings):
        points = find_approach(name).points(shape, ttl)
        parts.setdefault(tuple((point.position, point.ttl, point.ttl.seconds) for point in points), []).append(index)
    return tuple((points, tuple(members)) for points, members in parts.items())


@dataclass
class Spend:
    """What a replay of some calls cost, by kind of token, and the writes no later call read. As sent, also the calls
    whose cache counts no earlier logged call explains (`unexplained`), and the first of them (time, where)."""

    calls: int = 0
    hits: int = 0
    wasted_tokens: int = 0
    wasted: Decimal = Decimal(0)
    tokens: dict[str, Usage] = field(default_factory=dict)  # per model id, priced once at the end
    unexplained: int = 0
    first_unexplained: tuple[float, str] | None = None
    misses: Misses = field(default_factory=lambda: Misses())  # as sent: reads the rules promised and the logs lack

    @property
    def cost(self) -> Cost:
        return sum((cost_of(usage, model_id) for model_id, usage in self.tokens.items()), Cost())

    def absorb(self, other: Spend) -> None:
        """Add another spend (of other calls) to this one."""
        self.calls += other.calls
        self.hits += other.hits
        self.wasted_tokens += other.wasted_tokens
        self.wasted += other.wasted
        for model_id, usage in other.tokens.items():
            self.tokens[model_id] = self.tokens.get(model_id, EMPTY) + usage
        self.unexplained += other.unexplained
        firsts = [first for first in (self.first_unexplained, other.first_unexplained) if first is not None]
        self.first_unexplained = min(firsts) if firsts else None
        self.misses.absorb(other.misses)


@dataclass
class Misses:
    """Calls that could read by the rules (a live entry the logs wrote holds a prefix of the request, unchanged,
    within the lookback of its cache points) and read less: by model, region and hour, with the first few."""

    could_read: int = 0  # calls the rules say would read
    by_cell: dict[tuple[str, str, int], int] = field(default_factory=dict)  # (model, region, hour) -> misses
    examples: list[tuple[float, str, int, int]] = field(default_factory=list)  # (time, where, promised, read)

    @property
    def calls(self) -> int:
        return sum(self.by_cell.values())

    @property
    def rate(self) -> float:
        """Misses per call that could read: what the logs say of expiry jitter, routing and eviction."""
        return self.calls / self.could_read if self.could_read else 0.0

    def add(self, call: LoggedCall, promised: int, read: int) -> None:
        cell = (call.model_id, call.region, int(call.at // 3600))
        self.by_cell[cell] = self.by_cell.get(cell, 0) + 1
        self.examples = sorted([*self.examples, (call.at, call.where, promised, read)])[:EXAMPLES]

    def absorb(self, other: Misses) -> None:
        self.could_read += other.could_read
        for cell, count in other.by_cell.items():
            self.by_cell[cell] = self.by_cell.get(cell, 0) + count
        self.examples = sorted([*self.examples, *other.examples])[:EXAMPLES]


EMPTY = Usage()
ONE_HOUR_SECONDS = TTL.ONE_HOUR.seconds


class Replays:
    """The calls replayed under several settings at once: name -> (approach, ttl), approach None for the cache
    points as sent. Settings that have placed the same cache points on every call so far have the same cache, so
    they share one `Replay`; a call that places them differently splits it."""

    def __init__(self, settings: dict[str, tuple[str | None, str]]) -> None:
        self.settings = settings
        # The cache points as sent are replayed on the logged counts, each on its own; the rest share a replay.
        logged = [name for name, (approach, _) in settings.items() if approach is None]
        shared = [name for name in settings if name not in logged]
        self._groups: list[tuple[tuple[str, ...], Replay]] = [((name,), AsLogged()) for name in logged]
        if shared:
            self._groups.append((tuple(shared), Placed()))

    def add(self, call: LoggedCall, prepared: Prepared, counted: bool = True) -> None:
        """Replay one call under every setting; `counted` False: only to rebuild the cache (see windows.py)."""
        groups: list[tuple[tuple[str, ...], Replay]] = []
        for names, replay in self._groups:
            if isinstance(replay, AsLogged):  # as sent: the call's own cache points, on a replay of its own
                replay.add(call, prepared, counted)
                groups.append((names, replay))
                continue
            assert isinstance(replay, Placed)
            parts = _partition(prepared.shape, tuple(map(self.settings.__getitem__, names)))
            replays = [replay.copy() for _ in parts[1:]] + [replay]  # copied before the call moves any of them on
            for (points, members), each in zip(parts, replays, strict=True):
                each.add(call, prepared, points, counted)
                groups.append((names if len(parts) == 1 else tuple(names[index] for index in members), each))
        self._groups = groups

    def copy(self) -> Replays:
        """Independent replays in the same state."""
        twin = Replays({})
        twin.settings, twin._groups = self.settings, [(names, replay.copy()) for names, replay in self._groups]
        return twin

    def state(self, now: float) -> dict[str, str]:
        """Each setting's cache at `now`, as a digest (see Replay.state): equal digests, equal futures."""
        return {name: replay.state(now) for names, replay in self._groups for name in names}

    def settled(self, now: float) -> bool:
        """Whether the waste of every counted write is known by `now` (see Replay.settled)."""
        return all(replay.settled(now) for _, replay in self._groups)

    def finish(self) -> dict[str, Spend]:
        """Each setting's spend (settings that never split share theirs)."""
        spends = {}
        for names, replay in self._groups:
            spend = replay.finish()
            spends.update(dict.fromkeys(names, spend))
        return {name: spends[name] for name in self.settings}


def _no_clock() -> float:
    """The replays' caches are told each call's time; a named function, not a lambda, so they can be pickled."""
    return 0.0


R = TypeVar("R", bound="Replay")


class Replay:
    """Calls replayed in order: what they spent, and the writes no later call read (the waste). How a call reads and
    writes, and how its waste is known, is `Placed`'s (the points a setting places) or `AsLogged`'s (the points as
    sent, on the logged counts)."""

    def __init__(self) -> None:
        self.spend = Spend()
        self._replayed = 0  # calls replayed, counted or not
        self._sums: dict[str, list[int]] = {}  # per model id: regular, output, read, 5m and 1h written tokens
        self._waste: dict[str, list[int]] = {}  # per model id: 5m and 1h written tokens no call read

    def copy(self: R) -> R:
        """An independent replay in the same state."""
        return copy.deepcopy(self)  # an entry in the cache and in the pending writes stays one object

    def _counted(self, now: float, read: bool, counted: bool = True) -> None:
        """Count one replayed call, and whether it read."""
        spend = self.spend
        spend.calls += counted
        spend.hits += read and counted
        self._replayed += 1

    def state(self, now: float) -> str:
        """The cache at `now` as a digest of every live entry (its prefix, TTL and expiry), the same in every
        process: two replays whose states agree at some time count the same calls alike from then on (the waste of
        writes made before, which the digest leaves out, is each replay's own: see `settled`)."""
        return hashlib.sha256(repr(sorted(self._live(now))).encode()).hexdigest()

    def _live(self, now: float) -> Iterator[tuple[Any, ...]]:
        """Each entry live at `now`: (model id, prefix digest, account), its TTL, when it expires, whether ready."""
        raise NotImplementedError

    def settled(self, now: float) -> bool:
        """Whether the waste of every counted write is known by `now`."""
        raise NotImplementedError

    def finish(self) -> Spend:
        """The spend, with the writes that no later call read counted as waste."""
        for model_id, (write_5m, write_1h) in self._waste.items():
            self.spend.wasted += cost_of(Usage.of(write_5m=write_5m, write_1h=write_1h), model_id).input
        self._waste = {}
        tokens = self.spend.tokens
        for model_id, (regular, output, read, write_5m, write_1h) in self._sums.items():
            usage = Usage.of(regular=regular, output=output, read=read, write_5m=write_5m, write_1h=write_1h)
            tokens[model_id] = tokens.get(model_id, EMPTY) + usage
        self._sums = {}
        return self.spend


@dataclass(slots=True)
class _Write:
    """One write of a `Placed` replay: the tokens where it ended, how far into the prompt its entries have been read
    (from where it began), and whether its waste counts and is in 1h tokens (else 5m)."""

    end: int
    used: int
    model_id: str
    counted: bool
    hour: bool


@dataclass(slots=True)
class _Held(Entry):
    """An entry of a `Placed` replay, with the tokens up to it and the write that made it."""

    tokens: int = 0
    write: _Write | None = None


class Placed(Replay):
    """Calls replayed in order, each with the cache points a setting placed on it (`_partition`).

    The look-up, the refresh and the writes are `PromptCache.lookup` and `PromptCache.commit` (rules/cache.py) for
    these requests, inlined on plain values: the audit runs them for every call of every setting, and the general
    engine's keys, outcomes and undo records were half of its time. Every entry is ready (nothing is pending) and
    lives its TTL exactly. The waste is kept as it goes: all of a write is unread when made, and each read of one of
    its entries takes back what it reads beyond what was read before. A differential test over every setting of the
    registry pins this to the engine and to `Replay`'s settling of writes (tests/audit/test_replay_fast.py): change
    a rule in one, and that test names the call where they part."""

    def __init__(self) -> None:
        super().__init__()
        self._scopes: dict[tuple[str, str], dict[str, _Held]] = {}  # (model id, account) -> prefix digest -> entry
        self._next_sweep = SWEEP_EVERY_CALLS

    def add(self, call: LoggedCall, prepared: Prepared, points: Placement, counted: bool = True) -> None:
        """Replay one call with `points` as its cache points; `counted` False: only to rebuild the cache, with nothing
        counted (see windows.py)."""
        now, model_id, digests, cumulative = call.at, call.model_id, prepared.digests, prepared.prompt.cumulative
        self._sweep(now)
        scope = self._scopes.get((model_id, call.account))
        if scope is None:
            scope = self._scopes[(model_id, call.account)] = {}
        # Look up: later points first, each at its own boundary, then back over the lookback; the first live entry
        # found is the longest prefix any point can read (see PromptCache.lookup).
        read = 0
        for position, _, _ in reversed(points):
            bottom = position - LOOKBACK_BLOCKS - 1
            for p in range(position, bottom if bottom > 0 else 0, -1):
                entry = scope.get(digests[p])
                if entry is not None and entry.expires_at > now:
                    read = p
                    break
            if read:
                break
        read_tokens = cumulative[read]
        if read:  # refresh the entry read, and this request's own points inside it
            found = scope[digests[read]]
            self._reads(found, read_tokens)
            found.expires_at = now + found.ttl.seconds
            for position, _, _ in points:
                if position < read:
                    entry = scope.get(digests[position])
                    if entry is not None and entry.expires_at > now:
                        entry.expires_at = now + entry.ttl.seconds
        # Write at every point past the read that reaches the model's minimum.
        minimum = prepared.model.min_tokens
        write: _Write | None = None
        last_1h = last_5m = 0
        for position, ttl, seconds in points:
            tokens = cumulative[position]
            if position > read and tokens >= minimum:
                if write is None:
                    write = _Write(0, read_tokens, model_id, counted, False)
                scope[digests[position]] = _Held(ttl, now + seconds, True, tokens, write)
                if seconds == ONE_HOUR_SECONDS:
                    last_1h = position
                else:
                    last_5m = position
        # Tokens: the 1h writes come first (TTLs never increase along the prompt), then the 5m ones.
        end_1h = last_1h if last_1h > read else read
        end = end_1h if end_1h > last_5m else last_5m
        if write is not None:  # all of it unread so far, in the TTL of its first point as long as the whole
            write.end = cumulative[end]
            write.hour = cumulative[end_1h] == write.end and last_1h > read
            if counted:
                self._unread(write, write.end - read_tokens)
        if not counted:
            self._counted(now, False, counted)
            return
        write_1h = cumulative[end_1h] - read_tokens
        write_5m = cumulative[end] - cumulative[end_1h]
        # Summed as plain counts (a Usage per call and replay was a tenth of the audit's time); see `finish`.
        sums = self._sums.get(model_id)
        if sums is None:
            sums = self._sums[model_id] = [0, 0, 0, 0, 0]
        sums[0] += cumulative[-1] - read_tokens - write_1h - write_5m
        sums[1] += prepared.output
        sums[2] += read_tokens
        sums[3] += write_5m
        sums[4] += write_1h
        self._counted(now, read > 0)

    def _reads(self, entry: _Held, tokens: int) -> None:
        """A read of `tokens` found `entry`: what it reads of its write beyond what was read before is not waste."""
        write = entry.write
        if write is not None and write.counted and tokens > write.used:
            gained = (tokens if tokens < write.end else write.end) - write.used
            if gained > 0:
                write.used += gained
                self._unread(write, -gained)

    def _unread(self, write: _Write, tokens: int) -> None:
        """Count `tokens` more (or, negative, fewer) of a write as unread."""
        self.spend.wasted_tokens += tokens
        waste = self._waste.get(write.model_id)
        if waste is None:
            waste = self._waste[write.model_id] = [0, 0]
        waste[write.hour] += tokens

    def settled(self, now: float) -> bool:
        """Whether the waste of every counted write is known by `now`: no live entry of one is longer than what has
        been read of its write (an entry no longer in the cache is never read again)."""
        for scope in self._scopes.values():
            for entry in scope.values():
                write = entry.write
                if write is not None and write.counted and entry.expires_at > now and entry.tokens > write.used:
                    return False
        return True

    def _sweep(self, now: float) -> None:
        """Forget the entries that expired FORGET_AFTER_SECONDS ago, as PromptCache does and on its schedule: once as
        many calls have passed as there are entries kept, and at least SWEEP_EVERY_CALLS apart."""
        if self._replayed + 1 < self._next_sweep:
            return
        horizon, kept = now - FORGET_AFTER_SECONDS, 0
        for key, scope in self._scopes.items():
            if any(entry.expires_at <= horizon for entry in scope.values()):
                scope = self._scopes[key] = {d: e for d, e in scope.items() if e.expires_at > horizon}
            kept += len(scope)
        self._next_sweep = self._replayed + 1 + max(SWEEP_EVERY_CALLS, kept)

    def _live(self, now: float) -> Iterator[tuple[Any, ...]]:
        for (model_id, account), scope in self._scopes.items():
            for digest, entry in scope.items():
                if entry.expires_at > now:
                    yield (model_id, digest, account), entry.ttl, entry.expires_at, entry.ready


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
        self.cache = PromptCache(_no_clock)  # each step is given the call's own time
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
                ttl = next((p.ttl for p in prompt.checkpoints if p.position >= read_at), TTL.FIVE_MINUTES)
                points = [Checkpoint(prompt.blocks[read_at - 1].place, read_at, ttl)]
            else:
                self._note_read(found, read)
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
        self._counted(now, read > 0, counted)
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
        """Count the waste of each pending write whose entries have all expired by `now` (None: of every one), and
        let it go."""
        pending = self._pending
        while pending and (now is None or pending[0][0] <= now):
            _, order, written = heapq.heappop(pending)
            last = max((entry.expires_at for entry, _, _ in written.entries), default=float("-inf"))
            if now is not None and last > now:  # refreshed by a read since: looked at again when it expires
                heapq.heappush(pending, (last, order, written))
                continue
            end = written.end
            used = self._used(written)
            if end > used and written.counted:
                unread = end - used
                if written.five_minute is None:
                    ttl = next((t for _, tokens, t in written.entries if tokens == end), TTL.FIVE_MINUTES)
                    five = unread if ttl == TTL.FIVE_MINUTES else 0
                else:  # the unread tail of the write: its 5m tokens first, then the 1h ones before them
                    five = min(unread, written.five_minute)
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

    def settled(self, now: float) -> bool:
        """As sent, a read is matched to the live entry nearest its logged length and may be longer than it: a
        counted write is settled once all of it has been read, or none of its entries is live."""
        for _, _, written in self._pending:
            if not written.counted or not any(entry.expires_at > now for entry, _, _ in written.entries):
                continue
            if self._used(written) < written.end:
                return False
        return True

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
