"""08 · The cache doctor: three reasons caching silently does nothing, each beside its fix.

Run:  .venv/bin/python examples/08_cache_doctor.py      (offline; add --live for real Bedrock)
Look for: each case makes two calls, and the doctor reads each case's calls on their own. A timestamp before the
cachePoint: call 2 misses, the doctor names the timestamp; moved after the last cachePoint, call 2 READS. A prompt
under the minimum caches nothing; the whole prompt is written, then READ. Twelve tool calls after a long
conversation: 24 blocks are beyond the 21-block lookback, so call 2 reads only the system prompt; a second
checkpoint halfway through the results reads the whole conversation too, thousands of tokens more.
Your app: --record calls.jsonl, then .venv/bin/caching doctor calls.jsonl.
"""

from __future__ import annotations

import sys

from rich.console import Console

from caching import Backend, Call, Diagnosis, Doctor, prompt
from caching.lab import doctor_table, lesson

CP = {"cachePoint": {"type": "default"}}
NOW = "Current time: 2026-11-29 {}."
TOOLS = {"tools": [{"toolSpec": {"name": "lookup", "description": "Find orders.", "inputSchema": {"json": {}}}}]}


def user(*texts: str, point: bool = True) -> dict:
    return {"role": "user", "content": [*({"text": t} for t in texts), *([CP] if point else [])]}


def fan_out(history: list[dict], width: int, halfway: bool) -> list[dict]:
    """The history, one reply calling `width` tools, and their results (with a checkpoint halfway if asked)."""
    uses = [{"toolUse": {"toolUseId": f"t{i}", "name": "lookup", "input": {"id": i}}} for i in range(width)]
    results = [
        {"toolResult": {"toolUseId": f"t{i}", "content": [{"text": f"order {i}: shipped"}]}} for i in range(width)
    ]
    if halfway:  # a second checkpoint keeps each one within 21 blocks of the one before it
        results = [*results[: width // 2], CP, *results[width // 2 :]]
    return [*history, {"role": "assistant", "content": uses}, {"role": "user", "content": [*results, CP]}]


def diagnose(backend: Backend) -> list[tuple[Call, Diagnosis]]:
    """Two calls per case, each case on its own client (the recording names it), then one doctor per case."""
    clients = {}

    def ask(case: str, system: str, messages: list[dict]) -> None:
        clients[case] = clients.get(case) or backend.client(case)
        clients[case].converse(
            modelId=backend.settings.model_id, system=[{"text": system}, CP], messages=messages, toolConfig=TOOLS
        )

    research, code, orchestrator = map(prompt, ("research_assistant", "code_assistant", "orchestrator"))
    for minute in ("10:41", "10:42"):
        ask("timestamp", f"{NOW.format(minute)}\n{research}", [user("Where is my order?")])
    for minute in ("10:41", "10:42"):  # the time moves to the last message, after the last cachePoint
        ask("timestamp fixed", research, [user(NOW.format(minute), "Where is my order?", point=False)])
    for case, system in (("too short", code[:4000]), ("too short fixed", code)):
        for _ in range(2):
            ask(case, system, [user("Is my refund done?")])
    history = [user("My order history:", research, point=False), {"role": "assistant", "content": [{"text": "Read."}]}]
    for case in ("fan-out", "fan-out fixed"):
        system, question = f"[{case}]\n{orchestrator}", "Where are orders 0 to 11?"
        ask(case, system, [*history, user(question)])
        ask(case, system, fan_out([*history, user(question, point=False)], 12, halfway=case.endswith("fixed")))
    doctors: dict[str, Doctor] = {}
    return [(call, doctors.setdefault(call.agent, Doctor()).observe(call)) for call in backend.recorder.calls]


def show(backend: Backend, out: Console) -> None:
    out.print(doctor_table(diagnose(backend), "What the doctor says, case by case"))


def main(argv: list[str] | None = None, console: Console | None = None) -> int:
    return lesson(__doc__, show, argv, console)


if __name__ == "__main__":
    sys.exit(main())
