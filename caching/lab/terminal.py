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

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

from ..errors import CANNOT_RUN, INTERRUPTED, CachingError
from ..tables import plain

NO_BREAK = "\u00a0"
LABEL = re.compile(r"(?:[A-Z][a-z]+(?: [a-z]+)?|Your \w+):\s+")  # "Run:  ", "Look for: ", "Script it:  "


def said(message: object, width: int, indent: str = "") -> list[str]:
    """A message in lines of at most `width`, broken only at spaces: words, paths, ids and `commands in backticks`
    kept whole (a longer one gets a line of its own, to copy whole); every line starts with `indent`."""
    # textwrap breaks only at ASCII whitespace: a no-break space inside a command keeps it on one line to copy
    kept = re.sub(r"`[^`\n]+`", lambda command: command[0].replace(" ", NO_BREAK), str(message))
    lines = textwrap.wrap(
        kept,
        max(width, 20),
        initial_indent=indent,
        subsequent_indent=indent,
        break_on_hyphens=False,
        break_long_words=False,
    )
    return [line.replace(NO_BREAK, " ") for line in lines]


def say(console: Console, message: object, indent: str = "") -> None:
    """Print a message as plain text (no markup, control characters shown escaped), wrapped to the width by `said`."""
    console.print(plain("\n".join(said(message, console.width, indent))), highlight=False, soft_wrap=True)


class Said:
    """A message as rich renders it, wrapped by `said` to the width it is given: a path longer than the width stays
    whole on a line of its own (printed with crop=False, the terminal folds it without a line break)."""

    def __init__(self, message: object) -> None:
        self.message = message

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in said(self.message, options.max_width):
            text = plain(line)
            text.no_wrap, text.overflow = True, "ignore"
            yield text


def fold(code: str, width: int) -> list[str]:
    """A line of code (with any words after it) in lines of at most `width` where it can be: broken only after a
    comma inside brackets (Python reads on to the closing bracket, so the folded code is still valid) or at a space
    outside every bracket (the words around the code), never inside a string. A piece with no such break stays long."""
    breaks, depth, quote = [], 0, ""
    for i, char in enumerate(code):
        if quote:
            quote = "" if char == quote and code[i - 1] != "\\" else quote
        elif char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(depth - 1, 0)
        elif char == " " and (depth == 0 or code[i - 1] == ","):
            breaks.append(i)
    lines, start, indent = [], 0, ""
    while len(indent) + len(code) - start > width:
        fits = [b for b in breaks if start < b and len(indent) + b - start <= width]
        cut = fits[-1] if fits else next((b for b in breaks if b > start), None)
        if cut is None:
            break
        lines.append(indent + code[start:cut])
        start, indent = cut + 1, "    "
    return [*lines, indent + code[start:]]


class Code:
    """Code to copy, as rich renders it: folded by `fold` to the width, each line printed whole (rich would wrap it
    at any space, a string's included, which breaks the code once pasted)."""

    def __init__(self, code: str, indent: str = "  ") -> None:
        self.code, self.indent = code, indent

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in fold(self.code, options.max_width - len(self.indent)):
            yield Text(self.indent + line, no_wrap=True, overflow="ignore")


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
        said = textwrap.fill(f"{self.prog}: error: {message}", width, break_on_hyphens=False, break_long_words=False)
        self.exit(2, said + "\n")


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
