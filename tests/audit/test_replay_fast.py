"""The what-if replays' fast core (`replay.Placed`) reads, refreshes, writes, spends and wastes exactly what the rules
engine (`PromptCache.lookup` and `.commit`) gives the same calls with the same cache points: a differential property
test over every setting of the registry, on generated traffic of two accounts (sharing system prompts and tools,
so the same prefixes) and two models (minimums of 1,024 and 2,048 tokens), with tools, tool results, fan-outs wider
than the lookback, pauses around each TTL, calls logged out of time order (by minutes and by more than an hour), new
conversations, calls replayed only to rebuild the cache, and sweeps of forgotten entries. After each call the two
agree on the tokens so far, the live cache, the entries kept and (every fourth call) the writes a window would hand
over open (read less than all, with a live entry); at the end, on the whole spend, its waste priced in the TTL each
unread token was written with."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caching.audit import replay
from caching.audit.audit import SETTINGS
from caching.audit.logs import LoggedCall
from caching.audit.prepare import Prepared, prepare
from caching.audit.replay import Placed, _partition
from caching.audit.spend import Replay, Spend
from caching.pricing import cost_of
from caching.rules import TTL, Catalog, Entry, Prompt, PromptCache
from caching.rules import cache as rules_cache
from caching.rules.approaches import approach as find_approach
from caching.rules.approaches import as_checkpoints
from caching.rules.memo import Linearizer
from caching.rules.usage import Usage

from ..helpers import cp, property_examples, text_of

MODELS = ("global.anthropic.claude-sonnet-4-6", "global.anthropic.claude-sonnet-4-5-20250929-v1:0")
ACCOUNTS = ("111122223333", "444455556666")
PAUSES = (0.0, 1.0, 20.0, 290.0, 299.0, 300.0, 301.0, 900.0, 3_599.0, 3_600.0, 3_601.0, 8_000.0, -400.0, -5_000.0)
PLACED = [(name, setting) for name, setting in SETTINGS.items() if setting[0] is not None]


class Engine(Replay):
    """The reference: each call looked up and committed on the rules engine's PromptCache. Its waste is worked out
    at the end from every write and every read: a write's unread tokens run from the furthest any read of its
    entries reached (at least where the write began) to where it ended, 1h up to its last 1h entry, 5m after."""

    def __init__(self) -> None:
        super().__init__()
        self.cache = PromptCache(lambda: 0.0)
        # Each write: its entries (with the tokens up to each and its prefix), start, end, model, account, counted.
        self.writes: list[tuple[list[tuple[Entry, int, str]], int, int, str, str, bool]] = []
        self.reads: dict[int, int] = {}  # id of an entry (each is kept in `writes`) -> the longest read of it

    def add(self, call: LoggedCall, prepared: Prepared, prompt: Prompt, counted: bool = True) -> None:
        cache, digests, account, model_id, now = self.cache, prepared.digests, call.account, call.model_id, call.at
        read_at = cache.lookup(prompt, model_id, account, digests, now)
        if read_at:
            found = id(cache.entry(model_id, digests[read_at], account))
            self.reads[found] = max(self.reads.get(found, 0), prompt.cumulative[read_at])
        result = cache.commit(prompt, prepared.model, model_id, account, digests, now, read_at)
        if result.written:
            entries = [
                (entry, prompt.cumulative[at], digests[at])
                for entry, at in zip(result.written, result.written_at, strict=True)
            ]
            self.writes.append((entries, result.read_tokens, entries[-1][1], model_id, account, counted))
        if not counted:
            self._counted(False, counted)
            return
        sums = self._sums.setdefault(model_id, [0, 0, 0, 0, 0])
        for index, tokens in enumerate(
            (result.input_tokens, prepared.output, result.read_tokens, result.write_5m_tokens, result.write_1h_tokens)
        ):
            sums[index] += tokens
        self._counted(result.read_tokens > 0)

    def _used(self, entries: list[tuple[Entry, int, str]], start: int, end: int) -> int:
        return min(max([start, *(self.reads.get(id(entry), 0) for entry, _, _ in entries)]), end)

    def open(self, now: float) -> set[tuple[str, int, int, tuple[tuple[str, str, str], ...]]]:
        """The counted writes not read to their end with an entry live at `now` (one replaced in its slot is never
        read again): what a window hands over (windows.py)."""
        found = set()
        for entries, start, end, model_id, account, counted in self.writes:
            used = self._used(entries, start, end)
            keys = tuple(
                sorted(
                    (model_id, account, digest)
                    for entry, _, digest in entries
                    if self.cache.entry(model_id, digest, account) is entry and entry.expires_at > now
                )
            )
            if counted and used < end and keys:
                found.add((model_id, used, end, keys))
        return found

    def finish(self) -> Spend:
        for entries, start, end, model_id, _, counted in self.writes:
            used = self._used(entries, start, end)
            hour_end = max([start, *(tokens for entry, tokens, _ in entries if entry.ttl == TTL.ONE_HOUR)])
            if counted and end > used:
                waste = self._waste.setdefault(model_id, [0, 0])
                waste[0] += end - max(used, hour_end)
                waste[1] += max(0, hour_end - used)
                self.spend.wasted_tokens += end - used
        return super().finish()

    def _live(self, now: float) -> Any:
        for key, (ttl, expires_at, ready) in self.cache.entries().items():
            if expires_at > now:
                yield key, ttl, expires_at, ready


def traffic(seed: int, calls: int) -> list[tuple[LoggedCall, Prepared]]:
    """Conversations of eight people over two accounts and two models; each call's logged total is its estimate
    scaled by up to a tenth either way (so the scaled counts round)."""
    rng, catalog, now, linearizer = random.Random(seed), Catalog(), 1_795_996_800.0, Linearizer()
    tools = {"tools": [{"toolSpec": {"name": f"t{n}", "description": text_of(150, "tool"), "inputSchema": {"json": {}}}}
                       for n in range(3)]}  # fmt: skip
    systems = [text_of(tokens, word) for tokens, word in ((600, "rule"), (1_500, "law"), (2_300, "norm"))]
    histories: dict[int, list[dict[str, Any]]] = {}
    made: list[tuple[LoggedCall, Prepared]] = []
    for number in range(calls):
        now += rng.choice(PAUSES)
        person = rng.randrange(8)
        history = histories.setdefault(person, [])
        if not history or rng.random() < 0.1:
            history.clear()
            history.append({"role": "user", "content": [{"text": f"Task {number} of {person}"}]})
        elif rng.random() < 0.4:  # the model asked for tools (sometimes more than the lookback), and they answered
            ids = [f"u{number}-{n}" for n in range(rng.choice([1, 2, 12, 25]))]
            history.append({"role": "assistant", "content": [
                {"toolUse": {"toolUseId": i, "name": "t0", "input": {}}} for i in ids]})  # fmt: skip
            history.append({"role": "user", "content": [
                {"toolResult": {"toolUseId": i, "content": [{"text": text_of(rng.choice([5, 300]), "row")}]}}
                for i in ids]})  # fmt: skip
        else:
            history.append({"role": "assistant", "content": [{"text": f"Answer {number}"}]})
            blocks = rng.choice([1, 1, 19, 20, 21, 22])  # with the answer, 20 to 23 blocks: each side of the lookback
            history.append({"role": "user", "content": [
                {"text": text_of(rng.choice([10, 400, 1_200]), f"ask{n}")} for n in range(blocks)]})  # fmt: skip
        # Two people (one of each account) share a system prompt and tools: their prefixes meet in no cache.
        request: dict[str, Any] = {"system": [{"text": systems[person // 2 % 3]}, cp()], "messages": list(history)}
        if person // 2 % 2:
            request["toolConfig"] = tools
        model_id = MODELS[person // 4]
        model = catalog.find(model_id)
        assert model is not None
        call = LoggedCall(f"app-{person}", now, model_id, request, Usage(), None, account=ACCOUNTS[person % 2],
                          region="us-east-1", operation="Converse", where=f"line {number}")  # fmt: skip
        estimate = prepare(call, Usage(), catalog, linearizer)
        assert estimate is not None, "the generated conversation is one Bedrock accepts"
        total = estimate.prompt.total_tokens
        logged = Usage.of(regular=round(total * rng.uniform(0.9, 1.1)), output=rng.randrange(99))
        if rng.random() < 0.3:  # scaled so that a place a point may go holds the model's minimum to the token
            place = estimate.prompt.cumulative[rng.choice(estimate.shape[:4]) or estimate.shape.user_end]
            exact = [n for n in range(model.min_tokens * total // place - 3, model.min_tokens * total // place + 4)
                     if round(place * (n / total)) == model.min_tokens]  # fmt: skip
            logged = Usage.of(regular=exact[0], output=1) if exact else logged
        call = replace(call, usage=logged)
        prepared = prepare(call, logged, catalog, linearizer)
        assert prepared is not None
        made.append((call, prepared))
    return made


def placed_prompt(prepared: Prepared, approach: str, ttl: str) -> Prompt:
    """The call's prompt with the setting's points as its checkpoints, for the rules engine."""
    prompt = prepared.prompt
    points = find_approach(approach).points(prepared.shape, ttl)
    return Prompt(prompt.blocks, as_checkpoints(points, prompt.blocks), prompt.cumulative, prompt.variant)


@settings(max_examples=property_examples(20), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32), warm=st.integers(0, 30), sweep_every=st.sampled_from([5, 1_000]))
def test_the_fast_core_equals_the_rules_engine(seed: int, warm: int, sweep_every: int) -> None:
    calls = traffic(seed, 90)
    with pytest.MonkeyPatch.context() as patch:  # sweeps often, or (as in the audit) never in so few calls
        patch.setattr(rules_cache, "SWEEP_EVERY_CALLS", sweep_every)
        patch.setattr(replay, "SWEEP_EVERY_CALLS", sweep_every)
        for name, (approach, ttl) in PLACED:
            assert approach is not None
            fast, engine = Placed(), Engine()
            for number, (call, prepared) in enumerate(calls):
                counted = number >= warm  # the first calls only rebuild the cache, as a window's warm-up does
                points = _partition(prepared.shape, ((approach, ttl),))[0][0]
                fast.add(call, prepared, points, counted)
                engine.add(call, prepared, placed_prompt(prepared, approach, ttl), counted)
                where = f"{name}, seed {seed}, {call.where}"
                assert fast._sums == engine._sums, where
                assert fast.state(call.at) == engine.state(call.at), where
                if number % 4 == 0:  # every call's would double the test's time
                    opened = {(w.model_id, w.used, w.end, tuple(sorted(w.keys))) for w in fast.handover(call.at).open}
                    assert opened == engine.open(call.at), where
                assert sum(map(len, fast._scopes.values())) == len(engine.cache.entries()), where  # the same swept
            assert fast.finish() == engine.finish(), name


def test_the_fast_core_writes_reads_and_refreshes_as_the_rules_say() -> None:
    """By hand: one 1h point after a 3,000-token system prompt, read 200 s after the write (which refreshes it to an
    hour from then), read again 3,700 s after the write (alive only by that refresh), then never again: two reads of
    3,000 tokens, one write of 3,000, nothing wasted; the entry now expires an hour after the last read."""
    catalog, model_id, at = Catalog(), MODELS[0], 1_795_996_800.0
    request = {"system": [{"text": text_of(3_000)}], "messages": [{"role": "user", "content": [{"text": "Hi"}]}]}
    call = LoggedCall("app", at, model_id, request, Usage(), None, account=ACCOUNTS[0], region="us-east-1",
                      operation="Converse")  # fmt: skip
    estimate = prepare(call, Usage(), catalog)
    assert estimate is not None and estimate.shape.system_end == 1
    logged = Usage.of(regular=estimate.prompt.total_tokens, output=5)
    call = replace(call, usage=logged)
    prepared = prepare(call, logged, catalog)
    assert prepared is not None and prepared.prompt.cumulative[1] == 3_000
    points = ((1, TTL.ONE_HOUR, 3_600),)
    fast = Placed()
    for later in (0.0, 200.0, 3_700.0):
        fast.add(replace(call, at=at + later), prepared, points)
    entry = fast._scopes[(model_id, ACCOUNTS[0])][prepared.digests[1]]
    assert (entry.ttl, entry.expires_at) == (TTL.ONE_HOUR, at + 3_700.0 + 3_600)
    spend = fast.finish()
    assert (spend.calls, spend.hits, spend.wasted_tokens) == (3, 2, 0)
    usage = spend.tokens[model_id]
    assert (usage.cacheReadInputTokens, usage.cacheWriteInputTokens, usage.outputTokens) == (6_000, 3_000, 15)


def test_an_unread_write_is_wasted_in_the_ttl_each_part_was_written_with() -> None:
    """By hand: one call writes its 3,000-token system prompt for 1h and its message after it for 5m, and no call
    reads either: 3,000 1h tokens and the message's 5m tokens are wasted, priced as such (not all as 5m)."""
    catalog, model_id, at = Catalog(), MODELS[0], 1_795_996_800.0
    request = {
        "system": [{"text": text_of(3_000)}],
        "messages": [{"role": "user", "content": [{"text": text_of(500)}]}],
    }
    call = LoggedCall("app", at, model_id, request, Usage(), None, account=ACCOUNTS[0], region="us-east-1",
                      operation="Converse")  # fmt: skip
    prepared = prepare(call, Usage(), catalog)
    assert prepared is not None and prepared.prompt.cumulative[1] == 3_000
    message = prepared.prompt.total_tokens - 3_000
    fast = Placed()
    fast.add(call, prepared, ((1, TTL.ONE_HOUR, 3_600), (len(prepared.prompt.blocks), TTL.FIVE_MINUTES, 300)))
    spend = fast.finish()
    assert spend.wasted_tokens == 3_000 + message
    price = cost_of(Usage.of(write_1h=3_000, write_5m=message), model_id).input
    assert spend.wasted == price != cost_of(Usage.of(write_5m=3_000 + message), model_id).input
