"""06 · none vs explicit vs automatic vs combined on the same four-turn, tool-using conversation.

Run:  .venv/bin/python examples/06_compare_approaches.py      (offline; add --live for real Bedrock)
Look for: the cost of each turn and in all, the savings against no caching (negative on turn 1: the write premium),
and the cache points Strands 1.62 really sends. Automatic and combined now send nearly the same request: 1.62's
automatic strategy already caches the system prompt and the last user message.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table

from caching import (
    APPROACHES,
    CallRecorder,
    Settings,
    build_team,
    comparison_chart,
    connect,
    console_for,
    load,
    pct,
    request_layout,
    run,
    usd,
)

SCRIPT = ["What is Python?", "Write hello world in Python", "Explain recursion", "Write a factorial function"]


def main(argv: list[str] | None = None, console: Console | None = None) -> int:
    out = console_for(console)

    def body(settings: Settings) -> int:
        results, layouts = {}, {}
        costs = Table("approach", *(f"turn {n}" for n in range(1, 5)), "total", "input saved", title="Cost per turn")
        for approach in APPROACHES:
            backend = connect(settings)  # offline: a fresh emulator, so no approach reads another's entries
            log = CallRecorder().attach(backend.client["boto_session"])
            tracker = backend.tracker()
            build_team(settings.model_id, tracker, approach, tag=approach, **backend.client).ask_all(SCRIPT)
            results[approach] = tracker.turns
            second = log.calls[len(tracker.turns[0].calls)]  # turn 2's first request
            layouts[approach] = request_layout({**second.request, "modelId": second.model_id})
            cost = tracker.lifetime_cost
            costs.add_row(
                approach, *(usd(t.cost.total) for t in tracker.turns), usd(cost.total), pct(cost.input_savings)
            )
        out.print(backend.banner)
        out.print(costs)
        out.print(comparison_chart(results))

        sent = Table(
            "approach",
            "cache points in turn 2's first orchestrator request (tokens before each)",
            title="What Strands 1.62 sends",
        )
        for approach, points in layouts.items():
            sent.add_row(approach, ", ".join(f"{p.where} ({p.tokens_before:,})" for p in points) or "none")
        out.print(sent)
        auto = {p.where for p in layouts["automatic"]}
        extra = [p for p in layouts["combined"] if p.where not in auto]
        out.print(
            "Combined differs from automatic only by "
            + ", ".join(f"{p.where} with {p.tokens_before:,} tokens before it" for p in extra)
            + ": a tools point sits before the system prompt and alone is below the minimum, so it rarely adds a read."
        )
        return 0

    return run(body, out, lambda: load(__doc__ or "", argv)[0])


if __name__ == "__main__":
    sys.exit(main())
