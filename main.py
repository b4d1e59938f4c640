"""Chat with an orchestrator and two specialists; after every turn, see what each model call cached and cost.

Offline, on the local Bedrock emulator (no AWS needed):
  make run

On real Bedrock (AWS credentials in .env or the environment):
  .venv/bin/python main.py --live [--model ID] [--region R]
    [--ttl 5m|1h] [--approach combined]

Scripted:
  printf 'What is Python?\\nquit\\n' | .venv/bin/python main.py
"""

from __future__ import annotations

import io
import sys
from typing import TextIO

from rich.console import Console

from caching import Settings, build_team, connect
from caching.lab import (
    below_minimum,
    calls_table,
    console_for,
    explain_error,
    is_fatal,
    load,
    run,
    say_error,
    session_line,
    session_summary,
    show_answer,
    turn_line,
)

CONTROLS = "Type a question and press Enter. quit, exit, Ctrl-D or Ctrl-C ends the chat with a session summary."


def read_question(stream: TextIO, out: Console) -> str | None:
    """The next question, or None at the end of input; piped input is echoed so the transcript reads naturally."""
    interactive = stream.isatty()
    try:
        line = out.input("you> ") if interactive else stream.readline()
    except EOFError:
        out.print()  # Ctrl-D: the summary starts on a line of its own
        return None
    if not line and not interactive:
        return None
    # Bytes that are not UTF-8 arrive as lone surrogates: show them as U+FFFD, as any UTF-8 client would send them.
    line = line.encode("utf-16", "surrogatepass").decode("utf-16", "replace").strip()
    if not interactive:
        out.print(f"you> {line}", markup=False, highlight=False)
    return line


def main(argv: list[str] | None = None, console: Console | None = None, stdin: TextIO | None = None) -> int:
    out = console_for(console)
    stream = stdin or sys.stdin
    if isinstance(stream, io.TextIOWrapper):
        stream.reconfigure(errors="replace")  # bytes that are not UTF-8 become U+FFFD, as a UTF-8 client sends them

    def body(settings: Settings) -> int:
        backend = connect(settings)
        tracker = backend.tracker()
        team = build_team(backend.model, tracker, settings.approach, settings.ttl)
        out.print(backend.banner)
        note = below_minimum(settings.model_id)
        if note:
            out.print(note, markup=False, highlight=False)
        out.print(f"Model {settings.model_id}, approach {settings.approach}, ttl {settings.ttl}. {CONTROLS}")
        failed = False
        shown = ""  # the session line last printed: the summary repeats it only if a turn since has changed it
        while True:
            try:
                question = read_question(stream, out)
                if question is None or question.lower() in ("quit", "exit"):
                    break
                if not question:
                    continue
                answer = team.ask(question)
            except KeyboardInterrupt:
                out.print()
                break
            except Exception as exc:
                message = explain_error(exc, settings)
                if message is None:
                    raise
                say_error(out, message)
                if is_fatal(exc):  # every later question would fail the same way
                    failed = True
                    break
                continue
            show_answer(out, answer)
            turn = tracker.turns[-1]
            out.print(calls_table(turn.calls, f"Turn {turn.number}: model calls", first_token=settings.live))
            out.print(turn_line(turn))
            line = session_line(tracker.turns)
            out.print(line)
            shown = line.plain
        if tracker.turns:
            out.print(session_summary(tracker.turns, totals=session_line(tracker.turns).plain != shown))
        out.print("Bye.")
        return 2 if failed else 0  # 2: the chat could not go on (docs/cli.md)

    return run(body, out, lambda: load(__doc__ or "", argv, approach=True, ttl=True))


if __name__ == "__main__":
    sys.exit(main())
