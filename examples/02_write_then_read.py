"""02 · Write, then read: the same request twice.

Run:  .venv/bin/python examples/02_write_then_read.py      (offline; add --live for real Bedrock)
Look for: call 1 WRITES the system prompt to the cache at 1.25x the input price; call 2 sends the same bytes and
READS them at 0.1x. Only the short question is regular input both times.
"""

from __future__ import annotations

import sys

from rich.console import Console
from strands import Agent

from caching import Backend, prompt, setup
from caching.lab import calls_table, lesson, saving, usd


def show(backend: Backend, out: Console) -> None:
    tracker = backend.tracker()
    explicit = setup("explicit", prompt("research_assistant"))  # a cachePoint right after the system prompt
    for _ in range(2):
        # A new Agent each time: no history, so both requests are byte-for-byte the same.
        agent = Agent(
            name="agent",
            model=backend.model(explicit),
            system_prompt=explicit.system_prompt,
            hooks=[tracker],
            callback_handler=None,
        )
        agent("What does a cache read cost compared to normal input?")
    out.print(calls_table(tracker.calls, "Two identical requests"))
    first, second = tracker.calls
    out.print(
        f"Input cost: call 1 {usd(first.cost.input)} ({saving(first.cost.input_savings, 'no caching')}: the "
        f"write premium), call 2 {usd(second.cost.input)} ({saving(second.cost.input_savings)})."
    )


def main(argv: list[str] | None = None, console: Console | None = None) -> int:
    return lesson(__doc__, show, argv, console)


if __name__ == "__main__":
    sys.exit(main())
