"""How every program here talks to a terminal: one way to say an error, and help that fits its width.

`say_error` is the one place an error is printed, as llm prints a `click.ClickException`: "Error: " and the
sentence, never markup, wrapped to the console's width. `guarded` is the one place a program turns errors into exit
codes: the CLI and the examples' runner both run through it.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import textwrap
from collections.abc import Callable
from typing import NoReturn

from rich.console import Console

from ..errors import CANNOT_RUN, INTERRUPTED, CachingError
from ..tables import plain, said

LABEL = re.compile(r"(?:[A-Z][a-z]+(?: [a-z]+)?|Your \w+):\s+")  # "Run:  ", "Look for: ", "Script it:  "


def say(console: Console, message: object, indent: str = "") -> None:
    """Print a message as plain text (no markup, control characters shown escaped), wrapped to the width by `said`."""
    console.print(plain("\n".join(said(message, console.width, indent))), highlight=False, soft_wrap=True)


FENCE = re.compile(r"\s*(```|~~~)")  # a line that opens or closes a Markdown code block


def show_answer(console: Console, text: str, lead: str = "assistant> ") -> None:
    """Print a model's answer after `lead`: its prose wrapped to the width, each line of a fenced code block whole
    (a code line folded at a space no longer runs when copied; the terminal folds it instead), control characters
    shown escaped."""
    code = False
    for number, line in enumerate(text.split("\n")):
        fence = FENCE.match(line) is not None
        console.print(plain((lead if number == 0 else "") + line), highlight=False, soft_wrap=code or fence)
        code = code != fence


def say_error(console: Console, message: object) -> None:
    """Print "Error: <message>" the way `say` prints."""
    say(console, f"Error: {message}")


def guarded(
    console: Console, work: Callable[[], int], explain: Callable[[Exception], str | None] = lambda exc: None
) -> int:
    """Run `work` and return its exit code. A CachingError is said once (`say_error`) and exits with its code;
    Ctrl-C prints "Interrupted." and exits 130; any other error that `explain` can word is said and exits 2 (the
    rest are bugs, and raise)."""
    try:
        return work()
    except CachingError as exc:
        say_error(console, exc)
        return exc.exit_code
    except KeyboardInterrupt:
        console.print("Interrupted.")
        return INTERRUPTED
    except Exception as exc:
        message = explain(exc)
        if message is None:
            raise
        say_error(console, message)
        return CANNOT_RUN


class Parser(argparse.ArgumentParser):
    """argparse's parser whose refusal ("caching plan: error: argument --ttl: ...") wraps to the terminal as the
    help does; argparse prints it on one line, however long the list of choices."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        width = max(shutil.get_terminal_size().columns, 20)
        words = textwrap.fill(f"{self.prog}: error: {message}", width, break_on_hyphens=False, break_long_words=False)
        self.exit(2, words + "\n")


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help wrapped to the terminal, words kept whole (a model id is never split at its hyphens).

    The description is a docstring: each paragraph is refilled, a line that starts with a label ("Run:", "Look
    for:") or with spaces starts a block of its own, and a wrapped block hangs under the text after its label.
    """

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False, break_long_words=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        out: list[str] = []
        for paragraph in textwrap.dedent(text).strip("\n").split("\n\n"):
            blocks: list[str] = []
            for line in paragraph.splitlines():
                starts = not blocks or line[:1].isspace() or LABEL.match(line)
                if starts:
                    blocks.append(line.rstrip())
                else:
                    blocks[-1] += " " + line.strip()
            for block in blocks:
                label = LABEL.match(block)
                hang = " " * (label.end() if label else len(block) - len(block.lstrip()))
                out += textwrap.wrap(
                    block,
                    width,
                    initial_indent=indent,
                    subsequent_indent=indent + hang,
                    break_on_hyphens=False,
                    break_long_words=False,
                    replace_whitespace=False,
                    drop_whitespace=True,
                )
            out.append("")
        return "\n".join(out).rstrip("\n")
