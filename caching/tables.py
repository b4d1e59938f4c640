"""Tables and bar charts that read well in an 80-column terminal and use the room a wider one gives.

Every table here has a rule under its header and two spaces between columns. A `NotedTable` also has a note per
row (why a call missed, where writes went): in a column of its own when there is room for it, else on its own line
under the row, so no number is cut and no word is split.
"""

from __future__ import annotations

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

NOTE_MIN_WIDTH = 30  # narrower than this, a note column reads as fragments: it goes under its row instead


def plain(text: str) -> Text:
    """User text as rich Text: no markup is interpreted and control characters are shown escaped, never sent."""
    return Text("".join(ch if ch.isprintable() or ch in "\n\t" else repr(ch)[1:-1] for ch in text))


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
