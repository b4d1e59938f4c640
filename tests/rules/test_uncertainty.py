"""Bedrock less tidy than its rules (issue 24): an expiry window and causeless misses, deterministic by a seed."""

from __future__ import annotations

import pytest

from caching.emulator import Emulator, ManualClock
from caching.rules import Kind
from caching.rules.uncertainty import Uncertainty

from ..helpers import CP, SONNET, text_of, usage_of, user

GUIDE = text_of(2_100)  # 2,100 tokens to the checkpoint: above every minimum


def cached(number: int) -> dict[str, object]:
    """A request whose 2,100-token system prompt is cached; `number` makes the prefix its own."""
    return {"system": [{"text": f"{number:04d} {GUIDE}"}, CP], "messages": [user("Hi")]}


def read_after(uncertainty: Uncertainty, seconds: float, prefixes: int = 200) -> list[bool]:
    """For each prefix: written at 0, sent again `seconds` later: did it read?"""
    clock = ManualClock()
    emulator = Emulator(clock=clock, uncertainty=uncertainty)
    for n in range(prefixes):
        emulator.converse(SONNET, cached(n), "AKIAONE")
    clock.advance(seconds)
    return [usage_of(emulator.converse(SONNET, cached(n), "AKIAONE"))[0] > 0 for n in range(prefixes)]


def test_the_exact_rules_are_a_sharp_edge() -> None:
    assert all(read_after(Uncertainty(), 299.9, 20)) and not any(read_after(Uncertainty(), 300.0, 20))


def test_within_the_window_each_entry_lives_its_own_share_of_it() -> None:
    window = Uncertainty(expiry_window=120.0)
    assert all(read_after(window, 299.9, 50))  # never shorter than the TTL
    assert not any(read_after(window, 420.0, 50))  # never longer than the TTL and the window
    alive = read_after(window, 360.0, 100)  # half the window: about half the entries, drawn evenly
    assert 0.4 < sum(alive) / 100 < 0.6
    assert read_after(window, 360.0, 30) == alive[:30]  # the same draw every run
    assert read_after(Uncertainty(expiry_window=120.0, seed=1), 360.0, 30) != alive[:30]


def test_an_expired_entry_still_says_how_long_it_was_idle() -> None:
    clock = ManualClock()
    emulator = Emulator(clock=clock, uncertainty=Uncertainty(expiry_window=120.0))
    emulator.converse(SONNET, cached(1), "AKIAONE")
    clock.advance(600)  # past any entry's life
    emulator.converse(SONNET, cached(1), "AKIAONE")
    assert emulator.records[-1].diagnosis.message.startswith("10m00s since the last hit: the 5m entry expired")


@pytest.mark.parametrize(("rate", "low", "high"), [(0.0, 0, 0), (0.3, 0.22, 0.38), (1.0, 1, 1)])
def test_a_share_of_the_reads_miss_with_no_cause(rate: float, low: float, high: float) -> None:
    missed = [not hit for hit in read_after(Uncertainty(miss_rate=rate), 60.0)]
    assert low <= sum(missed) / len(missed) <= high


def test_a_causeless_miss_is_named_and_writes_again() -> None:
    clock = ManualClock()
    emulator = Emulator(clock=clock, uncertainty=Uncertainty(miss_rate=1.0))
    _, first, _ = usage_of(emulator.converse(SONNET, cached(1), "AKIAONE"))
    clock.advance(60)  # well inside the TTL: by the exact rules, a read of all of it
    read, written, _ = usage_of(emulator.converse(SONNET, cached(1), "AKIAONE"))
    assert (read, written) == (0, first)  # written again in full
    record = emulator.records[-1]
    assert record.diagnosis.kind == Kind.UNEXPLAINED
    assert record.diagnosis.message == (
        "no cause in the request: a live entry held this prefix, but the call was sent where it is not (the "
        "uncertainty setting's miss rate, as cross-region routing can); "
        f"{written:,} tokens written again"
    )


@pytest.mark.parametrize(("window", "rate"), [(-1.0, 0.0), (0.0, 1.5), (float("inf"), 0.0)])
def test_an_impossible_setting_is_refused(window: float, rate: float) -> None:
    with pytest.raises(ValueError):
        Uncertainty(expiry_window=window, miss_rate=rate)
