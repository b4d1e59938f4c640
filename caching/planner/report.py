"""What the planner prints: a table per approach and TTL, a bar chart, and the break-even points."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group
from rich.text import Text

from ..rules.approaches import approach
from ..strands.approaches import recipe
from ..tables import Code, NotedTable, bar_chart, table
from ..words import plural, saving, usd, usd_places
from .simulate import PlanResult
from .sweep import PAUSES_MINUTES, WHOLE_UP_TO_CALLS, BreakEven, Sweep
from .uncertain import Range
from .workload import Distribution, Workload


def describe(workload: Workload) -> Text:
    """The workload in two lines."""
    w = workload
    fan = f"; {w.parallel_tool_calls} tool calls at once in each tool step" if w.parallel_tool_calls > 1 else ""
    return Text(
        f"Workload {w.name}: {w.model}; {plural(w.users, 'user')} x {plural(w.sessions_per_user, 'session')} x "
        f"{plural(w.turns_per_session, 'turn')} x {plural(w.calls_per_turn, 'call')} = {w.calls:,} model calls "
        f"(seed {w.seed}){fan}.\n"
        f"Tokens: system {w.system_tokens:,}, tools {w.tool_tokens:,}, user message {w.user_message_tokens:,}, tool "
        f"result {w.tool_result_tokens:,}, reply {w.reply_tokens:,}; pauses: {w.pause_between_turns} between turns, "
        f"{w.pause_between_sessions} between sessions{_latency(w)}."
    )


def _latency(w: Workload) -> str:
    """The time a turn's calls take, when the workload gives any (by default they happen at once)."""
    if w.model_latency == Distribution() and w.tool_latency == Distribution():
        return ""
    return f"; each model call takes {w.model_latency}, each tool step {w.tool_latency}"


def plan_table(results: Sequence[PlanResult]) -> NotedTable:
    """One row per approach and TTL: cost, savings, share of the best possible savings, hits, where writes go."""
    caption = (
        "vs none: the input cost against no caching. best %: share of the input savings the rules allow (an oracle "
        "that knows every reuse). "
        "hits: calls that read the cache. writes: tokens written to the shared prefix (tools + system) / to "
        "conversation history."
    )
    columns = [("approach", "left"), ("ttl", "left")]
    columns += [(name, "right") for name in ("total cost", "input cost", "vs none", "best %", "hits")]
    out = NotedTable("Cost by approach and TTL", columns, "writes", caption, note_prefix="writes ")
    places = usd_places(amount for result in results for amount in (result.cost.total, result.cost.input))
    for result in results:
        tally = result.tally
        writes = tally.write_5m + tally.write_1h
        out.add_row(cells(result, places), f"{tally.write_shared:,} / {writes - tally.write_shared:,}")
    return out


def cells(result: PlanResult, places: int | None = None) -> list[str]:
    """A run's row of the plan table (and of the HTML page's): approach, ttl, total cost, input cost, against none,
    best %, hits; dollars to `places` decimals (the column's)."""
    cost, tally = result.cost, result.tally
    return [
        result.approach,
        approach(result.approach).ttl_label(result.ttl),
        usd(cost.total, places),
        usd(cost.input, places),
        saving(cost.input_savings),
        f"{result.share_of_best:.0%}",
        f"{tally.hits / tally.calls:.0%}" if tally.calls else "-",
    ]


def label(result: PlanResult) -> str:
    """ "combined 5m", or "shape" (an approach that picks its own TTL, or has no points, needs none)."""
    return approach(result.approach).label(result.ttl)


