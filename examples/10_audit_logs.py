"""10 · Audit real traffic: Bedrock's model invocation logs say how well caching works, why calls missed, and
what another setup would have cost.

Run:  .venv/bin/python examples/10_audit_logs.py      (offline: the emulator writes the logs Bedrock would)
Look for: a timestamp in the system prompt makes every call write (waste: writes never read), a long pause lets an
entry expire; the audit names both causes, and its what-if shows what the same traffic costs sent another way.
Your traffic: .venv/bin/caching audit s3://your-log-bucket/prefix (or downloaded log files).
"""

from __future__ import annotations

import sys
import tempfile

from rich.console import Console

from caching import Backend, Emulator, ManualClock, audit_logs, prompt
from caching.lab import audit_report, lesson

CP = {"cachePoint": {"type": "default"}}


def show(backend: Backend, out: Console) -> None:
    with tempfile.TemporaryDirectory() as logs:
        # The traffic: an emulator that writes invocation logs, as Bedrock writes them to S3.
        clock = ManualClock()
        client = Emulator(clock=clock, invocation_log=logs).session().client("bedrock-runtime")
        guide = prompt("research_assistant")
        model = backend.settings.model_id

        def ask(system: str, question: str, pause: float) -> None:
            client.converse(
                modelId=model,
                system=[{"text": system}, CP],
                messages=[{"role": "user", "content": [{"text": question}, CP]}],
            )
            clock.advance(pause)

        for minute in range(4):  # the mistake: the time of day at the top of the system prompt
            ask(f"Current time: 2026-11-30 09:{minute:02d}.\n{guide}", "Where is my order?", 60)
        for pause in (30, 30, 420, 30):  # the fix, then a pause longer than the 5m TTL
            ask(guide, "Where is my order?", pause)
        out.print(audit_report(audit_logs([logs])), crop=False)  # a long path stays whole, to copy


def main(argv: list[str] | None = None, console: Console | None = None) -> int:
    own = "No calls to Bedrock here, offline or live: this lesson's own emulator writes the logs it audits."
    return lesson(__doc__, show, argv, console, own_emulator=own)


if __name__ == "__main__":
    sys.exit(main())
