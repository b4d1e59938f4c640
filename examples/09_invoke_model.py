"""09 · Caching through InvokeModel: an Anthropic Messages body with cache_control, as the Anthropic SDK sends it.

Run:  .venv/bin/python examples/09_invoke_model.py      (offline; add --live for real Bedrock)
Look for: the same body twice WRITES, then READS (cache_creation_input_tokens, then cache_read_input_tokens);
a system prompt sent as a plain string cannot carry cache_control, so nothing is cached; and the same content
through Converse shares no entry with InvokeModel (the two APIs build different prompts).
"""

from __future__ import annotations

import json
import sys

from rich.console import Console

from caching import Backend, Doctor, prompt
from caching.lab import doctor_table, lesson, table

QUESTION = "How long does a cache entry live?"


def messages_body(system: object) -> str:
    return json.dumps(
        {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 400,
            "system": system,
            "messages": [{"role": "user", "content": QUESTION}],
        }
    )


def show(backend: Backend, out: Console) -> None:
    client, model = backend.client("invoke"), backend.settings.model_id
    guide = prompt("research_assistant")
    blocks = [{"type": "text", "text": guide, "cache_control": {"type": "ephemeral"}}]
    usages = table("InvokeModel usage, as Bedrock returns it")
    for name in ("request", "input", "cache write", "cache read"):
        usages.add_column(name, justify="left" if name == "request" else "right")
    for label, system in (("blocks, 1st", blocks), ("blocks, 2nd", blocks), ("plain string", guide)):
        usage = json.loads(client.invoke_model(modelId=model, body=messages_body(system))["body"].read())["usage"]
        cached = (usage["cache_creation_input_tokens"], usage["cache_read_input_tokens"])
        usages.add_row(label, f"{usage['input_tokens']:,}", *(f"{n:,}" for n in cached))
    out.print(usages)

    # The same system text and question through Converse: another API, another prompt, another entry.
    converse = backend.client("converse")
    converse.converse(
        modelId=model,
        system=[{"text": guide}, {"cachePoint": {"type": "default"}}],
        messages=[{"role": "user", "content": [{"text": QUESTION}]}],
    )
    doctor = Doctor()
    out.print(doctor_table([(call, doctor.observe(call)) for call in backend.recorder.calls], "What the doctor says"))


def main(argv: list[str] | None = None, console: Console | None = None) -> int:
    return lesson(__doc__, show, argv, console)


if __name__ == "__main__":
    sys.exit(main())