def plan_report(results: Sequence[PlanResult], break_even: BreakEven | None) -> Group:
    """The table, a bar chart of total cost, and what the numbers mean for the choice of approach and TTL."""
    first = results[0]
    oracle = first.oracle_cost
    lines: list[Text | NotedTable | Group | Code] = [describe(first.workload), plan_table(results)]
    costs = {label(r): r.cost.total for r in results}
    lines.append(bar_chart(costs, "Total cost (input + output)"))
    lines.append(
        Text(f"Best possible input cost (oracle): {usd(oracle.input)}, {saving(oracle.input_savings, 'no caching')}.")
    )
    cheapest = min(results, key=lambda r: r.cost.total)
    lines.append(
        Text(
            f"Cheapest here: {label(cheapest)} at {usd(cheapest.cost.total)}, {cheapest.share_of_best:.1%} of the "
            f"input savings the rules allow. With Strands:"
        )
    )
    lines.append(Code(recipe(cheapest.approach, cheapest.ttl)))  # on lines of its own, to copy
    turn = cheapest.pays_from_turn() if approach(cheapest.approach).rules else None
    if turn is not None:
        lines.append(
            Text(
                f"With {label(cheapest)}, the first session (on a cold cache) costs less than no caching from turn "
                f"{turn} on."
            )
        )
    if break_even is not None:
        swept = "on the whole workload" if break_even.whole else "on a sample of the workload"
        if break_even.minutes is None:
            lines.append(
                Text(
                    f"With {break_even.approach}, 5m stays cheaper than 1h at every pause between turns up to 90 "
                    f"minutes (swept {swept})."
                )
            )
        elif break_even.minutes == PAUSES_MINUTES[0]:  # no shorter pause was tried: there is no "once" to report
            lines.append(
                Text(
                    f"With {break_even.approach}, 1h beats 5m already at the shortest pause between turns tried, "
                    f"{plural(break_even.minutes, 'minute')}{_until(break_even)} (swept {swept})."
                )
            )
        else:
            lines.append(
                Text(
                    f"With {break_even.approach}, 1h beats 5m once pauses between turns reach about "
                    f"{plural(break_even.minutes, 'minute')}{_until(break_even)} (swept {swept})."
                )
            )
    return Group(*lines)


def _until(break_even: BreakEven) -> str:
    """Where 5m is cheaper again, when a pause long enough outlives a 1h entry too."""
    if break_even.until is None:
        return ""
    return f", until about {plural(break_even.until, 'minute')}, where 5m is cheaper again"


def plan_json(results: Sequence[PlanResult], break_even: BreakEven | None) -> dict[str, object]:
    """The plan for programs: the workload, each approach and TTL, the oracle and the break-even point."""
    from dataclasses import fields

    first = results[0]
    values = {field.name: getattr(first.workload, field.name) for field in fields(first.workload)}
    workload = {k: v if isinstance(v, (int, float, str, tuple)) else str(v) for k, v in values.items()}  # durations
    rows = [
        {
            "approach": r.approach,
            "ttl": _ttl(r.approach, r.ttl),
            "total_cost": str(r.cost.total),
            "input_cost": str(r.cost.input),
            "input_savings": round(r.cost.input_savings, 6),
            "share_of_best": round(r.share_of_best, 6),
            "hit_rate": round(r.tally.hits / r.tally.calls, 6) if r.tally.calls else 0.0,
            "tokens": {
                "regular": r.tally.regular,
                "read": r.tally.read,
                "write_5m": r.tally.write_5m,
                "write_1h": r.tally.write_1h,
                "output": r.tally.output,
            },
        }
        for r in results
    ]
    cheapest = min(results, key=lambda r: r.cost.total)
    return {
        "workload": workload,
        "results": rows,
        "oracle": {
            "input_cost": str(first.oracle_cost.input),
            "input_savings": round(first.oracle_cost.input_savings, 6),
        },
        "cheapest": {"approach": cheapest.approach, "ttl": _ttl(cheapest.approach, cheapest.ttl)},
        "one_hour_beats_5m_from_minutes": None if break_even is None else break_even.minutes,
        "five_minutes_cheaper_again_from_minutes": None if break_even is None else break_even.until,
        "break_even_swept_on": None if break_even is None else ("whole" if break_even.whole else "sample"),
    }


def _ttl(name: str, ttl: str) -> str | None:
    """The TTL of a run for programs: None for an approach that places no points."""
    return ttl if approach(name).rules else None


