"""`caching plan WORKLOAD`: what caching will cost for a workload, per approach and TTL."""

from __future__ import annotations

import argparse
import re
from dataclasses import fields

from rich.console import Console

from ..errors import CachingError
from ..planner import BUILTIN, Workload, load_workload
from ..planner.uncertain import scenarios
from ..planner.workload import COUNTS, DURATIONS, FIELD_HELP, Spelling, flag
from ..rules import TTLS
from ..rules.approaches import NAMES as APPROACHES
from ..rules.uncertainty import MEASURED_WINDOW_SECONDS
from .flags import positive, rate, seconds

PLAN_FLAGS = [f.name for f in fields(Workload) if f.name not in ("name", "approaches", "ttls")]


def plan_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("workload", nargs="?", default="blog-chat", help=f"{', '.join(BUILTIN)}, or FILE.toml")
    for name in PLAN_FLAGS:
        kind = "N" if name in COUNTS else "TIME" if name in (*DURATIONS, "arrivals_over") else "ID"
        parser.add_argument(flag(name), dest=name, metavar=kind, help=FIELD_HELP[name])
    # choices: a wrong value is refused in the flag's own terms (--ttl), not the workload file's (ttls = [...])
    parser.add_argument(
        flag("approaches"),
        action="append",
        choices=APPROACHES,
        metavar="APPROACH",
        help="limit to this approach (repeatable)",
    )
    parser.add_argument(
        flag("ttls"),
        action="append",
        choices=[ttl.value for ttl in TTLS],
        metavar="TTL",
        help="limit to this TTL, 5m or 1h (repeatable)",
    )
    parser.add_argument("--jobs", type=positive, default=None, help="processes to use (default: one per core)")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    parser.add_argument(
        "--sweep",
        choices=("pauses", "users"),
        help="instead of the plan, chart the cost at each pause between turns or number of users, 5m against 1h",
    )
    parser.add_argument("--html", metavar="FILE", help="also write the plan as one self-contained page")
    parser.add_argument(
        "--range",
        action="store_true",
        help="also each cost under a less tidy Bedrock: exact rules, measured, and a pessimistic bound",
    )
    parser.add_argument(
        "--miss-rate",
        metavar="RATE",
        type=rate,
        default=0.0,
        help="with --range: the share of calls that miss with no cause, as an audit of your logs counted (default 0)",
    )
    parser.add_argument(
        "--expiry-window",
        metavar="SECONDS",
        type=seconds,
        default=MEASURED_WINDOW_SECONDS,
        help=f"with --range: how long past its TTL an entry may live (default {MEASURED_WINDOW_SECONDS:g}, measured live)",
    )


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
    return workload.changed(changes, Spelling.FLAGS)


def plan_command(args: argparse.Namespace, console: Console) -> int:
    """0 when the plan is printed, 2 when the workload or a flag is wrong."""
    from ..planner.run import plan

    spread = scenarios(args.miss_rate, args.expiry_window) if args.range else None
    return plan(workload_from(args), console, args.jobs, args.json, args.sweep, args.html, spread)
