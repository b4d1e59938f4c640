"""Logged traffic replayed under the caching rules: as it was sent (`AsLogged`, as_logged.py: what was paid, and which
writes were never read, from the logged counts), and with each approach and TTL of the registry placing the cache
points instead (`Placed`, here), every setting at once (`Replays`); the oracle (oracle.py) gives the best the rules
allow. The alternatives' token counts are the offline estimate of each prefix, scaled so every call's prompt matches
its logged total.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..rules import TTL, Entry
from ..rules.approaches import Shape
from ..rules.approaches import approach as find_approach
from ..rules.cache import FORGET_AFTER_SECONDS, LOOKBACK_BLOCKS, SWEEP_EVERY_CALLS
from .as_logged import AsLogged
from .logs import LoggedCall
from .prepare import Prepared
from .spend import Handover, Key, Open, Replay, Spend

ONE_HOUR_SECONDS = TTL.ONE_HOUR.seconds


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

    def inherit(self, now: float) -> None:
        """A window begins counting at `now` (see Replay.inherit)."""
        for _, replay in self._groups:
            replay.inherit(now)

    def handover(self, now: float, wanted: dict[str, set[Key]] | None = None) -> dict[str, Handover]:
        """Each setting's handover when the next window begins at `now`, with the reads of the entries `wanted` of
        each setting if given (see Replay.handover)."""
        handed = {}
        for names, replay in self._groups:
            keys = None if wanted is None else set().union(*(wanted.get(name, set()) for name in names))
            handed.update(dict.fromkeys(names, replay.handover(now, keys)))
        return handed

    def finish(self) -> dict[str, Spend]:
        """Each setting's spend (settings that never split share theirs)."""
        spends = {}
        for names, replay in self._groups:
            spend = replay.finish()
            spends.update(dict.fromkeys(names, spend))
        return {name: spends[name] for name in self.settings}


@dataclass(slots=True)
class _Write:
    """One write of a `Placed` replay: how far into the prompt its entries have been read (from where it began), where
    its 1h tokens end (they come first: TTLs never increase along the prompt) and where it ends, and whether its
    waste counts."""

    used: int
    hour_end: int
    end: int
    model_id: str
    counted: bool

    def unread(self) -> tuple[int, int]:
        """Its 5m and its 1h tokens no call has read so far."""
        return self.unread_at(self.used)

    def unread_at(self, used: int) -> tuple[int, int]:
        """Its 5m and its 1h tokens unread once read `used` tokens in."""
        hour_end = self.hour_end
        return self.end - (used if used > hour_end else hour_end), (hour_end - used if hour_end > used else 0)


@dataclass(slots=True)
class _Held(Entry):
    """An entry of a `Placed` replay, with the write that made it."""

    write: _Write | None = None


class Placed(Replay):
    """Calls replayed in order, each with the cache points a setting placed on it (`_partition`).

    The look-up, the refresh and the writes are `PromptCache.lookup` and `PromptCache.commit` (rules/cache.py) for
    these requests, inlined on plain values: the audit runs them for every call of every setting, and the general
    engine's keys, outcomes and undo records were half of its time. Every entry is ready (nothing is pending) and
    lives its TTL exactly. The waste is kept as it goes: all of a write is unread when made, and each read of one of
    its entries takes back what it reads beyond what was read before. A differential test over every setting of the
    registry pins this to the engine, and its waste to one worked out from every write and read
    (tests/audit/test_replay_fast.py): change a rule in one, and that test names the call where they part."""

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
            if self._inherited:
                self._track((model_id, call.account, digests[read]), found, read_tokens)
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
                    write = _Write(read_tokens, read_tokens, read_tokens, model_id, counted)
                scope[digests[position]] = _Held(ttl, now + seconds, True, write)
                if seconds == ONE_HOUR_SECONDS:
                    last_1h = position
                else:
                    last_5m = position
        # Tokens: the 1h writes come first (TTLs never increase along the prompt), then the 5m ones.
        end_1h = last_1h if last_1h > read else read
        end = end_1h if end_1h > last_5m else last_5m
        if write is not None:  # all of it unread so far
            write.hour_end, write.end = cumulative[end_1h], cumulative[end]
            if counted:
                self._unread(write.model_id, *write.unread())
        if not counted:
            self._counted(False, counted)
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
        self._counted(read > 0)

    def _reads(self, entry: _Held, tokens: int) -> None:
        """A read of `tokens` found `entry`: what it reads of its write beyond what was read before is not waste (a
        read covers the write from its start, so its 1h tokens first)."""
        write = entry.write
        if write is not None and write.counted and tokens > write.used and write.used < write.end:
            five, hour = write.unread()
            write.used = tokens if tokens < write.end else write.end
            five_now, hour_now = write.unread()
            self._unread(write.model_id, five_now - five, hour_now - hour)

    def _unread(self, model_id: str, five: int, hour: int) -> None:
        """Count `five` more 5m tokens and `hour` more 1h tokens (or, negative, fewer) as written and never read."""
        self.spend.wasted_tokens += five + hour
        waste = self._waste.get(model_id)
        if waste is None:
            waste = self._waste[model_id] = [0, 0]
        waste[0] += five
        waste[1] += hour

    def _sweep(self, now: float) -> None:
        """Forget the entries that expired FORGET_AFTER_SECONDS ago, as PromptCache does and on its schedule: once as
        many calls have passed as there are prefixes kept (a prefix of several accounts counts once), and at least
        SWEEP_EVERY_CALLS apart."""
        if self._replayed + 1 < self._next_sweep:
            return
        horizon, kept = now - FORGET_AFTER_SECONDS, set[tuple[str, str]]()
        for key, scope in self._scopes.items():
            if any(entry.expires_at <= horizon for entry in scope.values()):
                scope = self._scopes[key] = {d: e for d, e in scope.items() if e.expires_at > horizon}
            kept.update((key[0], digest) for digest in scope)
        self._next_sweep = self._replayed + 1 + max(SWEEP_EVERY_CALLS, len(kept))

    def _entries(self, now: float) -> Iterator[tuple[Key, Any]]:
        for (model_id, account), scope in self._scopes.items():
            for digest, entry in scope.items():
                if entry.expires_at > now:
                    yield (model_id, account, digest), entry

    def _open(self, now: float) -> Iterator[Open]:
        keys: dict[int, list[Key]] = {}
        writes: dict[int, _Write] = {}
        for key, entry in self._entries(now):
            write = entry.write
            if write is not None and write.counted and write.used < write.end:
                keys.setdefault(id(write), []).append(key)
                writes[id(write)] = write
        for number, write in writes.items():
            yield Open(write.model_id, write.used, write.end, tuple(keys[number]), write)

    def _live(self, now: float) -> Iterator[tuple[Any, ...]]:
        for (model_id, account), scope in self._scopes.items():
            for digest, entry in scope.items():
                if entry.expires_at > now:
                    yield (model_id, digest, account), entry.ttl, entry.expires_at, entry.ready
