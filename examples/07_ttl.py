"""07 · TTL: a six-minute pause expires a 5m entry, while a 1h entry still hits.

Run:  .venv/bin/python examples/07_ttl.py      (offline: the emulator's clock jumps; --live really waits 6 minutes)
Look for: both prompts WRITE first (the 1h write costs 2x input, the 5m one 1.25x); after the pause the 5m prompt
must WRITE again (expired) while the 1h prompt READS. Whether 1h pays off depends on how long your pauses are.
"""

from __future__ import annotations

import sys
import time

from rich.console import Console
from rich.progress import track
from strands import Agent

from caching import Backend, ManualClock, prompt, setup
from caching.lab import calls_table, lesson, usd

PAUSE_SECONDS = 6 * 60


def show(backend: Backend, out: Console) -> None:
    tracker = backend.tracker()
    prompts = {
        "5m": setup("explicit", prompt("research_assistant"), "5m"),
        "1h": setup("explicit", prompt("code_assistant"), "1h"),
    }

    def ask_both() -> None:
        for ttl, chosen in prompts.items():
            agent = Agent(
                name=f"ttl {ttl}",
                model=backend.model(chosen),
                system_prompt=chosen.system_prompt,
                hooks=[tracker],
                callback_handler=None,
            )
            agent("Hi")

    ask_both()
    if backend.emulator is not None and isinstance(backend.emulator.clock, ManualClock):
        backend.emulator.clock.advance(PAUSE_SECONDS)
        out.print(f"(The emulator's clock jumped {PAUSE_SECONDS // 60} minutes.)")
    else:
        for _ in track(range(PAUSE_SECONDS), description="Waiting 6 minutes on the real clock...", console=out):
            time.sleep(1)
    ask_both()
    out.print(calls_table(tracker.calls, "Before and after a six-minute pause"))
    five = sum(c.cost.input for c in tracker.calls if c.agent == "ttl 5m")
    hour = sum(c.cost.input for c in tracker.calls if c.agent == "ttl 1h")
    out.print(f"Input cost over both calls: 5m entry {usd(five)}, 1h entry {usd(hour)}.")


def main(argv: list[str] | None = None, console: Console | None = None) -> int:
    return lesson(__doc__, show, argv, console, clock=ManualClock(), needs_1h=True)


if __name__ == "__main__":
    sys.exit(main())
