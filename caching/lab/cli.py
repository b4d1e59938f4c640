"""What every runnable program here shares: flags, a console, and one clear line instead of a traceback.

An example is one line: `return lesson(__doc__, show, argv, console)`, where `show(backend, out)` is the lesson.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from rich.console import Console

from ..backend import Backend, connect
from ..errors import CachingError
from ..live import explain_error, is_fatal
from ..rules import DEFAULT_MODEL_ID, Catalog, system_clock
from ..settings import Settings, load, parser
from .team import below_minimum

__all__ = ["below_minimum", "console_for", "explain_error", "is_fatal", "lesson", "load", "parser", "run"]


def run(body: Callable[[Settings], int], console: Console, settings: Callable[[], Settings]) -> int:
    """Resolve the settings, then run the program's body with them.

    A user's mistake (a bad flag or setting) or a known live failure prints one line and returns 1; Ctrl-C returns 130.
    """
    try:
        resolved = settings()
    except CachingError as exc:
        console.print(f"Error: {exc}", markup=False, highlight=False, soft_wrap=True)
        return 1
    try:
        return body(resolved)
    except CachingError as exc:
        console.print(f"Error: {exc}", markup=False, highlight=False, soft_wrap=True)
        return 1
    except KeyboardInterrupt:
        console.print("Interrupted.")
        return 130
    except Exception as exc:
        message = explain_error(exc, resolved)
        if message is None:
            raise
        console.print(f"Error: {message}", markup=False, highlight=False, soft_wrap=True)
        return 1


def console_for(console: Console | None) -> Console:
    """The console to print to: the caller's (tests pass one), else the terminal."""
    return console or Console(file=sys.stdout)


def lesson(
    doc: str | None,
    show: Callable[[Backend, Console], None],
    argv: list[str] | None = None,
    console: Console | None = None,
    *,
    clock: Callable[[], float] = system_clock,
    second_account: bool = False,
    needs_1h: bool = False,
) -> int:
    """Run an example: parse the usual flags (its docstring is the --help), connect offline or live, say where
    calls go, then `show(backend, out)`. Returns the exit code. A lesson that `needs_1h` says so in one line, and
    stops, on a model without a 1h TTL."""
    out = console_for(console)

    def body(settings: Settings) -> int:
        backend = connect(settings, clock)
        out.print(backend.banner)
        model = Catalog().find(settings.model_id)
        if needs_1h and model is not None and not model.supports_1h:
            out.print(
                f"Note: {model.name} has no 1h cache TTL, which this lesson compares: try --model {DEFAULT_MODEL_ID}."
            )
            return 0
        note = below_minimum(settings.model_id)
        if note:
            out.print(note, markup=False, highlight=False)
        show(backend, out)
        return 0

    return run(body, out, lambda: load(doc or "", argv, second_account=second_account))
