"""Command line: `caching doctor FILE.jsonl`, `caching lint REQUEST.json`, `caching diff A.json B.json`,
`caching audit LOGS...` and `caching plan WORKLOAD` (also as `python -m caching ...`)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict, fields, replace
from pathlib import Path

from rich.console import Console

from .check.doctor import Doctor
from .check.lint import ERROR, INFO, as_github, diff, lint
from .check.lint import load as load_saved
from .check.recording import Problem, iter_recording
from .errors import CachingError
from .lab.reports import doctor_table, plural
from .planner import BUILTIN, Workload, load_workload
from .planner.run import plan
from .planner.workload import COUNTS, DURATIONS, FIELD_HELP
from .settings import S3_ENDPOINT_VARIABLE, setting

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
    elif not args.github and worst < 2:  # a summary only when every file was read
        errors, infos = (sum(f["level"] == level for f in every) for level in (ERROR, INFO))
        notes = f", {infos} info" if infos else ""
        console.print(
            f"{plural(errors, 'error')}, {plural(len(every) - errors - infos, 'warning')}{notes} (token counts are "
            "estimates)."
        )
    return worst


def diff_command(args: argparse.Namespace, console: Console) -> int:
    """Exit 0 when B reads all A cached, 1 when it misses some, 2 when a request could not be read."""
    try:
        before, after = load_saved(args.first, args.model), load_saved(args.second, args.model)
    except CachingError as exc:
        console.print(f"Error: {exc}", markup=False, highlight=False, soft_wrap=True)
        return 2
    found = diff(before, after)
    if args.json:
        answer = {"reads_all": found.reads_all, "read_tokens": found.read_tokens, "why": found.sentence}
        console.print(json.dumps(answer), markup=False, highlight=False, soft_wrap=True)
    else:
        console.print(f"{args.second} after {args.first}: {found.sentence}", markup=False, highlight=False)
    return 0 if found.reads_all else 1


def audit_command(args: argparse.Namespace, console: Console) -> int:
    """Exit 0, 1 when the hit rate is below --min-hit-rate, 2 when the logs could not be read at all."""
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from .audit.audit import audit
    from .audit.logs import when
    from .audit.parallel import audit_parallel
    from .audit.report import as_json, render
    from .audit.sources import read

    bounds = {}
    for name in ("since", "until"):
        value = getattr(args, name)
        bounds[name] = when(value) if value else None
        if value and bounds[name] is None:
            console.print(
                f"Error: --{name} must be a date or time like 2026-11-30 or 2026-11-30T12:00:00Z, got {value!r}.",
                markup=False,
                highlight=False,
            )
            return 2

    def s3_client() -> object:
        import boto3

        return boto3.client("s3", endpoint_url=setting(S3_ENDPOINT_VARIABLE))

    columns = (SpinnerColumn(), TextColumn("Auditing: {task.completed:,} records read"))
    try:
        with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
            task = progress.add_task("audit", total=None)
            parallel = args.jobs > 1
            calls, step = read(args.paths, s3_client, defer=parallel), lambda n: progress.advance(task, n)
            options = (args.show_text, bounds["since"], bounds["until"])
            result = audit_parallel(calls, args.jobs, *options, step) if parallel else audit(calls, *options, step)
    except CachingError as exc:
        console.print(f"Error: {exc}", markup=False, highlight=False, soft_wrap=True)
        return 2
    if not result.total.calls and not result.errors:
        for problem in result.problems[:20]:
            console.print(problem, markup=False, highlight=False)
        console.print("Error: no model invocation log record was found: point at the S3 prefix or files of your logs.")
        return 2
    if args.json:
        console.print(json.dumps(as_json(result), indent=2), markup=False, highlight=False, soft_wrap=True)
    else:
        console.print(render(result))
    if args.min_hit_rate is not None and result.total.hit_rate < args.min_hit_rate:
        if not args.json:
            console.print(f"Hit rate {result.total.hit_rate:.1%} is below the required {args.min_hit_rate:.1%}.")
        return 1
    return 0


def rate(text: str) -> float:
    """A share from 0 to 1, for --min-hit-rate (0.8 or 80%)."""
    try:
        value = float(text.removesuffix("%")) / (100 if text.endswith("%") else 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1 (or a percentage), got {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1 (or 0% to 100%), got {text!r}")
    return value


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
    prog = "caching" if Path(sys.argv[0]).name == "caching" else "python -m caching"  # the console script, or -m
    parser = argparse.ArgumentParser(prog=prog, description="Prompt-caching tools for Bedrock.")
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
    auditor = commands.add_parser("audit", help="hit rate, waste, miss causes and what-if from Bedrock invocation logs")
    auditor.add_argument("paths", nargs="+", metavar="PATH", help="log files or folders, or s3://bucket/prefix")
    auditor.add_argument("--json", action="store_true", help="print the report as JSON")
    auditor.add_argument("--min-hit-rate", type=rate, help="exit 1 when the hit rate is below this (0.8 or 80%%)")
    auditor.add_argument("--since", help="only calls at or after this time (UTC, e.g. 2026-11-30)")
    auditor.add_argument("--until", help="only calls before this time (UTC)")
    auditor.add_argument(
        "--show-text", action="store_true", help="quote prompt text in the examples (hidden by default)"
    )
    auditor.add_argument(
        "--jobs", type=positive, default=1, help="processes: the calls are partitioned by account and model (default 1)"
    )
    planner = commands.add_parser("plan", help="what caching will cost for a workload, per approach and TTL")
    planner.add_argument("workload", nargs="?", default="blog-chat", help=f"{', '.join(BUILTIN)}, or FILE.toml")
    for name in PLAN_FLAGS:
        kind = "N" if name in COUNTS else "TIME" if name in (*DURATIONS, "arrivals_over") else "ID"
        planner.add_argument(f"--{name.replace('_', '-')}", dest=name, metavar=kind, help=FIELD_HELP[name])
    planner.add_argument("--approach", action="append", help="limit to this approach (repeatable)")
    planner.add_argument("--ttl", action="append", help="limit to this TTL, 5m or 1h (repeatable)")
    planner.add_argument("--jobs", type=positive, default=None, help="processes to use (default: one per core)")
    planner.add_argument("--json", action="store_true", help="print the plan as JSON")
    planner.add_argument(
        "--sweep",
        choices=("pauses", "users"),
        help="instead of the plan, chart the cost at each pause between turns or number of users, 5m against 1h",
    )
    planner.add_argument("--html", metavar="FILE", help="also write the plan as one self-contained page")
    args = parser.parse_args(argv)
    out = console or Console()
    try:
        return _run(args, out)
    except KeyboardInterrupt:
        out.print("Interrupted.")
        return 130


def _run(args: argparse.Namespace, out: Console) -> int:
    if args.command == "doctor":
        return doctor(args.recording, out)
    if args.command == "lint":
        return lint_command(args, out)
    if args.command == "diff":
        return diff_command(args, out)
    if args.command == "audit":
        return audit_command(args, out)
    try:
        workload = workload_from(args)
    except CachingError as exc:
        out.print(f"Error: {exc}", markup=False, highlight=False, soft_wrap=True)
        return 1
    return plan(workload, out, args.jobs, args.json, args.sweep, args.html)


if __name__ == "__main__":
    sys.exit(main())
