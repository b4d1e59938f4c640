"""The one command line: `caching doctor | lint | diff | audit | plan | serve` (also `python -m caching ...`).

Each command is one entry of COMMANDS: its name, one line of help, the flags it adds and the function it runs. A
command returns 0 (done) or 1 (a finding); whatever stops it raises a CachingError, which `main` prints once and
exits with (2: could not run); Ctrl-C exits 130. docs/cli.md lists every command, its flags and exit codes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from ..lab.terminal import HelpFormatter, Parser, guarded
from .audit import audit_command, audit_flags
from .check import diff_command, diff_flags, doctor, doctor_flags, lint_command, lint_flags
from .plan import plan_command, plan_flags
from .serve import serve, serve_flags

__all__ = ["COMMANDS", "Command", "main"]


@dataclass(frozen=True)
class Command:
    """One subcommand: `flags` adds its arguments to its parser, `run(args, console)` returns its exit code."""

    name: str
    help: str
    flags: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, Console], int]


COMMANDS = (
    Command("doctor", "explain every cache miss in a recording (--record FILE.jsonl)", doctor_flags, doctor),
    Command("lint", "check a saved request (Converse or InvokeModel) before sending it", lint_flags, lint_command),
    Command("diff", "why request B would miss what request A cached", diff_flags, diff_command),
    Command(
        "audit", "hit rate, waste, miss causes and what-if from Bedrock invocation logs", audit_flags, audit_command
    ),
    Command("plan", "what caching will cost for a workload, per approach and TTL", plan_flags, plan_command),
    Command("serve", "the offline Bedrock emulator on 127.0.0.1, for any client", serve_flags, serve),
)


def parser(prog: str) -> argparse.ArgumentParser:
    """The whole command line: one subparser per entry of COMMANDS."""
    top = Parser(  # its subparsers are Parsers too: refusals wrap to the terminal
        prog=prog, description="Prompt-caching tools for Bedrock.", formatter_class=HelpFormatter
    )
    commands = top.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        sub = commands.add_parser(
            command.name,
            help=command.help,
            description=command.help[:1].upper() + command.help[1:] + ".",
            formatter_class=HelpFormatter,
        )
        command.flags(sub)
        sub.set_defaults(run=command.run)
    return top


def main(argv: Sequence[str] | None = None, console: Console | None = None, prog: str | None = None) -> int:
    """Run one command and return its exit code: 0 done, 1 a finding, 2 could not run, 130 interrupted."""
    if prog is None:  # the console script, or python -m caching
        prog = "caching" if Path(sys.argv[0]).name == "caching" else "python -m caching"
    args = parser(prog).parse_args(argv)
    out = console or Console()
    return guarded(out, lambda: int(args.run(args, out)))
