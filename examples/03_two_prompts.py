"""03 · Different prompts are different entries; the same prompt from another AWS account is too.

Run:  .venv/bin/python examples/03_two_prompts.py      (offline; --live needs --second-profile for part 2)
Look for: prompts A, B, A, B, A give WRITE, WRITE, READ, READ, READ: two independent entries. Then prompt A sent
from a second account WRITES again: caches are isolated per account, even for identical bytes.
"""

from __future__ import annotations

import sys

from rich.console import Console
from strands import Agent

from caching import Backend, UsageTracker, prompt, setup
from caching.lab import calls_table, lesson

PROMPTS = {"A": "research_assistant", "B": "code_assistant"}


def ask(backend: Backend, tracker: UsageTracker, name: str, label: str) -> None:
    chosen = setup("explicit", prompt(PROMPTS[name]))
    agent = Agent(
        name=label,
        model=backend.model(chosen),
        system_prompt=chosen.system_prompt,
        hooks=[tracker],
        callback_handler=None,
    )
    agent("Where to start?")


def show(backend: Backend, out: Console) -> None:
    tracker = backend.tracker()
    for name in "ABABA":
        ask(backend, tracker, name, f"prompt {name}")
    out.print(calls_table(tracker.calls, "One account: prompts A, B, A, B, A"))

    if backend.live and not backend.settings.second_profile:
        out.print("Skipped part 2: pass --second-profile NAME (a profile of another AWS account) to see isolation.")
        return
    ask(backend.second_account(), tracker, "A", "prompt A, account 2")
    out.print(calls_table(tracker.calls[-1:], "A second account sends prompt A"))
    out.print(
        "Same bytes, different account: a miss. Anyone else's cache never serves you, and yours never serves them."
    )


def main(argv: list[str] | None = None, console: Console | None = None) -> int:
    return lesson(__doc__, show, argv, console, second_account=True)


if __name__ == "__main__":
    sys.exit(main())
