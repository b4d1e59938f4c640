"""Rich renderables: per-call and per-turn tables, a session summary, and a bar chart comparing approaches.

They render into any Console; tests use Console(file=io.StringIO(), width=100, color_system=None).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text

from ..pricing import Cost
from ..rules import TTL, Diagnosis
from ..rules.usage import Usage
from ..tables import NotedTable, bar_chart, table
from ..words import ESTIMATE_LEGEND, plural, saving, tokens, usd

if TYPE_CHECKING:  # the planner and the audit render without loading Strands or botocore
    from ..call import Call
    from ..strands.tracking import CallUsage, Turn

# The number words and table helpers live below the planner and the audit (caching.words, caching.tables); they are
# named here too so the examples find every screen helper in caching.lab.
__all__ = [
    "bar_chart",
    "calls_table",
    "comparison_chart",
    "doctor_table",
    "plural",
    "saving",
    "session_line",
    "session_summary",
    "table",
    "tokens",
    "turn_line",
    "turns_table",
    "usd",
]


def outcome(label: str, usage: Usage) -> str:
    """A call's outcome, with the TTL of what it wrote when that is not only the default 5m: "WRITE 1h",
    "READ+WRITE 1h+5m"."""
    hour = usage.written(TTL.ONE_HOUR)
    if not hour:
        return label
    return f"{label} 1h" if hour == usage.cacheWriteInputTokens else f"{label} 1h+5m"


def calls_table(calls: Sequence[CallUsage], title: str = "Model calls", first_token: bool = False) -> NotedTable:
    """One row per model call (turn.call): agent, tokens read/written/regular/output, cost, cache outcome and why.

    With `first_token`, a column shows each call's time to first token (measured on live calls). Offline token counts
    are estimates.
    """
    columns = [("call", "right"), ("agent", "left")]
    columns += [(name, "right") for name in ("read", "write", "regular", "output", "cost")]
    if first_token:
        columns.append(("1st token", "right"))
    estimated = any(call.estimated for call in calls)
    legend = ESTIMATE_LEGEND if estimated else None
    out = NotedTable(title, columns, "cache: why", legend, movable=("1st token",))
    for call in calls:
        u = call.usage
        timing = [f"{call.first_token_ms:,} ms" if call.first_token_ms is not None else "-"] if first_token else []
        out.add_row(
            [
                f"{call.turn}.{call.number}",
                call.agent,
                tokens(u.cacheReadInputTokens, estimated),
                tokens(u.cacheWriteInputTokens, estimated),
                tokens(u.inputTokens, estimated),
                tokens(u.outputTokens, estimated),
                usd(call.cost.total),
                *timing,
            ],
            f"{outcome(str(call.outcome), u)}: {call.reason}" if call.reason else outcome(str(call.outcome), u),
        )
    return out


def turn_line(turn: Turn) -> Text:
    """The turn's totals in one line: tokens, cost, and savings against no caching."""
    u, c, e = turn.usage, turn.cost, any(call.estimated for call in turn.calls)
    return Text(
        f"Turn {turn.number}: read {tokens(u.cacheReadInputTokens, e)} | write {tokens(u.cacheWriteInputTokens, e)} | "
        f"regular {tokens(u.inputTokens, e)} | output {tokens(u.outputTokens, e)} | cost {usd(c.total)} "
        f"(uncached {usd(c.uncached_input + c.output)}) | input {saving(c.input_savings)}, in all "
        f"{saving(c.total_savings)}, against no caching"
    )


def session_line(turns: Sequence[Turn]) -> Text:
    """The running session total in one line."""
    if not turns:
        return Text("Session: no model calls yet.")
    cost = sum((t.cost for t in turns), Cost())
    calls = sum(len(t.calls) for t in turns)
    saved = cost.uncached_input - cost.input
    return Text(
        f"Session: {plural(len(turns), 'turn')}, {plural(calls, 'call')}, cost {usd(cost.total)}; input "
        f"{saving(cost.input_savings, 'no caching', usd(abs(saved)))}"
    )


def turns_table(turns: Sequence[Turn], title: str = "Turns") -> Table:
    """One row per turn: calls, tokens of each kind, cost, and what caching did to the input cost."""
    caption = "input: the input cost against no caching (a write costs more until later reads repay it)"
    estimated = any(call.estimated for turn in turns for call in turn.calls)
    out = table(title, caption + ("\n" + ESTIMATE_LEGEND if estimated else ""))
    for column in ("turn", "calls", "read", "write", "regular", "output", "cost", "input"):
        out.add_column(column, justify="right", no_wrap=True)
    for turn in turns:
        u, c = turn.usage, turn.cost
        out.add_row(
            str(turn.number),
            str(len(turn.calls)),
            tokens(u.cacheReadInputTokens, estimated),
            tokens(u.cacheWriteInputTokens, estimated),
            tokens(u.inputTokens, estimated),
            tokens(u.outputTokens, estimated),
            usd(c.total),
            saving(c.input_savings),
        )
    return out


def session_summary(turns: Sequence[Turn], totals: bool = True) -> Group:
    """The per-turn table followed by the session's totals (`totals=False`: the table alone, for a chat that has just
    printed that very line after its last turn)."""
    table = turns_table(turns, "Session summary")
    return Group(table, session_line(turns)) if totals else Group(table)


def comparison_chart(results: dict[str, Sequence[Turn]], width: int = 40) -> Group:
    """Cost per approach as horizontal bars, each with what it saves against no caching."""
    totals = {name: sum((t.cost for t in turns), Cost()) for name, turns in results.items() if turns}
    notes = {name: saving(cost.total_savings) for name, cost in totals.items()}
    return bar_chart(
        {name: c.total for name, c in totals.items()},
        "Total cost by approach (input + output), against no caching",
        notes,
        width,
    )


def doctor_table(diagnosed: Sequence[tuple[Call, Diagnosis]], title: str = "Cache doctor") -> NotedTable:
    """One row per recorded call: its agent, tokens read and written, and the doctor's diagnosis."""
    out = NotedTable(title, [("call", "right"), ("agent", "left"), ("read", "right"), ("write", "right")], "diagnosis")
    for number, (call, diagnosis) in enumerate(diagnosed, start=1):
        failed = call.error is not None
        out.add_row(
            [
                str(number),
                call.agent,
                "-" if failed else f"{call.usage.cacheReadInputTokens:,}",
                "-" if failed else f"{call.usage.cacheWriteInputTokens:,}",
            ],
            f"{outcome(diagnosis.kind.upper(), call.usage)}: {diagnosis.message}",
        )
    return out
