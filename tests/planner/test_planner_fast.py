"""The planner's fast core gives exactly what the general simulation on the rules engine gives: random workloads,
every approach and TTL, every token counted (a differential property test); and many runs in one pass over the
traffic give what each gives alone."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caching.planner import Distribution, Workload, simulate, simulate_fast, simulate_runs
from caching.rules.approaches import NAMES

from ..helpers import property_examples

PAUSES = st.sampled_from([0.0, 20.0, 200.0, 299.0, 300.0, 301.0, 1_000.0, 3_599.0, 3_600.0, 5_000.0])
WORKLOADS = st.builds(
    Workload,
    system_tokens=st.sampled_from([0, 500, 1_900, 2_100, 5_000]),
    tool_tokens=st.sampled_from([0, 300, 2_100]),
    users=st.integers(1, 4),
    sessions_per_user=st.integers(1, 3),
    turns_per_session=st.integers(1, 6),
    calls_per_turn=st.integers(1, 4),
    parallel_tool_calls=st.sampled_from([1, 2, 11, 12, 16]),
    user_message_tokens=st.integers(1, 900),
    tool_result_tokens=st.integers(1, 900),
    reply_tokens=st.integers(1, 300),
    pause_between_turns=PAUSES.map(lambda s: Distribution("fixed", s)),
    pause_between_sessions=PAUSES.map(lambda s: Distribution("fixed", s)),
    model_latency=st.sampled_from([0.0, 0.0, 5.0, 150.0]).map(lambda s: Distribution("fixed", s)),
    tool_latency=st.sampled_from([0.0, 0.0, 30.0, 299.0]).map(lambda s: Distribution("uniform", 0.0, s)),
    arrivals_over=st.sampled_from([0.0, 100.0, 3_600.0]),
    seed=st.integers(0, 1_000),
)


@pytest.mark.parametrize("approach", NAMES)  # every approach of the registry, rolling and shape included
@settings(
    max_examples=property_examples(150) // len(NAMES),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(workload=WORKLOADS, ttl=st.sampled_from(["5m", "1h"]))
def test_the_fast_core_equals_the_rules_engine(workload: Workload, approach: str, ttl: str) -> None:
    general, fast = simulate(workload, approach, ttl), simulate_fast(workload, approach, ttl)
    assert fast.tally == general.tally
    assert fast.first_session == general.first_session


@settings(max_examples=property_examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workload=WORKLOADS)
def test_one_pass_over_the_traffic_gives_each_run_what_it_gets_alone(workload: Workload) -> None:
    pairs = [(approach, ttl) for approach in NAMES for ttl in ("5m", "1h")]
    together = simulate_runs(workload, pairs)
    assert [(r.approach, r.ttl) for r in together] == pairs
    for result, (approach, ttl) in zip(together, pairs, strict=True):
        alone = simulate_fast(workload, approach, ttl)
        assert (result.tally, result.first_session) == (alone.tally, alone.first_session)
