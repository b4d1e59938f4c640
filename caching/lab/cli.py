"""What every runnable program here shares: flags, a console, and one clear line instead of a traceback.

An example is one line: `return lesson(__doc__, show, argv, console)`, where `show(backend, out)` is the lesson.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace

from rich.console import Console

from .. import settings as _settings
from ..backend import Backend, connect
from ..live import explain_error, is_fatal
from ..rules import DEFAULT_MODEL_ID, Catalog, system_clock
from ..settings import Settings, resolve
from .team import below_minimum
from .terminal import HelpFormatter, guarded

__all__ = ["below_minimum", "console_for", "explain_error", "is_fatal", "lesson", "load", "parser", "run"]


def parser(
    description: str, *, approach: bool = False, ttl: bool = False, second_account: bool = False
) -> argparse.ArgumentParser:
    """The shared flags (`caching.settings.parser`), with help that fits the terminal."""
    made = _settings.parser(description, approach=approach, ttl=ttl, second_account=second_account)
    made.formatter_class = HelpFormatter
    return made


def load(
    description: str,
    argv: Sequence[str] | None = None,
    *,
    approach: bool = False,
    ttl: bool = False,
    second_account: bool = False,
) -> Settings:
    """Parse a program's flags and resolve its settings."""
    return resolve(parser(description, approach=approach, ttl=ttl, second_account=second_account).parse_args(argv))


def run(body: Callable[[Settings], int], console: Console, settings: Callable[[], Settings]) -> int:
    """Resolve the settings, then run the program's body with them.

    A user's mistake (a bad flag or setting) or a known live failure prints one error (`say_error`) and returns
    its exit code (2: could not run); Ctrl-C returns 130.
    """
    resolved: list[Settings] = []  # known once resolved: a live failure is explained with them

    def work() -> int:
        resolved.append(settings())
        return body(resolved[0])

    return guarded(console, work, lambda exc: explain_error(exc, resolved[0]) if resolved else None)


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
    own_emulator: str | None = None,
) -> int:
    """Run an example: parse the usual flags (its docstring is the --help), connect offline or live, say where
    calls go, then `show(backend, out)`. Returns the exit code. A lesson that `needs_1h` says so in one line, and
    stops, on a model without a 1h TTL. A lesson that sends its calls to an `own_emulator` (the sentence that says
    so, printed instead of the banner) runs offline even with --live: it needs no credentials and bills nothing."""
    out = console_for(console)

    def body(settings: Settings) -> int:
        if own_emulator is not None:
            settings = replace(settings, backend="offline", endpoint_url=None)
        backend = connect(settings, clock)
        out.print(own_emulator or backend.banner)
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
