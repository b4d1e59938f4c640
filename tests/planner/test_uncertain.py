"""The plan under a less tidy Bedrock (issue 24, item 3): exact, measured and pessimistic costs per approach."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from caching.__main__ import main as cli
from caching.planner.report import range_report
from caching.planner.uncertain import Range, scenarios
from caching.rules.uncertainty import EXACT, Uncertainty

from ..helpers import render_with


def plan_json(*args: str) -> dict[str, object]:
    return json.loads(render_with(lambda console: cli(["plan", *args, "--json"], console), width=300))


def test_the_range_sets_each_run_against_the_exact_rules_and_the_bounds() -> None:
    plan = plan_json("coding-session", "--range", "--miss-rate", "0.03", "--expiry-window", "60")
    rows = plan["range"]["total_cost"]  # type: ignore[index]
    exact = {(r["approach"], r["ttl"]): r["total_cost"] for r in plan["results"]}  # type: ignore[index]
    assert {(r["approach"], r["ttl"]): r["exact rules"] for r in rows} == exact  # the plan's own figures
    for row in rows:
        if row["approach"] == "none":  # nothing cached, nothing to miss
            assert row["exact rules"] == row["measured"] == row["pessimistic"]
        else:  # a causeless miss only ever writes again what would have been read
            assert Decimal(row["pessimistic"]) >= Decimal(row["exact rules"])
    assert plan["range"]["scenarios"] == [  # type: ignore[index]
        {"name": "exact rules", "expiry_window_seconds": 0.0, "miss_rate": 0.0, "seed": 0},
        {"name": "measured", "expiry_window_seconds": 60.0, "miss_rate": 0.03, "seed": 1},
        {"name": "pessimistic", "expiry_window_seconds": 0.0, "miss_rate": 0.06, "seed": 1},  # twice the measured
    ]


def test_with_no_window_and_no_misses_measured_is_exact() -> None:
    plan = plan_json("blog-chat", "--range", "--expiry-window", "0")
    assert all(row["measured"] == row["exact rules"] for row in plan["range"]["total_cost"])  # type: ignore[index]


def test_the_pessimistic_bound_is_at_least_five_percent() -> None:
    assert [s.uncertainty for s in scenarios(0.01)] == [
        EXACT,
        Uncertainty(120.0, 0.01, 1),
        Uncertainty(0.0, 0.05, 1),
    ]


def test_the_verdict_says_when_the_cheapest_changes() -> None:
    chosen = scenarios()
    runs = {
        ("explicit", "5m"): [Decimal(2), Decimal(3), Decimal(5)],
        ("combined", "1h"): [Decimal(1), Decimal(4), Decimal(6)],
    }
    text = render_with(lambda console: console.print(range_report(Range(chosen, runs))) or 0, width=200)
    assert (
        "The cheapest depends on how kind Bedrock is (exact rules: combined 1h; measured: explicit 5m; "
        "pessimistic: explicit 5m): weigh the range, not one figure." in text
    )


def test_a_rate_that_is_no_share_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli(["plan", "--range", "--miss-rate", "2"])
    assert stopped.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "python -m caching plan: error: argument --miss-rate: must be from 0 to 1 (or 0% to 100%), got '2'"
    )
