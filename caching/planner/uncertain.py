"""The plan under a less tidy Bedrock: each approach's cost under the exact rules, under what was measured, and under
a pessimistic bound, and whether the cheapest approach stays the cheapest across them (issue 24).

- exact rules: a sharp TTL, no miss without a cause (the plan's own figures);
- measured: entries live up to MEASURED_WINDOW_SECONDS past their TTL (measured live for 5m entries) and a share of
  requests miss with no cause, at the rate an audit of your logs counted (`--miss-rate`, 0 unless given);
- pessimistic: a sharp TTL and misses with no cause at twice the measured rate, and at least PESSIMISTIC_MISS_RATE
  (an assumption, not a measurement: a bound to check a choice against, not a forecast).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ..rules.uncertainty import EXACT, MEASURED_WINDOW_SECONDS, Uncertainty
from .simulate import PlanResult, simulate
from .workload import Workload

PESSIMISTIC_MISS_RATE = 0.05  # the least causeless miss rate the pessimistic bound assumes
SEED = 1  # the draws of the uncertain runs: the same plan every time


@dataclass(frozen=True)
class Scenario:
    name: str
    uncertainty: Uncertainty
    source: str  # where its figures come from


def scenarios(miss_rate: float = 0.0, expiry_window: float = MEASURED_WINDOW_SECONDS) -> list[Scenario]:
    """The three settings a plan's range runs: exact, measured, pessimistic."""
    pessimistic = min(1.0, max(PESSIMISTIC_MISS_RATE, 2 * miss_rate))
    return [
        Scenario("exact rules", EXACT, "AWS's and Anthropic's documentation"),
        Scenario(
            "measured",
            Uncertainty(expiry_window, miss_rate, SEED),
            "measured live, and your audit's rate"
            if miss_rate
            else "measured live; no --miss-rate from an audit given",
        ),
        Scenario("pessimistic", Uncertainty(0.0, pessimistic, SEED), "an assumed bound, not a measurement"),
    ]


@dataclass(frozen=True)
class Range:
    """The total cost of each run (approach and TTL, as labelled) under each scenario, in scenario order."""

    scenarios: list[Scenario]
    costs: dict[tuple[str, str], list[Decimal]]

    def cheapest(self) -> list[tuple[str, str]]:
        """The cheapest run under each scenario."""
        return [min(self.costs, key=lambda run: self.costs[run][i]) for i in range(len(self.scenarios))]


def cost_range(
    workload: Workload,
    exact: Sequence[PlanResult],
    chosen: list[Scenario],
    progress: Callable[[int], None] | None = None,
) -> Range:
    """Each run of the plan again under every scenario but the exact one (whose figures are the plan's)."""
    costs: dict[tuple[str, str], list[Decimal]] = {}
    for result in exact:
        row = [result.cost.total]
        for scenario in chosen[1:]:
            row.append(simulate(workload, result.approach, result.ttl, progress, scenario.uncertainty).cost.total)
        costs[(result.approach, result.ttl)] = row
    return Range(chosen, costs)
