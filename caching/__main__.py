"""Command line: `python -m caching doctor FILE.jsonl` (and `plan`, the traffic planner)."""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import fields, replace

from rich.console import Console

from .doctor import Doctor
from .errors import CachingError
from .planner import BUILTIN, Workload, load_workload
from .planner.run import plan
from .recording import Problem, iter_recording
from .reports import doctor_table, plural

PLAN_FLAGS = [f.name for f in fields(Workload) if f.name not in ("name", "approaches", "ttls")]


def doctor(path: str, console: Console) -> int:
    """Explain every call in a recording made with --record or a CallRecorder."""
    doc, diagnosed = Doctor(), []
    try:
        for item in iter_recording(path):
            if isinstance(item, Problem):
                console.print(f"{path}: {item}", markup=False, highlight=False, soft_wrap=True)
            else:  # the table needs no request: keep only what it shows, so memory stays small
                diagnosed.append((replace(item, request={}), doc.observe(item)))
    except OSError as exc:
        console.print(
            f"Error: cannot read {path!r} ({exc.strerror}): record one with --record FILE.jsonl.",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        return 1
    if not diagnosed:
        console.print(
            f"Error: {path!r} holds no usable call: record one with --record FILE.jsonl.",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        return 1
    console.print(doctor_table(diagnosed, f"{plural(len(diagnosed), 'call')} in {path}"))
    return 0


def workload_from(args: argparse.Namespace) -> Workload:
    """The named built-in or TOML file, with any field flags applied on top."""
    if args.workload in BUILTIN:
        workload = BUILTIN[args.workload]
    elif args.workload.endswith(".toml"):
        workload = load_workload(args.workload)
    else:
        raise CachingError(
            f"Unknown workload {args.workload!r}: use a built-in ({', '.join(BUILTIN)}) or a .toml file."
        )
    changes: dict[str, object] = {}
    for name in PLAN_FLAGS:
        value = getattr(args, name)
        if value is not None:
            changes[name] = int(value) if re.fullmatch(r"[0-9]{1,30}", value) else value
    if args.approach:
        changes["approaches"] = args.approach
    if args.ttl:
        changes["ttls"] = args.ttl
    return workload.changed(**changes)


def positive(text: str) -> int:
    """A whole number of at least 1, for --jobs."""
    if not re.fullmatch(r"[0-9]{1,4}", text) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 9999, got {text!r}")
    return int(text)


def main(argv: list[str] | None = None, console: Console | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m caching", description="Prompt-caching tools for Bedrock.")
    commands = parser.add_subparsers(dest="command", required=True)
    diagnose = commands.add_parser("doctor", help="explain every cache miss in a recording (--record FILE.jsonl)")
    diagnose.add_argument("recording", help="a JSONL file written by --record or CallRecorder")
    planner = commands.add_parser("plan", help="what caching will cost for a workload, per approach and TTL")
    planner.add_argument("workload", nargs="?", default="blog-chat", help=f"{', '.join(BUILTIN)}, or FILE.toml")
    for name in PLAN_FLAGS:
        planner.add_argument(f"--{name.replace('_', '-')}", dest=name, metavar="VALUE")
    planner.add_argument("--approach", action="append", help="limit to this approach (repeatable)")
    planner.add_argument("--ttl", action="append", help="limit to this TTL, 5m or 1h (repeatable)")
    planner.add_argument("--jobs", type=positive, default=None, help="processes to use (default: one per core)")
    args = parser.parse_args(argv)
    out = console or Console()
    if args.command == "doctor":
        return doctor(args.recording, out)
    try:
        workload = workload_from(args)
    except CachingError as exc:
        out.print(f"Error: {exc}", markup=False, highlight=False, soft_wrap=True)
        return 1
    return plan(workload, out, args.jobs)


if __name__ == "__main__":
    sys.exit(main())
