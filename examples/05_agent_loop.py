"""05 · The agent loop: one user turn, several model calls, a sub-agent with its own cache.

Run:  .venv/bin/python examples/05_agent_loop.py      (offline; add --live for real Bedrock)
Look for: call 1.1 (orchestrator) writes its prefix and asks a specialist; 1.2 is the specialist's own call, with its
own system prompt and so its own cache entry; 1.3 (orchestrator again) reads the prefix 1.1 wrote. The turn's cost
includes the specialist; the orchestrator's own Strands metrics do not.
"""

from __future__ import annotations

import sys

from rich.console import Console

from caching import Backend, Usage, build_team, cost_of
from caching.lab import calls_table, lesson, turn_line, usd


def show(backend: Backend, out: Console) -> None:
    tracker = backend.tracker()
    team = build_team(backend.model, tracker)
    team.ask("Explain what prompt caching is")
    turn = tracker.turns[0]
    out.print(calls_table(turn.calls, "One user turn"))
    out.print(turn_line(turn))

    # What the blog measured: only the orchestrator's own lifetime totals, so the specialist's call is missing.
    own = Usage.from_bedrock(dict(team.orchestrator.event_loop_metrics.accumulated_usage))
    missed = turn.cost.total - cost_of(own, backend.settings.model_id).total
    out.print(
        f"The orchestrator's own metrics cover {len([c for c in turn.calls if c.agent == 'orchestrator'])} of "
        f"{len(turn.calls)} calls; counting only them would miss {usd(missed)} of this turn's {usd(turn.cost.total)}."
    )


def main(argv: list[str] | None = None, console: Console | None = None) -> int:
    return lesson(__doc__, show, argv, console)


if __name__ == "__main__":
    sys.exit(main())
