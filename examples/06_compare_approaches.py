"""06 · none vs explicit vs automatic vs combined on the same four-turn, tool-using conversation.

Run:  .venv/bin/python examples/06_compare_approaches.py      (offline; add --live for real Bedrock)
Look for: the cost of each turn and in all, the savings against no caching (already on turn 1: its later model
calls read what its first one wrote, which outweighs the write premium), and the cache points Strands 1.62 sends.
Automatic and combined now send nearly the same request: 1.62's automatic strategy already caches the system
prompt and the last user message.
"""

from __future__ import annotations

import sys

from rich.console import Console

from caching import APPROACHES, Backend, build_team, connect, request_layout
from caching.lab import comparison_chart, lesson, saving, table, usd

SCRIPT = ["What is Python?", "Write hello world in Python", "Explain recursion", "Write a factorial function"]


def show(backend: Backend, out: Console) -> None:
    results, layouts = {}, {}
    costs = table("Cost per turn")
    for name in ("approach", *(f"turn {n}" for n in range(1, 5)), "total", "input"):
        costs.add_column(name, justify="left" if name == "approach" else "right", no_wrap=True)
    for approach in APPROACHES:
        fresh = connect(backend.settings)  # offline: a new emulator, so no approach reads another's entries
        tracker = fresh.tracker()
        build_team(fresh.model, tracker, approach, tag=approach).ask_all(SCRIPT)
        results[approach] = tracker.turns
        second = fresh.recorder.calls[len(tracker.turns[0].calls)]  # turn 2's first request
        layouts[approach] = request_layout({**second.request, "modelId": second.model_id})
        cost = tracker.lifetime_cost
        costs.add_row(
            approach, *(usd(t.cost.total) for t in tracker.turns), usd(cost.total), saving(cost.input_savings)
        )
    out.print(costs)
    out.print(comparison_chart(results))

    sent = table("What Strands 1.62 sends: cache points in turn 2's first orchestrator request")
    sent.add_column("approach", no_wrap=True)
    sent.add_column("where (tokens before each, estimated offline)")
    for approach, points in layouts.items():
        sent.add_row(approach, ", ".join(f"{p.where} ({p.tokens_before:,})" for p in points) or "none")
    out.print(sent)
    auto = {p.place for p in layouts["automatic"]}
    extra = [p for p in layouts["combined"] if p.place not in auto]
    out.print(
        "Combined differs from automatic only by "
        + ", ".join(f"{p.where} with {p.tokens_before:,} tokens before it" for p in extra)
        + ": a tools point sits before the system prompt and alone is below the minimum, so it rarely adds a read."
    )


def main(argv: list[str] | None = None, console: Console | None = None) -> int:
    return lesson(__doc__, show, argv, console)


if __name__ == "__main__":
    sys.exit(main())
