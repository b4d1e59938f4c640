"""Command line: `python -m caching doctor FILE.jsonl` (and `plan`, the traffic planner)."""

from __future__ import annotations

import argparse
import sys

from rich.console import Console

from .doctor import Doctor
from .recorder import read_recording
from .reports import doctor_table


def doctor(path: str, console: Console) -> int:
    """Explain every call in a recording made with --record or a CallRecorder."""
    try:
        calls, problems = read_recording(path)
    except OSError as exc:
        console.print(
            f"Error: cannot read {path!r} ({exc.strerror}): record one with --record FILE.jsonl.", soft_wrap=True
        )
        return 1
    for problem in problems:
        console.print(f"{path}: {problem}", markup=False, highlight=False, soft_wrap=True)
    doc = Doctor()
    console.print(doctor_table([(call, doc.observe(call)) for call in calls], f"{len(calls)} calls in {path}"))
    return 0


def main(argv: list[str] | None = None, console: Console | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m caching", description="Prompt-caching tools for Bedrock.")
    commands = parser.add_subparsers(dest="command", required=True)
    diagnose = commands.add_parser("doctor", help="explain every cache miss in a recording (--record FILE.jsonl)")
    diagnose.add_argument("recording", help="a JSONL file written by --record or CallRecorder")
    args = parser.parse_args(argv)
    out = console or Console()
    return doctor(args.recording, out)


if __name__ == "__main__":
    sys.exit(main())
