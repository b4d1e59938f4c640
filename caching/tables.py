"""Tables and bar charts that read well in an 80-column terminal and use the room a wider one gives.

Every table here has a rule under its header and two spaces between columns. A `NotedTable` also has a note per
row (why a call missed, where writes went): in a column of its own when there is room for it, else on its own line
under the row, so no number is cut and no word is split.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.measure import Measurement
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from .words import usd, usd_places

NO_BREAK = "\u00a0"
NOTE_MIN_WIDTH = 30  # narrower than this, a note column reads as fragments: it goes under its row instead


def plain(text: str) -> Text:
    """User text as rich Text: no markup is interpreted and control characters are shown escaped, never sent."""
    return Text("".join(ch if ch.isprintable() or ch in "\n\t" else repr(ch)[1:-1] for ch in text))


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


def table(title: str | None = None, caption: str | None = None) -> Table:
    """An empty table in the project's style."""
    return Table(
        title=plain(title) if title else None,
        title_justify="left",
        caption=plain(caption) if caption else None,
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 0, 0, 1),
        pad_edge=False,
    )


@dataclass
class NotedTable:
    """Columns of short values (`columns`: (name, justify)) and a note per row, headed `note`.

    `movable` names columns that join the note in the narrow layout (say, a timing shown only live), so the row
    line still fits; `note_prefix` starts each note there (the note column's name, when the note needs it).
    """

    title: str
    columns: Sequence[tuple[str, str]]
    note: str
    caption: str | None = None
    movable: Sequence[str] = ()
    note_prefix: str = ""
    rows: list[tuple[list[str], str]] = field(default_factory=list)

    def add_row(self, cells: Sequence[str], note: str) -> None:
        self.rows.append((list(cells), note))

    def wide(self) -> Table:
        out = self._table([name for name, _ in self.columns])
        out.add_column(self.note, ratio=1, min_width=NOTE_MIN_WIDTH, overflow="fold")
        for cells, note in self.rows:
            out.add_row(*(plain(cell) for cell in cells), plain(note))
        return out

    def _table(self, names: Sequence[str]) -> Table:
        out = table(self.title, self.caption)
        for name, justify in self.columns:
            if name in names:
                out.add_column(name, justify="right" if justify == "right" else "left", no_wrap=True)
        return out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        values = self._table([name for name, _ in self.columns])
        for cells, _ in self.rows:
            values.add_row(*(plain(cell) for cell in cells))
        if Measurement.get(console, options, values).maximum + 2 + NOTE_MIN_WIDTH <= options.max_width:
            yield self.wide()
            return
        yield from self._narrow(options.max_width)

    def _narrow(self, width: int) -> Iterator[Text | Padding]:
        kept = [(i, name, justify) for i, (name, justify) in enumerate(self.columns) if name not in self.movable]
        widths = [max([len(name)] + [len(cells[i]) for cells, _ in self.rows]) for i, name, _ in kept]

        def line(values: Sequence[str]) -> Text:
            parts = [
                value.rjust(w) if justify == "right" else value.ljust(w)
                for value, w, (_, _, justify) in zip(values, widths, kept, strict=True)
            ]
            return plain(" " + "  ".join(parts))

        indent = 1 + widths[0] + 2
        yield plain(self.title)
        yield Text("")
        yield line([name for _, name, _ in kept])
        yield Text(" " + "─" * (sum(widths) + 2 * (len(widths) - 1)))
        for cells, note in self.rows:
            yield line([cells[i] for i, _, _ in kept])
            moved = [
                f"{self.columns[i][0]} {cells[i]}" for i, (name, _) in enumerate(self.columns) if name in self.movable
            ]
            text = "; ".join([*moved, self.note_prefix + note if note else ""]).strip("; ")
            if text:
                yield Padding(plain(text), (0, 0, 0, indent))
        yield Text("")
        if self.caption:
            yield plain(self.caption)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(min(40, options.max_width), options.max_width)


def bar_chart(values: dict[str, Decimal], title: str, notes: dict[str, str] | None = None, width: int = 40) -> Group:
    """Horizontal bars scaled to the largest value, each with its amount and an optional note."""
    biggest = max(values.values(), default=Decimal(0))
    label = max((len(name) for name in values), default=0)
    lines = [Text(title)]
    places = usd_places(values.values())
    amounts = {name: usd(amount, places) for name, amount in values.items()}
    money = max((len(text) for text in amounts.values()), default=0)
    for name, amount in values.items():
        filled = 0 if not biggest else round(width * amount / biggest)
        note = f"  {notes[name]}" if notes and name in notes else ""
        lines.append(Text(f"{name:<{label}} {'█' * filled}{' ' * (width - filled)} {amounts[name]:>{money}}{note}"))
    return Group(*lines)
