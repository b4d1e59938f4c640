"""The rich reports render exact numbers into any Console."""

from __future__ import annotations

import io
import re

from rich.console import Console

from caching import CallUsage, Turn, Usage
from caching.lab.reports import calls_table, comparison_chart, session_line, session_summary, turn_line

from .helpers import SONNET


def render(renderable: object) -> str:
    console = Console(file=io.StringIO(), width=100, color_system=None)
    console.print(renderable)
    output = console.file.getvalue()  # type: ignore[attr-defined]
    return str(output)


def rows(text: str) -> list[list[str]]:
    """The body rows of a rendered table (cells are 2+ spaces apart): lines that start with a number."""
    cells = [re.split(r"\s{2,}", line.strip()) for line in text.splitlines()]
    return [row for row in cells if re.fullmatch(r"\d+(\.\d+)?", row[0])]


def tracked(agent: str, number: int, usage: Usage, reason: str = "") -> CallUsage:
    """A call as the tracker records it (it sees the usage, not the request)."""
    return CallUsage(agent=agent, at=0.0, model_id=SONNET, request=None, usage=usage, number=number, reason=reason)


def sample_turn() -> Turn:
    write = tracked("orchestrator", 1, Usage(100, 50, 0, 2_000), reason="new prefix")
    read = tracked("research_assistant", 2, Usage(100, 50, 2_000, 0), reason="read 2,000")
    return Turn(1, "What is Python?", [write, read])


def test_calls_table_rows() -> None:
    assert rows(render(calls_table(sample_turn().calls))) == [
        ["1.1", "orchestrator", "0", "2,000", "100", "50", "$0.008550", "WRITE: new prefix"],
        ["1.2", "research_assistant", "2,000", "0", "100", "50", "$0.001650", "READ: read 2,000"],
    ]


def test_turn_and_session_lines() -> None:
    turn = sample_turn()
    assert render(turn_line(turn)) == (
        "Turn 1: read 2,000 | write 2,000 | regular 200 | output 100 | cost $0.010200 (uncached $0.014100) | \n"
        "input savings +31.0%, total +27.7%\n"
    )
    assert render(session_line([turn, turn])) == (
        "Session: 2 turns, 4 calls, cost $0.020400, saved $0.007800 on input (+31.0%)\n"
    )
    assert render(session_line([])) == "Session: no model calls yet.\n"


def test_session_summary_lists_each_turn() -> None:
    turn = sample_turn()
    second = Turn(2, "again", [tracked("orchestrator", 1, Usage(10, 5, 2_100, 0))])
    text = render(session_summary([turn, second]))
    assert rows(text) == [
        ["1", "2", "2,000", "2,000", "200", "100", "$0.010200", "+31.0%", "+27.7%"],
        ["2", "1", "2,100", "0", "10", "5", "$0.000735", "+89.6%", "+88.5%"],
    ]
    assert text.splitlines()[-1] == "Session: 2 turns, 3 calls, cost $0.010935, saved $0.009570 on input (+50.6%)"


def test_comparison_chart_scales_bars_to_the_costliest() -> None:
    cached = sample_turn()
    uncached = Turn(1, "q", [tracked("orchestrator", 1, Usage(2_100, 50)), tracked("r", 2, Usage(2_100, 50))])
    lines = render(comparison_chart({"none": [uncached], "combined": [cached]}, width=20)).splitlines()
    assert lines == [
        "Total cost by approach (input + output)",
        f"none     {'█' * 20} $0.014100  +0.0%",
        f"combined {'█' * 14}{' ' * 6} $0.010200  +27.7%",
    ]