def sweep_chart(result: Sweep, width: int = 80) -> Group:
    """The sweep as paired bars, 5m then 1h, one row per setting; the cheaper TTL of each row is marked."""
    w = result.workload
    if result.over == "pauses":
        swept = "the whole workload" if result.whole else "a sample of the workload (at most 20 users, 2 sessions)"
        title = f"{result.approach} on {w.name}: total cost at each fixed pause between turns, swept on {swept}."
        labels = [f"{row.value} min" for row in result.rows]
    else:
        title = (
            f"{result.approach} on {w.name}: cost per user at each number of users (the rest of the workload as is)."
        )
        labels = [plural(row.value, "user") for row in result.rows]
    if not result.rows:
        return Group(
            Text(title), Text(f"No setting fits within {WHOLE_UP_TO_CALLS:,} calls: lower the calls per user.")
        )
    places = usd_places(a for row in result.rows for a in (row.five, row.hour))
    amounts = [usd(a, places) for row in result.rows for a in (row.five, row.hour)]
    label, money = max(len(text) for text in labels), max(len(text) for text in amounts)
    bar = min(40, max(5, (width - label - 2 * (money + 3) - 6) // 2))
    biggest = max(max(row.five, row.hour) for row in result.rows) or 1

    def bars(amount: object, text: str) -> str:
        filled = round(bar * amount / biggest)  # type: ignore[operator]
        return f"{'█' * filled}{' ' * (bar - filled)} {text:>{money}}"

    lines = [Text(title), Text(f"{'':<{label}}  {'5m':<{bar + money + 1}}   1h")]
    for text, row in zip(labels, result.rows, strict=True):
        cheaper = "1h" if row.hour < row.five else "5m" if row.five < row.hour else "="
        lines.append(
            Text(
                f"{text:>{label}}  {bars(row.five, usd(row.five, places))}   "
                f"{bars(row.hour, usd(row.hour, places))}  {cheaper}"
            )
        )
    lines.append(Text("The last column names the cheaper TTL at that setting (= when they cost the same)."))
    return Group(*lines)


def sweep_json(result: Sweep) -> dict[str, object]:
    """The sweep for programs."""
    key = "pause_minutes" if result.over == "pauses" else "users"
    per = "total" if result.over == "pauses" else "per_user"
    return {
        "workload": result.workload.name,
        "approach": result.approach,
        "over": result.over,
        "swept_on": "whole" if result.whole else "sample",
        "rows": [
            {key: row.value, f"cost_5m_{per}": str(row.five), f"cost_1h_{per}": str(row.hour)} for row in result.rows
        ],
    }


def range_report(found: Range) -> Group:
    """Each run's total cost under each scenario, and whether the cheapest stays the cheapest across them."""
    caption = " ".join(f"{s.name}: {s.uncertainty.words()} ({s.source})." for s in found.scenarios)
    out = table("Total cost under a less tidy Bedrock", caption)
    out.add_column("approach")
    out.add_column("ttl")
    for scenario in found.scenarios:
        out.add_column(scenario.name, justify="right")
    places = usd_places(cost for costs in found.costs.values() for cost in costs)
    for (name, ttl), costs in found.costs.items():
        out.add_row(name, approach(name).ttl_label(ttl), *(usd(cost, places) for cost in costs))
    cheapest = found.cheapest()
    labels = [approach(name).label(ttl) for name, ttl in cheapest]
    if len(set(cheapest)) == 1:
        verdict = f"{labels[0]} stays the cheapest across the range."
    else:
        named = "; ".join(f"{s.name}: {label}" for s, label in zip(found.scenarios, labels, strict=True))
        verdict = f"The cheapest depends on how kind Bedrock is ({named}): weigh the range, not one figure."
    return Group(out, Text(verdict))


def range_json(found: Range) -> dict[str, object]:
    """The range for programs: the scenarios, each run's total cost under each, and the cheapest under each."""
    return {
        "scenarios": [
            {
                "name": s.name,
                "expiry_window_seconds": s.uncertainty.expiry_window,
                "miss_rate": s.uncertainty.miss_rate,
                "seed": s.uncertainty.seed,
            }
            for s in found.scenarios
        ],
        "total_cost": [
            {
                "approach": name,
                "ttl": _ttl(name, ttl),
                **{s.name: str(c) for s, c in zip(found.scenarios, costs, strict=True)},
            }
            for (name, ttl), costs in found.costs.items()
        ],
        "cheapest": {s.name: approach(n).label(t) for s, (n, t) in zip(found.scenarios, found.cheapest(), strict=True)},
    }
