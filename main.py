"""Offline write-then-read demonstration on the emulator (the interactive orchestrator replaces this later).

Run: make run   (or: .venv/bin/python main.py)
Look for: the first call WRITES the system prompt to the cache, the second identical call READS it back.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table
from strands import Agent
from strands.models import BedrockModel

from caching.emulator import DEFAULT_MODEL_ID, Emulator

# A system prompt long enough to pass Sonnet 4.6's 2,048-token minimum, with a cachePoint after it.
GUIDE = " ".join(
    f"Rule {n}: answer questions about prompt caching precisely, name the usage field you rely on, and say when a "
    "number is an estimate rather than a measurement."
    for n in range(1, 61)
)


def main(console: Console) -> int:
    emulator = Emulator()
    model = BedrockModel(boto_session=emulator.session(), model_id=DEFAULT_MODEL_ID)
    system = [{"text": GUIDE}, {"cachePoint": {"type": "default"}}]
    console.print(f"Offline: every call below is answered by the local Bedrock emulator ({DEFAULT_MODEL_ID}).")
    table = Table("call", "outcome", "read", "write", "regular input", "output")
    for call in (1, 2):
        agent = Agent(model=model, system_prompt=system, callback_handler=None)  # a fresh conversation each time
        agent("What does a cache read cost?")
        record = emulator.records[-1]
        usage = record.usage
        table.add_row(
            str(call),
            record.outcome,
            f"{usage['cacheReadInputTokens']:,}",
            f"{usage['cacheWriteInputTokens']:,}",
            f"{usage['inputTokens']:,}",
            f"{usage['outputTokens']:,}",
        )
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(Console()))
