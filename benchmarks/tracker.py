"""What the usage tracker's OpenTelemetry figures cost: Strands agent calls a second on the emulator, in process.

Run:  .venv/bin/python benchmarks/tracker.py               (600 calls a setting, best of 3 rounds; a few minutes)
      .venv/bin/python benchmarks/tracker.py --calls 100

Four settings, each an agent (explicit approach, a 2,100-token system prompt) asked 8 questions, then a new one:
  as before       the tracker added after the agent is built (agent.hooks.add_hook), so AgentInitializedEvent has
                  passed and it installs no middleware: the tracker as it was before the span figures
  tracker         the tracker given to Agent(hooks=[...]): its middleware runs, OpenTelemetry is not configured
Then a tracer provider is set (every span recorded, handed to an exporter that drops it), and both again: "as
before" now pays for Strands' own spans only, "tracker" for the figures on top.
The rounds alternate the settings, and each setting's best round is kept: other work on a shared machine only slows.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from strands import Agent

from caching import Emulator, ManualClock, Settings, connect, setup
from caching.commands.flags import between
from caching.lab.terminal import HelpFormatter

SYSTEM = "Answer from the policy below. " * 280  # about 2,100 tokens
TURNS = 8  # questions to one agent before the next
ROUNDS = 3


class Drop(SpanExporter):
    """An exporter that keeps nothing: the spans are recorded and exported, so only the export's I/O is left out."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def calls_per_second(calls: int, figures: bool) -> float:
    """Time `calls` model calls, the tracker installed as a user would (`figures`) or as it was before."""
    emulator = Emulator(clock=ManualClock())
    backend = connect(Settings(), emulator=emulator)
    tracker, approach = backend.tracker(), setup("explicit", SYSTEM)
    started = time.perf_counter()
    agent = None
    for number in range(calls):
        if number % TURNS == 0:
            hooks = [tracker] if figures else []
            model = backend.model(approach)
            agent = Agent(model=model, system_prompt=approach.system_prompt, hooks=hooks, callback_handler=None)
            if not figures:
                agent.hooks.add_hook(tracker)
        assert agent is not None
        agent(f"Question {number}: what does the policy say?")
    elapsed = time.perf_counter() - started
    assert len(tracker.calls) == calls, (len(tracker.calls), calls)
    return calls / elapsed


def best(calls: int) -> dict[bool, float]:
    found = {False: 0.0, True: 0.0}
    for _ in range(ROUNDS):
        for figures in (False, True):
            found[figures] = max(found[figures], calls_per_second(calls, figures))
    return found


def main(argv: list[str]) -> int:
    flags = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    flags.add_argument(
        "--calls", type=between(1, 1_000_000), default=600, help="model calls per setting and round (default 600)"
    )
    args = flags.parse_args(argv)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; {args.calls:,} calls a setting, best of {ROUNDS}")
    for configured in (False, True):
        if configured:
            provider = TracerProvider()
            provider.add_span_processor(SimpleSpanProcessor(Drop()))
            trace.set_tracer_provider(provider)
        rates = best(args.calls)
        where = "every span recorded" if configured else "no OpenTelemetry"
        share = rates[True] / rates[False]
        print(f"{where}: as before {rates[False]:,.0f} calls/s, tracker {rates[True]:,.0f} calls/s ({share:.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
