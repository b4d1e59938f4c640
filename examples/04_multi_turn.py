"""04 · Multi-turn: explicit caching vs combined over four turns, per turn (never running totals).

Run:  .venv/bin/python examples/04_multi_turn.py      (offline; add --live for real Bedrock)
Look for: with explicit caching every turn reads the same system prompt and pays full price for the growing
history (regular climbs); combined also caches the history, so each turn reads the last turn's prefix and writes
only the new exchange.
"""

from __future__ import annotations

import sys

from rich.console import Console
from strands import Agent

from caching import Backend, prompt, setup
from caching.lab import lesson, saving, turns_table, usd

QUESTIONS = [
    "What is prompt caching?",
    "Explain why the system prompt should not contain a timestamp",
    "How does the TTL work?",
    "Compare the 5m and 1h TTL",
]


def show(backend: Backend, out: Console) -> None:
    for approach in ("explicit", "combined"):
        tracker = backend.tracker()
        # A tag per run keeps the two runs' cache entries apart (on live Bedrock they share your account's cache).
        chosen = setup(approach, f"[{approach} run]\n" + prompt("research_assistant"))
        agent = Agent(
            name="assistant",
            model=backend.model(chosen),
            system_prompt=chosen.system_prompt,
            hooks=[tracker],
            callback_handler=None,
        )
        for question in QUESTIONS:
            agent(question)
        out.print(turns_table(tracker.turns, f"{approach}: four turns"))
        cost = tracker.lifetime_cost
        out.print(f"{approach}: {usd(cost.total)} in all; input {saving(cost.input_savings, 'no caching')}.\n")


def main(argv: list[str] | None = None, console: Console | None = None) -> int:
    return lesson(__doc__, show, argv, console)


if __name__ == "__main__":
    sys.exit(main())
