"""Regenerate examples/logs: a day of a support agent's traffic, as Bedrock's model invocation logging writes it.

Run:  .venv/bin/python scripts/sample_logs.py       (offline; rewrites examples/logs)

The docs' loop (docs/loop.md) audits these logs, plans from them and compares setups, so every number it shows comes
from running the code. The traffic: 40 customers of one application (one account) over six hours, each a
conversation of 3 to 8 turns with pauses of 10 s to 9 minutes, on the emulator with the cache points Strands'
combined setup places (after the system prompt and the last user message). The emulator runs under a measured uncertainty (entries live up to 120 s past their TTL; 4%
of the calls that could read are sent where the entry is not), so the logs hold misses no request explains, as real
ones do. The same run every time (seeded).
"""

from __future__ import annotations

import argparse
import gzip
import random
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT / "examples" / "logs"
CP = {"cachePoint": {"type": "default"}}
TOOLS = [
    {
        "toolSpec": {
            "name": "order_status",
            "description": "The status of a customer's order, by order number.",
            "inputSchema": {"json": {"type": "object", "properties": {"order": {"type": "string"}}}},
        }
    }
]


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    from caching import prompt
    from caching.emulator import Emulator, ManualClock
    from caching.lab.terminal import HelpFormatter
    from caching.rules.uncertainty import Uncertainty

    argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter).parse_args(argv)
    shutil.rmtree(LOGS, ignore_errors=True)
    clock, draw = ManualClock(), random.Random(11)
    less_tidy = Uncertainty(expiry_window=120.0, miss_rate=0.04, seed=11)
    emulator = Emulator(clock=clock, invocation_log=str(LOGS), uncertainty=less_tidy)
    system = [{"text": prompt("research_assistant")}, CP]
    customers = 40
    queue = [(draw.uniform(0, 6 * 3600), c, draw.randint(3, 8)) for c in range(customers)]
    histories: dict[int, list[dict[str, Any]]] = {c: [] for c in range(customers)}
    while queue:
        queue.sort()
        at, customer, turns_left = queue.pop(0)
        clock.advance(at - clock())
        history = histories[customer]
        history.append(
            {
                "role": "user",
                "content": [
                    {"text": f"Customer {customer}, question {len(history)}: where is order {customer * 97 % 1000}?"}
                ],
            }
        )
        while True:
            last = history[-1]
            sent = [*history[:-1], {**last, "content": [*last["content"], CP]}]
            reply = emulator.converse(
                "global.anthropic.claude-sonnet-4-6",
                {"system": system, "toolConfig": {"tools": TOOLS}, "messages": sent},
                "AKIASUPPORTAPP0001",
            )
            message = reply["output"]["message"]
            history.append(message)
            uses = [block["toolUse"] for block in message["content"] if "toolUse" in block]
            if not uses:
                break
            clock.advance(draw.uniform(1, 4))  # the tool runs
            results = [
                {"toolResult": {"toolUseId": u["toolUseId"], "content": [{"text": "Shipped yesterday."}]}} for u in uses
            ]
            history.append({"role": "user", "content": results})
        if turns_left > 1:
            queue.append((clock() + draw.choice((10, 30, 60, 120, 200, 280, 400, 540)), customer, turns_left - 1))
    for path in sorted(LOGS.rglob("*.json")):  # S3 delivery gzips each object
        path.with_suffix(".json.gz").write_bytes(gzip.compress(path.read_bytes(), mtime=0))
        path.unlink()
    files = list(LOGS.rglob("*.gz"))
    print(
        f"Wrote {len(files)} log objects ({sum(f.stat().st_size for f in files):,} bytes) to {LOGS.relative_to(ROOT)}."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
