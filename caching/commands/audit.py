"""`caching audit LOGS...`: hit rate, waste, miss causes and a what-if, from Bedrock's model invocation logs."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from ..errors import DONE, FINDING, CachingError, redact
from ..lab.terminal import say
from ..words import plural
from .check import print_json
from .flags import positive, rate


def audit_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="log files or folders, or s3://bucket/prefix")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--min-hit-rate", type=rate, help="exit 1 when the hit rate is below this (0.8 or 80%%)")
    parser.add_argument("--since", help="only calls at or after this time (UTC, e.g. 2026-11-30)")
    parser.add_argument("--until", help="only calls before this time (UTC)")
    parser.add_argument(
        "--show-text", action="store_true", help="quote prompt text in the examples (hidden by default)"
    )
    parser.add_argument("--html", metavar="FILE", help="also write the report as one self-contained page")
    parser.add_argument(
        "--workload",
        metavar="FILE.toml",
        help="also write a planner workload with the logs' shape, for `caching plan FILE.toml`",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--jobs",
        type=positive,
        help="run on a local Dask cluster of N worker processes: hourly log files, or one large file of one busy "
        "account, in time windows; other logs by account and model (default: one process, no Dask)",
    )
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask cluster you already run (tcp://host:8786); see docs/audit-cluster.md",
    )


def audit_command(args: argparse.Namespace, console: Console) -> int:
    """0, 1 when the hit rate is below --min-hit-rate, 2 when the logs could not be read at all."""
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from ..audit.audit import audit
    from ..audit.logs import when
    from ..audit.report import as_json, render
    from ..audit.s3client import S3Access
    from ..audit.sources import read

    bounds = {}
    for name in ("since", "until"):
        value = getattr(args, name)
        bounds[name] = when(value) if value else None
        if value and bounds[name] is None:
            raise CachingError(
                f"--{name} must be a date or time like 2026-11-30 or 2026-11-30T12:00:00Z, got {value!r}."
            )

    def s3_client() -> object:
        return S3Access.here().client()

    columns = (SpinnerColumn(), TextColumn("{task.description}: {task.completed:,} records read"))
    try:
        with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
            task = progress.add_task("Auditing", total=None)
            options = (args.show_text, bounds["since"], bounds["until"])

            planned = [False]  # the logs were read first, to plan how the workers share them

            def step(records: int) -> None:
                if planned[0]:
                    progress.reset(task, description="Auditing")
                    planned[0] = False
                progress.advance(task, records)

            def planning(records: int) -> None:
                planned[0] = True
                progress.update(task, description="Planning the work", advance=records)

            if (args.jobs or 1) > 1 or args.scheduler:  # Dask is loaded only here: a plain audit stays small
                from ..audit.parallel import audit_parallel, cluster

                with cluster(args.jobs, args.scheduler) as client:
                    result = audit_parallel(args.paths, client, *options, step, planning)
            else:
                result = audit(read(args.paths, s3_client), *options, step)
    except CachingError as exc:  # botocore's words hold the endpoint URL, and a URL may hold a password
        raise CachingError(redact(str(exc)), exc.exit_code) from None
    # Every line the audit prints passes through here or the error above: none shows a URL's password.
    result = dataclasses.replace(result, problems=[redact(problem) for problem in result.problems])
    if not result.total.calls and not result.errors:
        for problem in result.problems[:20]:
            console.print(problem, markup=False, highlight=False)
        if result.outside.calls:
            window = " ".join(f"--{name} {getattr(args, name)}" for name in ("since", "until") if getattr(args, name))
            raise CachingError(
                f"No call falls in the time window {window}: it left out {plural(result.outside.calls, 'call')} "
                f"({result.outside.span()}); widen or drop the window."
            )
        raise CachingError("No model invocation log record was found: point at the S3 prefix or files of your logs.")
    if args.json:
        print_json(console, as_json(result))
    else:
        console.print(render(result), crop=False)  # a path longer than the terminal stays whole (report.Said)
    if args.html is not None:
        from ..audit.html import audit_html
        from ..files import write_page

        page = audit_html(result, args.show_text)
        write_page(args.html, page, "audit")
        if not args.json:
            say(console, f"Wrote the audit as a page to {args.html} ({len(page.encode()):,} bytes).")
    if args.workload is not None:
        write_workload(args, s3_client, console)
    if args.min_hit_rate is not None and result.total.hit_rate < args.min_hit_rate:
        if not args.json:
            console.print(f"Hit rate {result.total.hit_rate:.1%} is below the required {args.min_hit_rate:.1%}.")
        return FINDING
    return DONE


def write_workload(args: argparse.Namespace, s3_client: Callable[[], object], console: Console) -> None:
    """Read the logs again for their shape (memory stays bounded: a few numbers per conversation), and write it as a
    workload file the planner reads."""
    from ..audit.logs import LoggedCall
    from ..audit.sources import read
    from ..audit.workload import as_toml, shape_of

    try:
        shape = shape_of(call for call in read(args.paths, s3_client) if isinstance(call, LoggedCall))
    except CachingError as exc:
        raise CachingError(redact(str(exc)), exc.exit_code) from None
    fields = shape.fields()
    if not fields:
        raise CachingError("No logged call had a readable request, so no workload could be measured.")
    try:
        Path(args.workload).write_text(as_toml(fields, ", ".join(redact(p) for p in args.paths)), encoding="utf-8")
    except OSError as exc:
        raise CachingError(
            f"Cannot write the workload to {args.workload!r} ({exc.strerror}): check the folder exists and is writable."
        ) from None
    if not args.json:
        said = f"Wrote a workload of {plural(fields['users'], 'conversation')} to {args.workload}: plan it with "
        say(console, f"{said}`caching plan {args.workload}`.")
