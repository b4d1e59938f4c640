"""The audit's oracle forgets conversations idle past any entry's life, and its answer is the one it gives when it
keeps every conversation: memory follows the last hours of traffic, not the length of the log."""

from __future__ import annotations

import pickle

import pytest

from caching.audit import oracle
from caching.audit.oracle import Oracle, Uses, use_of
from caching.rules.oracle import Chain

from .test_windows import traffic


@pytest.mark.parametrize("seed", range(3))
def test_forgetting_idle_conversations_changes_no_cost(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Six users' conversations with pauses from seconds to past an hour (tests/audit/test_windows.py): the oracle
    that looks for idle chains every 7 calls costs, to the last digit, what one that never forgets costs (chains
    idle an hour or more restart, as nothing in the cache outlives that), and it holds fewer chains."""
    calls = traffic(seed, 400)
    monkeypatch.setattr(oracle, "RETIRE_EVERY", 7)
    forgetting = Oracle()
    for call, prepared in calls:
        forgetting.add(call, prepared)
    monkeypatch.setattr(oracle, "RETIRE_SECONDS", float("inf"))
    monkeypatch.setattr(oracle, "HOUR", float("inf"))  # and never restarts a chain: one chain per key, as before
    keeping = Oracle()
    for call, prepared in calls:
        keeping.add(call, prepared)
    assert forgetting.cost() == keeping.cost()
    assert len(forgetting._chains) < len(keeping._chains)


def test_a_chain_used_again_after_an_hour_costs_what_a_new_one_costs() -> None:
    """Why a chain can be forgotten: after a pause of an hour or more no entry is alive, so the cheapest way on is
    the cheapest way so far plus what a new chain pays (here 10,000 tokens written for 1h at 2x, read at 0.1x)."""
    weights = (0.1, 1.25, 2.0)
    chain, fresh = Chain(1_024, weights), Chain(1_024, weights)
    for at in (0.0, 60.0):
        chain.use(at, 10_000)
    before = chain.cost()
    for at in (3_600.0 + 60.0, 3_600.0 + 120.0):
        chain.use(at, 10_000)
        fresh.use(at, 10_000)
    assert chain.cost() == before + fresh.cost() == 2 * (10_000 * 1.25 + 10_000 * 0.1)


def test_a_lane_s_uses_past_uses_kept_wait_in_a_file_and_come_back_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """A window's lane keeps its calls' uses for the oracle of its account and model: past USES_KEPT they are written
    to a temporary file, so memory holds at most that many; read back (more than once, pickled too, as Dask may send
    a window to another worker), they are every use in order, and the oracle that takes them costs what one that saw
    the calls costs."""
    calls = traffic(1, 100)
    monkeypatch.setattr(oracle, "USES_KEPT", 7)
    kept = Uses()
    for call, prepared in calls:
        kept.add(call, prepared)
        assert len(kept.uses) < 7
    made = [use_of(call, prepared) for call, prepared in calls]
    assert len(made) == 100 and len(kept.uses) == 100 % 7
    assert list(kept) == made and list(kept) == made
    sent = pickle.loads(pickle.dumps(kept))
    assert list(sent) == made and len(sent.uses) == 100
    sent.take(made[0])  # past USES_KEPT again: a run of all 101 is written
    assert sent.uses == [] and list(sent) == [*made, made[0]]
    taking, seeing = Oracle(), Oracle()
    for use in kept:
        taking.take(use)
    for call, prepared in calls:
        seeing.add(call, prepared)
    assert taking.cost() == seeing.cost()
