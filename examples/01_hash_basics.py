"""01 · A cache entry is found by the exact bytes before a cachePoint.

Run:  .venv/bin/python examples/01_hash_basics.py      (no model calls: the same offline and live)
Look for: one added character changes the hash completely; a timestamp in the system prompt gives every request a
new key, while the same timestamp moved after the cachePoint (into the user message) leaves the key unchanged.
"""

from __future__ import annotations

import hashlib
import sys

from rich.console import Console

from caching import DEFAULT_ACCESS_KEY, DEFAULT_MODEL_ID, cache_keys
from caching.lab import console_for, parser, table

SYSTEM = "You are a support agent for ExampleCorp. Answer from the policy below. " * 3


def request(system: str, question: str) -> dict:
    return {
        "system": [{"text": system}, {"cachePoint": {"type": "default"}}],
        "messages": [{"role": "user", "content": [{"text": question}]}],
    }


def main(argv: list[str] | None = None, console: Console | None = None) -> int:
    out = console_for(console)
    args = parser(__doc__ or "").parse_args(argv)  # --help; the usual flags are accepted and change nothing here
    out.print("No model calls here: this example only computes keys, offline and live alike.")
    if args.record:
        out.print(f"(Nothing to record, so {args.record} was not written.)", markup=False)

    hashes = table("Same bytes, same hash; one character more, a new hash")
    hashes.add_column("text")
    hashes.add_column("sha256 (first 16 hex digits)")
    for text in ("You are a great developer", "You are a great developer", "You are a great developer."):
        hashes.add_row(repr(text), hashlib.sha256(text.encode()).hexdigest()[:16])
    out.print(hashes)

    # The emulator keys a whole prefix: tools -> system -> messages up to the checkpoint, plus model and account.
    stamped = table("A timestamp before vs after the cachePoint")
    for column in ("layout", "request", "key at system[1] (first 16)"):
        stamped.add_column(column)
    for minute in ("10:41", "10:42"):
        before = request(f"Current time: 2026-11-29 {minute}. {SYSTEM}", "Where is my order?")
        after = request(SYSTEM, f"Current time: 2026-11-29 {minute}. Where is my order?")
        for layout, body in (("time in system prompt", before), ("time in user message", after)):
            key = cache_keys(body, DEFAULT_MODEL_ID, DEFAULT_ACCESS_KEY)["system[1]"]
            stamped.add_row(layout, f"at {minute}", key[:16])
    out.print(stamped)
    out.print("Keep anything that changes per request after the last cachePoint, or every request writes a new entry.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
