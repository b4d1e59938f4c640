"""`caching doctor`, `caching lint` and `caching diff`: one verdict on a recording or a saved request."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, replace
from typing import Any

from rich.console import Console
from rich.table import Table

from .. import limits
from ..call import Call
from ..check.doctor import Doctor
from ..check.lint import ERROR, INFO, as_github, diff, lint
from ..check.lint import load as load_saved
from ..check.lint_select import selection
from ..check.recording import NotJson, Problem, iter_recording
from ..errors import CANNOT_RUN, DONE, FINDING, CachingError
from ..lab.reports import doctor_table
from ..lab.terminal import say, say_error
from ..rules import Diagnosis
from ..rules.lint_rules import RULES
from ..tables import table
from ..words import plural

SKIPPED_SHOWN = 20  # skipped lines the doctor prints (--json gives the first MOST_SKIPPED_LISTED)
NOT_A_RECORDING = 10  # this many lines in a row that are no JSON, before any call: the file is no recording


def print_json(console: Console, value: object) -> None:
    """JSON for programs: printed whole, never wrapped or highlighted."""
    console.print(json.dumps(value, indent=2), markup=False, highlight=False, soft_wrap=True)


def doctor_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recording", help="a JSONL file written by --record or CallRecorder")
    parser.add_argument("--json", action="store_true", help="print the diagnosis of each call as JSON")


def doctor(args: argparse.Namespace, console: Console) -> int:
    """Explain every call in a recording made with --record or a CallRecorder (0, or 2 when none can be read)."""
    path, doc = args.recording, Doctor()
    diagnosed: list[tuple[Call, Diagnosis]] = []
    skipped: list[str] = []  # the first MOST_SKIPPED_LISTED skipped lines, in words
    not_json = 0  # skipped lines that are no JSON at all
    count = shown = 0  # lines skipped; of them, printed

    def show_skipped() -> None:
        """Print the skipped lines not printed yet, up to SKIPPED_SHOWN in all."""
        nonlocal shown
        for problem in skipped[shown : min(len(skipped), SKIPPED_SHOWN)]:
            if not args.json:
                say(console, problem)
        shown = max(shown, min(len(skipped), SKIPPED_SHOWN))

    try:
        for item in iter_recording(path):
            if isinstance(item, Problem):
                count += 1
                not_json += isinstance(item, NotJson)
                if len(skipped) < limits.MOST_SKIPPED_LISTED:
                    skipped.append(f"{path}: {item}")
                if not diagnosed and count == NOT_A_RECORDING and not_json == count:
                    raise CachingError(
                        f"{path!r} is not a recording: its first {NOT_A_RECORDING} lines with text are not JSON. Record "
                        "one with --record FILE.jsonl."
                    )
                if diagnosed or count > NOT_A_RECORDING:  # until then, held back: it may be no recording at all
                    show_skipped()
                continue
            show_skipped()
            diagnosed.append((replace(item, request={}), doc.observe(item)))  # the table needs no request
    except OSError as exc:
        raise CachingError(f"Cannot read {path!r} ({exc.strerror}): record one with --record FILE.jsonl.") from None
    show_skipped()
    if count > shown and not args.json:
        console.print(f"... and {plural(count - shown, 'more skipped line')} (--json lists them).")
    if not diagnosed:
        raise CachingError(f"{path!r} holds no usable call: record one with --record FILE.jsonl.")
    if args.json:
        calls: list[dict[str, Any]] = [
            {
                "call": number,
                "agent": call.agent,
                "model_id": call.model_id,
                "read": None if call.error is not None else call.usage.cacheReadInputTokens,
                "write": None if call.error is not None else call.usage.cacheWriteInputTokens,
                "error": call.error,
                "kind": str(diagnosis.kind),
                "message": diagnosis.message,
            }
            for number, (call, diagnosis) in enumerate(diagnosed, start=1)
        ]
        print_json(console, {"recording": path, "calls": calls, "skipped": skipped})
    else:
        console.print(doctor_table(diagnosed, f"{plural(len(diagnosed), 'call')} in {path}"))
    return DONE


def lint_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("requests", nargs="*", metavar="REQUEST.json", help="JSON files, each holding a request body")
    parser.add_argument("--model", help="the model id to check against (default: the request's modelId)")
    parser.add_argument("--json", action="store_true", help="print the findings (or, with --rules, the rules) as JSON")
    parser.add_argument("--github", action="store_true", help="print GitHub Actions annotations")
    parser.add_argument("--rules", action="store_true", help="list every rule: its code, level and what it finds")
    parser.add_argument("--select", metavar="CODE,...", help="report only these rules (see --rules)")
    parser.add_argument("--ignore", metavar="CODE,...", help="report every rule but these")


def rules_table() -> Table:
    """The catalogue, one row per rule: code, levels and what it finds (docs/lint-rules.md has the rest)."""
    shown = table(f"{len(RULES)} lint rules (docs/lint-rules.md explains each)")
    shown.add_column("code", no_wrap=True)
    shown.add_column("level", no_wrap=True)
    shown.add_column("what it finds")
    for rule in RULES.values():
        shown.add_row(rule.code, rule.level_words, rule.summary)
    return shown


def lint_command(args: argparse.Namespace, console: Console) -> int:
    """0 when every file is clean, 1 on an error-level finding, 2 when a file could not be read (the others are
    still checked)."""
    if args.rules:
        if args.json:
            print_json(console, [{**asdict(rule), "levels": [str(x) for x in rule.levels]} for rule in RULES.values()])
        else:
            console.print(rules_table())
        return DONE
    if not args.requests:
        raise CachingError("Name at least one REQUEST.json to check, or pass --rules to list the rules.")
    chosen = selection(args.select, args.ignore)
    worst, every = DONE, []
    for path in args.requests:
        try:
            saved = load_saved(path, args.model)
        except CachingError as exc:
            say_error(console, exc)
            worst = CANNOT_RUN
            continue
        findings = [finding for finding in lint(saved) if chosen.keeps(finding)]
        every += [{"file": path, **finding.as_json()} for finding in findings]
        if args.github:
            console.print(as_github(findings, path), markup=False, highlight=False, soft_wrap=True)
        elif not args.json:
            for finding in findings:
                line = f"{path}: {finding.level}: {finding.code}: {finding.place}: {finding.message}"
                console.print(line, markup=False, highlight=False)
        if any(f.level == ERROR for f in findings):
            worst = max(worst, FINDING)
    if args.json:
        print_json(console, every)
    elif not args.github and worst < CANNOT_RUN:  # a summary only when every file was read
        errors, infos = (sum(f["level"] == level for f in every) for level in (ERROR, INFO))
        notes = f", {infos} info" if infos else ""
        console.print(
            f"{plural(errors, 'error')}, {plural(len(every) - errors - infos, 'warning')}{notes} (token counts are "
            "estimates)."
        )
    return worst


def diff_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("first", help="request A (JSON), sent first")
    parser.add_argument("second", help="request B (JSON), sent after it")
    parser.add_argument("--model", help="the model id (default: the requests' modelId)")
    parser.add_argument("--json", action="store_true", help="print the answer as JSON")


def diff_command(args: argparse.Namespace, console: Console) -> int:
    """0 when B reads all A cached, 1 when it misses some, 2 when a request could not be read."""
    before, after = load_saved(args.first, args.model), load_saved(args.second, args.model)
    found = diff(before, after)
    if args.json:
        print_json(console, {"reads_all": found.reads_all, "read_tokens": found.read_tokens, "why": found.sentence})
    else:
        console.print(f"{args.second} after {args.first}: {found.sentence}", markup=False, highlight=False)
    return DONE if found.reads_all else FINDING
