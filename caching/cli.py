"""What every runnable program here shares: one clear line instead of a traceback for a user's mistake."""

from __future__ import annotations

import sys
from collections.abc import Callable

from rich.console import Console

from .errors import CachingError
from .live import explain_error
from .settings import Settings


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
