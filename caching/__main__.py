"""Command line: `caching doctor FILE.jsonl`, `caching lint REQUEST.json`, `caching diff A.json B.json` and
`caching plan WORKLOAD` (also as `python -m caching ...`)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict, fields, replace

from rich.console import Console

from .doctor import Doctor
from .errors import CachingError
from .lint import ERROR, as_github, diff, lint
from .lint import load as load_saved
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


def lint_command(args: argparse.Namespace, console: Console) -> int:
    """Exit 0 when every file is clean, 1 on an error-level finding, 2 when a file could not be read."""
    worst, every = 0, []
    for path in args.requests:
        try:
            saved = load_saved(path, args.model)
        except CachingError as exc:
            console.print(f"Error: {exc}", markup=False, highlight=False, soft_wrap=True)
            worst = 2
            continue
        findings = lint(saved)
        every += [{"file": path, **asdict(finding)} for finding in findings]
        if args.github:
            console.print(as_github(findings, path), markup=False, highlight=False, soft_wrap=True)
        elif not args.json:
            for finding in findings:
                line = f"{path}: {finding.level}: {finding.place}: {finding.message}"
                console.print(line, markup=False, highlight=False)
        if any(f.level == ERROR for f in findings):
            worst = max(worst, 1)
    if args.json:
        console.print(json.dumps(every, indent=2), markup=False, highlight=False, soft_wrap=True)
    elif not args.github:
        errors = sum(f["level"] == ERROR for f in every)
        console.print(
            f"{plural(errors, 'error')}, {plural(len(every) - errors, 'warning')} (token counts are estimates)."
        )
    return worst


def diff_command(args: argparse.Namespace, console: Console) -> int:
    """Exit 0 when B reads all A cached, 1 when it misses some, 2 when a request could not be read."""
    try:
        before, after = load_saved(args.first, args.model), load_saved(args.second, args.model)
    except CachingError as exc:
        console.print(f"Error: {exc}", markup=False, highlight=False, soft_wrap=True)
        return 2
    reads, why = diff(before, after)
    if args.json:
        console.print(json.dumps({"reads_all": reads, "why": why}), markup=False, highlight=False, soft_wrap=True)
    else:
        console.print(f"{args.second} after {args.first}: {why}", markup=False, highlight=False)
    return 0 if reads else 1


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
    linter = commands.add_parser("lint", help="check a saved request (Converse or InvokeModel) before sending it")
    linter.add_argument("requests", nargs="+", metavar="REQUEST.json", help="JSON files, each holding a request body")
    linter.add_argument("--model", help="the model id to check against (default: the request's modelId)")
    linter.add_argument("--json", action="store_true", help="print the findings as JSON")
    linter.add_argument("--github", action="store_true", help="print GitHub Actions annotations")
    differ = commands.add_parser("diff", help="why request B would miss what request A cached")
    differ.add_argument("first", help="request A (JSON), sent first")
    differ.add_argument("second", help="request B (JSON), sent after it")
    differ.add_argument("--model", help="the model id (default: the requests' modelId)")
    differ.add_argument("--json", action="store_true", help="print the answer as JSON")
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
    if args.command == "lint":
        return lint_command(args, out)
    if args.command == "diff":
        return diff_command(args, out)
    try:
        workload = workload_from(args)
    except CachingError as exc:
        out.print(f"Error: {exc}", markup=False, highlight=False, soft_wrap=True)
        return 1
    return plan(workload, out, args.jobs)


if __name__ == "__main__":
    sys.exit(main())
