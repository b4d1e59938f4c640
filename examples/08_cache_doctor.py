"""08 · The cache doctor: three reasons caching silently does nothing, and the fix for each.

Run:  .venv/bin/python examples/08_cache_doctor.py      (offline; add --live for real Bedrock)
Look for: a timestamp in the system prompt, a prompt under the minimum, a tool fan-out wider than the 21-block
lookback: the doctor names each cause, place and fix; each fixed version READS. Your app: --record calls.jsonl,
then python -m caching doctor calls.jsonl.
"""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console

from caching import Backend, Doctor, prompt
from caching.lab import doctor_table, lesson

CP = {"cachePoint": {"type": "default"}}
TOOLS = {"tools": [{"toolSpec": {"name": "lookup", "description": "Find orders.", "inputSchema": {"json": {}}}}]}


def user(*texts: str, point: bool = True) -> dict:
    return {"role": "user", "content": [*({"text": t} for t in texts), *([CP] if point else [])]}


def fan_out(question: str, width: int, rolling: bool) -> list[dict]:
    """The question, one reply calling `width` tools, and their results (with a checkpoint halfway if rolling)."""
    uses = [{"toolUse": {"toolUseId": f"t{i}", "name": "lookup", "input": {"id": i}}} for i in range(width)]
    results = [
        {"toolResult": {"toolUseId": f"t{i}", "content": [{"text": f"order {i}: shipped"}]}} for i in range(width)
    ]
    if rolling:  # a second checkpoint halfway keeps each step within the 21-block lookback
        results = [*results[: width // 2], CP, *results[width // 2 :]]
    return [
        user(question, point=False),
        {"role": "assistant", "content": uses},
        {"role": "user", "content": [*results, CP]},
    ]


def show(backend: Backend, out: Console) -> None:
    clients: dict[str, Any] = {}

    def ask(case: str, system: str, messages: list[dict]) -> None:
        if case not in clients:  # one client per case, so the recording is labelled with the case
            clients[case] = backend.client(case)
        clients[case].converse(
            modelId=backend.settings.model_id, system=[{"text": system}, CP], messages=messages, toolConfig=TOOLS
        )

    research, code, orchestrator = map(prompt, ("research_assistant", "code_assistant", "orchestrator"))
    for minute in ("10:41", "10:42"):
        ask("timestamp", f"Current time: 2026-11-29 {minute}.\n{research}", [user("Where is my order?")])
        ask("timestamp moved", research, [user(f"Current time: 2026-11-29 {minute}.", "Where is my order?")])
    ask("too short", code[:4000], [user("Is my refund done?")])
    for _ in range(2):
        ask("whole prompt", code, [user("Is my refund done?")])
    for case in ("fan-out", "fan-out rolling"):
        ask(case, f"[{case}]\n{orchestrator}", [user("Where are orders 0 to 11?")])
        ask(case, f"[{case}]\n{orchestrator}", fan_out("Where are orders 0 to 11?", 12, case.endswith("rolling")))
    doctor = Doctor()
    out.print(doctor_table([(call, doctor.observe(call)) for call in backend.recorder.calls], "What the doctor says"))


def main(argv: list[str] | None = None, console: Console | None = None) -> int:
    return lesson(__doc__, show, argv, console)


if __name__ == "__main__":
    sys.exit(main())
