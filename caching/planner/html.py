"""The plan as one self-contained HTML page: the table, cost by approach, cumulative cost over simulated time and
the 5m-against-1h sweep. Charts are inline SVG and the style is inline CSS, so the page needs no network to view."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from ..words import usd, usd_places
from .report import cells, describe, label
from .simulate import PlanResult
from .sweep import Sweep

# One colour per run, in the order the plan lists them (colour-blind safe: Okabe and Ito's palette, then greys).
COLOURS = ("#000000", "#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7", "#666666", "#999999")
WIDTH, HEIGHT, MARGIN, LEFT = 760, 300, 60, 80  # LEFT: room for the dollar labels

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 820px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 0.3em 0.6em; border-bottom: 1px solid #ddd; text-align: right; }
th:nth-child(-n+2), td:nth-child(-n+2) { text-align: left; }
.note { color: #555; font-size: 0.9em; }
svg text { font-size: 12px; font-family: system-ui, sans-serif; }
"""


def plan_html(results: Sequence[PlanResult], sweep: Sweep | None) -> str:
    """The whole page, as text."""
    first = results[0]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Cache plan: {escape(first.workload.name)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>Cache plan: {escape(first.workload.name)}</h1>",
        f"<p>{escape(describe(first.workload).plain)}</p>",
        "<h2>Cost by approach and TTL</h2>",
        _table(results),
        f'<p class="note">Best possible input cost (an oracle that knows every reuse): '
        f"{escape(usd(first.oracle_cost.input))}. best %: each approach's share of the savings it allows.</p>",
        _bars(results),
        "<h2>Cumulative cost over simulated time</h2>",
        _timeline(results),
    ]
    if sweep is not None and sweep.rows:
        swept = "the whole workload" if sweep.whole else "a sample of the workload"
        parts += [
            f"<h2>5m against 1h: {escape(sweep.approach)} at each fixed pause between turns</h2>",
            _sweep(sweep),
            f'<p class="note">Total cost at each pause, swept on {swept}.</p>',
        ]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _table(results: Sequence[PlanResult]) -> str:
    head = "".join(
        f"<th>{name}</th>" for name in ("approach", "ttl", "total cost", "input cost", "vs none", "best %", "hits")
    )
    places = usd_places(amount for r in results for amount in (r.cost.total, r.cost.input))
    rows = ["<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in cells(r, places)) + "</tr>" for r in results]
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _bars(results: Sequence[PlanResult]) -> str:
    """Total cost of each run as a horizontal bar."""
    biggest = max(float(r.cost.total) for r in results) or 1.0
    row, left = 22, 130
    lines = [f'<svg role="img" aria-label="Total cost by approach" width="{WIDTH}" height="{row * len(results) + 10}">']
    for i, r in enumerate(results):
        y, length = 5 + i * row, (WIDTH - left - 90) * float(r.cost.total) / biggest
        lines.append(f'<text x="0" y="{y + 14}">{escape(label(r))}</text>')
        lines.append(f'<rect x="{left}" y="{y}" width="{length:.1f}" height="{row - 6}" fill="{_colour(i)}"/>')
        lines.append(f'<text x="{left + length + 6:.1f}" y="{y + 14}">{escape(usd(r.cost.total))}</text>')
    lines.append("</svg>")
    return "\n".join(lines)


def _timeline(results: Sequence[PlanResult]) -> str:
    """One line per run: USD spent up to each minute of simulated time."""
    minutes = sorted({minute for r in results for minute in r.spend})
    if not minutes:
        return '<p class="note">No timeline: the plan was run without one.</p>'
    start, end = minutes[0], max(minutes[-1], minutes[0] + 1)
    curves = []
    for r in results:
        total, points = 0.0, [(float(start), 0.0)]
        for minute in sorted(r.spend):
            total += r.spend[minute]
            points.append((minute + 1, total))
        curves.append(points)
    top = max(points[-1][1] for points in curves) or 1.0

    def x(minute: float) -> float:
        return LEFT + (WIDTH - LEFT - MARGIN) * (minute - start) / (end + 1 - start)

    def y(usd_spent: float) -> float:
        return HEIGHT - MARGIN / 2 - (HEIGHT - MARGIN) * usd_spent / top

    lines = [
        _frame("Cumulative cost over simulated time", f"{(end + 1 - start) / 60:.1f} h", usd_text(top), len(results))
    ]
    for i, (r, points) in enumerate(zip(results, curves, strict=True)):
        path = " ".join(f"{x(m):.1f},{y(v):.1f}" for m, v in _thin(points))
        lines.append(f'<polyline fill="none" stroke="{_colour(i)}" stroke-width="1.5" points="{path}"/>')
        lines.append(_legend(i, label(r)))
    lines.append("</svg>")
    return "\n".join(lines)


def _sweep(sweep: Sweep) -> str:
    """Total cost at each pause length, one line for 5m and one for 1h."""
    rows = sweep.rows
    top = max(float(max(row.five, row.hour)) for row in rows) or 1.0
    last = rows[-1].value

    def x(minutes: int) -> float:
        return LEFT + (WIDTH - LEFT - MARGIN) * minutes / last

    def y(cost: float) -> float:
        return HEIGHT - MARGIN / 2 - (HEIGHT - MARGIN) * cost / top

    lines = [_frame("Total cost by pause between turns", f"{last} min", usd_text(top), 2)]
    for row in rows:
        if row.value in (1, 5, 15, 30, 60):
            lines.append(
                f'<text x="{x(row.value):.1f}" y="{HEIGHT - MARGIN / 2 + 16}" text-anchor="middle">{row.value}</text>'
            )
    for i, (name, values) in enumerate(
        (("5m", [float(row.five) for row in rows]), ("1h", [float(row.hour) for row in rows]))
    ):
        path = " ".join(f"{x(row.value):.1f},{y(v):.1f}" for row, v in zip(rows, values, strict=True))
        lines.append(f'<polyline fill="none" stroke="{_colour(i + 1)}" stroke-width="2" points="{path}"/>')
        lines.append(_legend(i, name, i + 1))
    lines.append("</svg>")
    return "\n".join(lines)


def _frame(title: str, right: str, top: str, legends: int) -> str:
    """An SVG's opening: its axes, the top value, the end of the x axis, and room for `legends` legend entries."""
    bottom = HEIGHT - MARGIN / 2
    return (
        f'<svg role="img" aria-label="{escape(title)}" width="{WIDTH}" height="{HEIGHT + 20 * ((legends + 3) // 4)}">'
        f'<line x1="{LEFT}" y1="{MARGIN / 2}" x2="{LEFT}" y2="{bottom}" stroke="#888"/>'
        f'<line x1="{LEFT}" y1="{bottom}" x2="{WIDTH - MARGIN}" y2="{bottom}" stroke="#888"/>'
        f'<text x="{LEFT - 4}" y="{MARGIN / 2 + 4}" text-anchor="end">{escape(top)}</text>'
        f'<text x="{LEFT - 4}" y="{bottom}" text-anchor="end">$0</text>'
        f'<text x="{WIDTH - MARGIN}" y="{bottom + 32}" text-anchor="end">{escape(right)}</text>'
    )


def _legend(i: int, name: str, colour: int | None = None) -> str:
    column, line = i % 4, i // 4
    left, top = LEFT + column * 160, HEIGHT + 10 + line * 20
    return (
        f'<rect x="{left}" y="{top}" width="14" height="4" fill="{_colour(i if colour is None else colour)}"/>'
        f'<text x="{left + 20}" y="{top + 6}">{escape(name)}</text>'
    )


def _thin(points: list[tuple[float, float]], most: int = 400) -> list[tuple[float, float]]:
    """At most about `most` points of a curve, keeping its last."""
    step = max(1, len(points) // most)
    return points[::step] + ([points[-1]] if (len(points) - 1) % step else [])


def _colour(i: int) -> str:
    return COLOURS[i % len(COLOURS)]


def usd_text(amount: float) -> str:
    return f"${amount:,.2f}" if amount >= 1 else f"${amount:.4f}"
