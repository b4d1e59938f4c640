"""The rich reports render exact numbers into any Console."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from rich.console import Console

from caching import CallUsage, Turn, Usage
from caching.audit.report import cheapest, versus
from caching.lab.reports import calls_table, comparison_chart, session_line, session_summary, turn_line
from caching.rules import Diagnosis, Kind
from caching.words import saving

from ..helpers import SONNET


def render(renderable: object) -> str:
    console = Console(file=io.StringIO(), width=100, color_system=None)
    console.print(renderable)
    output = console.file.getvalue()  # type: ignore[attr-defined]
    return str(output)


def rows(text: str) -> list[list[str]]:
    """The body rows of a rendered table (cells are 2+ spaces apart): lines that start with a number."""
    cells = [re.split(r"\s{2,}", line.strip()) for line in text.splitlines()]
    return [row for row in cells if re.fullmatch(r"\d+(\.\d+)?", row[0])]


def tracked(agent: str, number: int, usage: Usage, diagnosis: Diagnosis | None = None) -> CallUsage:
    """A call as the tracker records it (it sees the usage, not the request)."""
    return CallUsage(
        agent=agent, at=0.0, model_id=SONNET, request=None, usage=usage, number=number, diagnosis=diagnosis
    )


def sample_turn() -> Turn:
    write = tracked("orchestrator", 1, Usage(100, 50, 0, 2_000), Diagnosis(Kind.NEW_PREFIX, "new prefix"))
    read = tracked("research_assistant", 2, Usage(100, 50, 2_000, 0), Diagnosis(Kind.HIT, "read 2,000"))
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
        "input saves 31.0%, in all saves 27.7%, against no caching\n"
    )
    assert render(session_line([turn, turn])) == (
        "Session: 2 turns, 4 calls, cost $0.020400; input saves 31.0% ($0.007800) against no caching\n"
    )
    assert render(session_line([])) == "Session: no model calls yet.\n"


def test_a_session_that_costs_more_puts_the_dollars_beside_the_share() -> None:
    """Only a write: 2,000 tokens at $3.75/M and 100 regular at $3/M are $0.0078 of input against $0.0063 uncached,
    $0.0015 (23.8%) more. The amount sits by the share, never after "no caching", where it read as that cost."""
    turn = Turn(1, "hello", [sample_turn().calls[0]])
    assert render(session_line([turn])) == (
        "Session: 1 turn, 1 call, cost $0.008550; input costs 23.8% ($0.001500) more than no caching\n"
    )


def test_session_summary_lists_each_turn() -> None:
    turn = sample_turn()
    second = Turn(2, "again", [tracked("orchestrator", 1, Usage(10, 5, 2_100, 0))])
    text = render(session_summary([turn, second]))
    assert rows(text) == [
        ["1", "2", "2,000", "2,000", "200", "100", "$0.010200", "saves 31.0%"],
        ["2", "1", "2,100", "0", "10", "5", "$0.000735", "saves 89.6%"],
    ]
    assert text.splitlines()[-1] == (
        "Session: 2 turns, 3 calls, cost $0.010935; input saves 50.6% ($0.009570) against no caching"
    )
    alone = render(session_summary([turn, second], totals=False))  # for a chat that has just printed that line
    assert rows(alone) == rows(text) and "Session:" not in alone and text.startswith(alone.rstrip("\n"))


def test_comparison_chart_scales_bars_to_the_costliest() -> None:
    cached = sample_turn()
    uncached = Turn(1, "q", [tracked("orchestrator", 1, Usage(2_100, 50)), tracked("r", 2, Usage(2_100, 50))])
    lines = render(comparison_chart({"none": [uncached], "combined": [cached]}, width=20)).splitlines()
    assert lines == [
        "Total cost by approach (input + output), against no caching",
        f"none     {'█' * 20} $0.014100  same cost",
        f"combined {'█' * 14}{' ' * 6} $0.010200  saves 27.7%",
    ]


@pytest.mark.parametrize(
    ("fraction", "than", "words"),
    [
        (0.357, None, "saves 35.7%"),
        (-0.021, None, "costs 2.1% more"),
        (0.0004, None, "same cost"),  # 0.04% rounds to 0.0%: no saving worth a word
        (-0.0004, None, "same cost"),
        (0.0005, None, "saves 0.1%"),
        (0.357, "no caching", "saves 35.7% against no caching"),
        (-0.021, "what you paid", "costs 2.1% more than what you paid"),
        (0.0, "no caching", "costs the same as no caching"),
    ],
)
def test_money_is_said_in_words_the_same_way_everywhere(fraction: float, than: str | None, words: str) -> None:
    assert saving(fraction, than) == words


def test_the_audit_what_if_names_the_cheapest_setup_never_a_dearer_one() -> None:
    """The issue's case: paid $0.125459, automatic 5m would cost $0.125495 (0.03% more): not a better option."""
    paid = Decimal("0.125459")
    dearer = {"none": Decimal("0.2"), "automatic 5m": Decimal("0.125495")}
    assert cheapest(dearer, paid) == (
        "no setup replayed costs less (the cheapest, automatic 5m, would have cost $0.125495)"
    )
    assert [versus(cost, paid) for cost in dearer.values()] == ["costs 59.4% more", "same cost"]
    cheaper = {**dearer, "combined 5m": Decimal("0.1")}
    assert cheapest(cheaper, paid) == "the cheapest setup, combined 5m, would have cost $0.100000, which saves 20.3%"


def test_a_write_says_its_ttl_when_it_is_not_the_default() -> None:
    """--ttl 1h: the WRITE lines say the entries are 1h (issue 21); 5m, the default, needs no word."""
    from caching.lab.reports import outcome
    from caching.rules.usage import Usage

    assert outcome("WRITE", Usage.of(regular=5, write_5m=2_000)) == "WRITE"
    assert outcome("WRITE", Usage.of(regular=5, write_1h=2_000)) == "WRITE 1h"
    assert outcome("READ+WRITE", Usage.of(read=2_000, write_1h=100, write_5m=200)) == "READ+WRITE 1h+5m"
    assert outcome("READ", Usage.of(read=2_000)) == "READ"
