"""What the emulator keeps is bounded in bytes, and wording a miss holds up no other caller (issue 19, items 14
and 15)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from caching import limits
from caching.emulator import Emulator, ManualClock
from caching.emulator import state as state_module
from caching.rules import Catalog, History, linearize

from ..helpers import CP, SONNET, text_of, user

MODEL = Catalog().find(SONNET)


def asked(number: int, characters: int = 10_000) -> dict[str, Any]:
    """A request of one user message, `characters` long, unlike every other number's."""
    return {"messages": [user(f"{number:06d}" + "x" * (characters - 6))]}


def size_of(request: dict[str, Any]) -> int:
    assert MODEL is not None
    return linearize(request, MODEL).size


def test_the_records_kept_are_bounded_in_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "RECORD_BYTES", int(size_of(asked(1)) * 2.5))  # room for two records, not three
    emulator = Emulator(clock=ManualClock())
    for number in range(1, 6):
        emulator.converse(SONNET, asked(number), "AKIAONE")
    assert [record.number for record in emulator.records] == [4, 5]


def test_a_record_larger_than_the_bound_is_still_kept_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "RECORD_BYTES", 1_000)
    emulator = Emulator(clock=ManualClock())
    for number in range(1, 4):
        emulator.converse(SONNET, asked(number), "AKIAONE")
    assert [record.number for record in emulator.records] == [3]


def test_the_history_is_bounded_in_bytes_oldest_first() -> None:
    assert MODEL is not None
    prompts = [(linearize(asked(n), MODEL), asked(n)) for n in range(1, 6)]
    history = History(budget=int(prompts[0][0].held * 3.5))
    for account in ("a", "b"):
        for prompt, request in prompts[:3]:
            history.remember(SONNET, account, prompt, [], request)
    # Six remembered, room for three: account a (seen least recently) loses all three, oldest first.
    assert history.earlier(SONNET, "a") == ()
    assert [request for _, request in history.earlier(SONNET, "b")] == [asked(1), asked(2), asked(3)]
    assert history.bytes == 3 * prompts[0][0].held


def test_the_history_counts_a_prompt_by_its_blocks_not_only_its_bytes() -> None:
    """A prompt of many short blocks holds far more memory than its bytes (see BLOCK_BYTES): four prompts of 20
    blocks under 1,000 bytes each, and a budget of two such prompts counted with their blocks, keep two (by bytes
    alone, all four would fit)."""
    assert MODEL is not None

    def asked(number: int) -> dict[str, Any]:
        texts = [f"T{number}", *(f"Q{n:02d}" for n in range(1, 20))]
        return {"messages": [{"role": "user", "content": [{"text": text} for text in texts]}]}

    prompts = [(linearize(asked(n), MODEL), asked(n)) for n in range(4)]
    assert len(prompts[0][0].blocks) == 20 and prompts[0][0].size < 1_000
    history = History(budget=2 * (prompts[0][0].size + 20 * 3_000) + 100)
    for prompt, request in prompts:
        history.remember(SONNET, "a", prompt, [], request)
    assert [request for _, request in history.earlier(SONNET, "a")] == [asked(2), asked(3)]


def test_a_change_past_the_compared_characters_is_worded_without_its_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "COMPARED_CHARACTERS", 1_000)
    emulator = Emulator(clock=ManualClock())
    guide = text_of(2_100)
    assert len(guide) > 5_000
    emulator.converse(SONNET, {"system": [{"text": guide}, CP], "messages": [user("Hi")]}, "AKIAONE")
    changed = guide[:5_000] + "CHANGED" + guide[5_007:]
    emulator.converse(SONNET, {"system": [{"text": changed}, CP], "messages": [user("Hi")]}, "AKIAONE")
    assert emulator.records[-1].diagnosis.message == (
        "prefix changed in system block 0 after its first 1,000 characters (no more are compared, "
        "CACHING_LIMIT_COMPARED_CHARACTERS): keep what changes after the last cachePoint"
    )


def test_wording_one_callers_miss_does_not_hold_up_another(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first caller's diagnosis waits until the second caller's whole call is done: with the diagnosis under
    the emulator's lock, the second call could never finish and the test would fail at its join."""
    second_done = threading.Event()
    compare = state_module.what_changed

    def slow_compare(*args: Any) -> str:
        if threading.current_thread().name == "first":
            assert second_done.wait(10), "the second call never finished while the first was being worded"
        return compare(*args)

    monkeypatch.setattr(state_module, "what_changed", slow_compare)
    emulator = Emulator(clock=ManualClock())
    cached = {"system": [{"text": text_of(2_100)}, CP], "messages": [user("Hi")]}  # a new prefix: it is compared
    first = threading.Thread(target=emulator.converse, args=(SONNET, cached, "AKIAONE"), name="first", daemon=True)
    first.start()
    second = threading.Thread(target=emulator.converse, args=(SONNET, cached, "AKIATWO"), daemon=True)
    second.start()
    second.join(5)
    assert not second.is_alive()
    second_done.set()
    first.join(5)
    assert not first.is_alive()
    assert [record.account for record in emulator.records] == ["AKIATWO", "AKIAONE"]
