"""The audit as one self-contained HTML page, built from the same AuditResult as the text report and `--json`.

Charts are inline SVG and the style inline CSS; a Content-Security-Policy forbids the page any request of its own,
so it can be mailed or attached and viewed offline. Every piece of logged text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from html import escape

from ..planner.html import COLOURS, STYLE, usd_text
from ..words import plural, saving, usd
from .audit import AS_SENT, AuditResult, Group, hour_of
from .rates import LEAD, RATES
from .report import best_possible_cost, cheapest, unlisted_words, versus

HOURLY_SPAN = 48  # hours: logs spanning at most this are charted per hour, longer ones per day
MOST_BARS = 400  # periods drawn in a row, gaps included; past it only the periods with calls are drawn
MOST_ROWS = 50  # rows per breakdown table
MOST_PROBLEMS = 20  # skipped records listed
WIDTH, HEIGHT, TOP, BOTTOM, LEFT, RIGHT = 760, 260, 20, 40, 80, 50

ROW_CLASS = {AS_SENT: "paid", "oracle": "oracle"}  # the what-if rows whose bars stand out
POLICY = "default-src 'none'; style-src 'unsafe-inline'"  # nothing may load: no fonts, no images, no scripts
EXTRA_STYLE = """
section { margin-bottom: 2em; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dt { color: #555; } dd { margin: 0; font-variant-numeric: tabular-nums; }
td.bar { width: 30%; } td.bar span { display: block; height: 0.8em; background: #56b4e9; }
td.example { text-align: left; white-space: pre-wrap; overflow-wrap: anywhere; }
td:first-child { overflow-wrap: anywhere; }
table.causes th:last-child { text-align: left; }
tr.paid td.bar span { background: #000; } tr.oracle td.bar span { background: #009e73; }
"""


def audit_html(result: AuditResult, show_text: bool = False) -> str:
    """The whole page, as text."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">',
        "<title>Cache audit</title>",
        f"<style>{STYLE}{EXTRA_STYLE}</style></head><body>",
        "<h1>Cache audit</h1>",
        _summary(result),
        _over_time(result),
        _breakdown("by-model", "Spend by model", "model", result.by_model),
        _breakdown("by-identity", "Spend by IAM identity", "identity", result.by_identity),
        _waste(result),
        _causes(result, show_text),
        _unexplained(result),
        _what_if(result),
    ]
    if result.problems:
        parts.append(_problems(result))
    parts.append("</body></html>")
    return "\n".join(part for part in parts if part) + "\n"


def _section(name: str, title: str, *body: str) -> str:
    return f'<section id="{name}"><h2>{escape(title)}</h2>\n' + "\n".join(body) + "\n</section>"


def _summary(result: AuditResult) -> str:
    total = result.total
    rows = (
        ("calls audited", f"{total.calls:,}"),
        ("read the cache", f"{total.hits:,}"),
        *(
            ("hit rate" if rate is LEAD else rate.label, f"{value:.1%} ({rate.definition})")
            for rate, value in zip(RATES, total.rates.values(), strict=True)
        ),
        ("spend", usd(total.cost.total)),
        ("input", saving(total.cost.input_savings, "no caching")),
        ("tokens", _tokens(total)),
        ("not counted", f"{result.errors:,} failed, {result.unpriced:,} of unknown price"),
        ("no readable request", f"{result.unparsed:,} (counted in spend, not replayed)"),
    )
    items = "".join(f"<dt>{escape(name)}</dt><dd>{escape(value)}</dd>" for name, value in rows)
    return _section("summary", "Summary", f"<dl>{items}</dl>")


def _tokens(group: Group) -> str:
    usage = group.usage
    return (
        f"{usage.inputTokens:,} regular, {usage.cacheReadInputTokens:,} read, "
        f"{usage.cacheWriteInputTokens:,} written, {usage.outputTokens:,} output"
    )


def periods(result: AuditResult) -> tuple[str, list[tuple[str, Group]]]:
    """Per hour when the logs span at most HOURLY_SPAN hours, else per day: the unit and each period in order, gaps
    filled with empty groups (only the periods with calls once there are more than MOST_BARS)."""
    hours = sorted(result.by_hour)
    if not hours:
        return "day", []
    first, last = datetime.fromisoformat(hours[0]), datetime.fromisoformat(hours[-1])
    hourly = last - first <= timedelta(hours=HOURLY_SPAN)
    if hourly:
        unit, groups, step, start, count = (
            "hour",
            result.by_hour,
            timedelta(hours=1),
            first,
            (last - first) // timedelta(hours=1) + 1,
        )
    else:
        start = datetime.fromisoformat(first.date().isoformat())
        unit, groups, step, count = "day", result.by_day, timedelta(days=1), (last.date() - first.date()).days + 1
    if count > MOST_BARS:
        return unit, sorted(groups.items())
    filled = []
    for i in range(count):
        moment = start + step * i
        key = f"{moment.date().isoformat()} {moment.hour:02d}:00" if hourly else moment.date().isoformat()
        filled.append((key, groups.get(key, Group())))
    return unit, filled


def _over_time(result: AuditResult) -> str:
    """Spend per period as bars (left axis) and the hit rate as a line (right axis)."""
    unit, rows = periods(result)
    title = f"Hit rate and spend per {unit} (UTC)"
    if not rows:
        return _section("over-time", title, '<p class="note">No call was audited.</p>')
    top = max(float(group.cost.total) for _, group in rows) or 1.0
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / len(rows)
    bottom = HEIGHT - BOTTOM
    lines = [
        f'<svg role="img" aria-label="{escape(title)}" width="{WIDTH}" height="{HEIGHT + 24}">',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="#888"/>',
        f'<line x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}" stroke="#888"/>',
        f'<line x1="{WIDTH - RIGHT}" y1="{TOP}" x2="{WIDTH - RIGHT}" y2="{bottom}" stroke="#888"/>',
        f'<text x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end">{escape(usd_text(top))}</text>',
        f'<text x="{LEFT - 4}" y="{bottom}" text-anchor="end">$0</text>',
        f'<text x="{WIDTH - RIGHT + 4}" y="{TOP + 4}">100%</text>',
        f'<text x="{WIDTH - RIGHT + 4}" y="{bottom}">0%</text>',
        f'<text x="{LEFT}" y="{bottom + 16}">{escape(rows[0][0])}</text>',
    ]
    if len(rows) > 1:
        lines.append(f'<text x="{WIDTH - RIGHT}" y="{bottom + 16}" text-anchor="end">{escape(rows[-1][0])}</text>')
    points, bar = [], min(max(slot * 0.8, 0.5), 60)  # a thin bar still shows; a lone one is not a wall
    for i, (key, group) in enumerate(rows):
        height = plot_height * float(group.cost.total) / top
        x = LEFT + slot * i
        tip = f"{key}: {plural(group.calls, 'call')}, hit rate {group.hit_rate:.0%}, {usd(group.cost.total)}"
        tip = tip if group.calls else f"{key}: no calls"
        lines.append(
            f'<rect x="{x + (slot - bar) / 2:.1f}" y="{bottom - height:.1f}" width="{bar:.1f}" '
            f'height="{height:.1f}" fill="{COLOURS[2]}"><title>{escape(tip)}</title></rect>'
        )
        if group.calls:
            points.append(f"{x + slot / 2:.1f},{bottom - plot_height * group.hit_rate:.1f}")
    lines.append(f'<polyline fill="none" stroke="{COLOURS[6]}" stroke-width="2" points="{" ".join(points)}"/>')
    if len(points) <= 60:  # a dot per period too, so one period alone still shows its hit rate
        for point in points:
            x_text, y_text = point.split(",")
            lines.append(f'<circle cx="{x_text}" cy="{y_text}" r="4" fill="{COLOURS[6]}"/>')
    legend_y = HEIGHT + 10
    lines += [
        f'<rect x="{LEFT}" y="{legend_y}" width="14" height="8" fill="{COLOURS[2]}"/>',
        f'<text x="{LEFT + 20}" y="{legend_y + 8}">spend per {unit}</text>',
        f'<rect x="{LEFT + 160}" y="{legend_y + 2}" width="14" height="4" fill="{COLOURS[6]}"/>',
        f'<text x="{LEFT + 180}" y="{legend_y + 8}">hit rate (calls that read the cache)</text>',
        "</svg>",
    ]
    note = f"{plural(len(rows), unit)}; hover a bar for its calls, hit rate and spend."
    return _section("over-time", title, "\n".join(lines), f'<p class="note">{escape(note)}</p>')


def _name(key: str) -> str:
    """How the text report shows a key: an IAM ARN as role/name or user/name."""
    return key.split(":", 5)[-1] if key.startswith("arn:") else key


def _bar(amount: Decimal, biggest: Decimal) -> str:
    share = float(amount / biggest) if biggest else 0.0
    return f'<td class="bar"><span style="width:{100 * share:.1f}%"></span></td>'


def _table(head: Sequence[str], rows: Sequence[str], kind: str = "") -> str:
    cells = "".join(f"<th>{escape(name)}</th>" for name in head)
    return f'<table class="{kind}"><thead><tr>{cells}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _breakdown(name: str, title: str, column: str, groups: dict[str, Group]) -> str:
    ranked = sorted(groups.items(), key=lambda item: -item[1].cost.total)
    biggest = ranked[0][1].cost.total if ranked else Decimal(0)
    rows = [
        f'<tr><td title="{escape(key)}">{escape(_name(key))}</td><td>{group.calls:,}</td><td>{group.hit_rate:.0%}'
        f"</td><td>{escape(usd(group.cost.total))}</td><td>{escape(saving(group.cost.input_savings))}</td>"
        f"{_bar(group.cost.total, biggest)}</tr>"
        for key, group in ranked[:MOST_ROWS]
    ]
    if len(ranked) > MOST_ROWS:
        rows.append(f'<tr><td colspan="6">... {len(ranked) - MOST_ROWS:,} more</td></tr>')
    return _section(name, title, _table((column, "calls", "hit rate", "spend", "input", ""), rows))


def _waste(result: AuditResult) -> str:
    waste, written = result.what_if[AS_SENT], result.total.usage.cacheWriteInputTokens
    share = f" ({waste.wasted_tokens / written:.0%} of the {written:,} tokens written)" if written else ""
    text = (
        f"{waste.wasted_tokens:,} tokens were written to the cache and never read before they expired{share}; "
        f"writing them cost {usd(waste.wasted)}."
    )
    return _section("waste", "Writes never read", f"<p>{escape(text)}</p>")


def _causes(result: AuditResult, show_text: bool) -> str:
    title = "Why calls missed (the cache doctor, on the logged requests)"
    if not result.causes:
        return _section("causes", title, "<p>No call missed the cache for a reason the doctor names.</p>")
    rows = [
        f'<tr><td>{escape(cause.kind)}</td><td>{cause.calls:,}</td><td class="example">{escape(cause.example)}</td>'
        "</tr>"
        for cause in result.causes
    ]
    hidden = "Prompt text is quoted (--show-text)." if show_text else "Prompt text is hidden; --show-text quotes it."
    return _section(
        "causes",
        title,
        _table(("cause", "calls", "an example"), rows, "causes"),
        f'<p class="note">{escape(hidden)}</p>',
    )


def _unexplained(result: AuditResult) -> str:
    misses = result.what_if[AS_SENT].misses
    title = "Unexplained misses: reads the logs promised and did not get"
    said = (
        f"{misses.calls:,} of the {plural(misses.could_read, 'call')} that the logs say could read (an entry they "
        f"wrote held the same prefix, inside its TTL, within the lookback) read less: {misses.rate:.1%}. This is "
        "what the logs say of expiry jitter, cross-region routing and eviction."
    )
    if not misses.could_read:  # no call the rules promised a read: nothing to say
        return ""
    if not misses.calls:
        return _section("unexplained", title, f"<p>{escape(said)}</p>")
    ranked = sorted(misses.by_cell.items(), key=lambda item: (-item[1], item[0]))
    rows = [
        f"<tr><td>{escape(model)}</td><td>{escape(region or '-')}</td><td>{hour_of(hour)}</td><td>{count:,}</td></tr>"
        for (model, region, hour), count in ranked[:MOST_ROWS]
    ]
    examples = "".join(
        f"<li>{escape(where)}: could read {promised:,} tokens, read {read:,}</li>"
        for _, where, promised, read in misses.examples
    )
    return _section(
        "unexplained",
        title,
        f"<p>{escape(said)} Plan with it: <code>caching plan WORKLOAD --range --miss-rate {misses.rate:.3f}</code>.</p>",
        _table(("model", "region", "hour (UTC)", "misses"), rows, "unexplained"),
        f"<ul>{examples}</ul>",
    )


def _what_if(result: AuditResult) -> str:
    title = "What-if: the same traffic sent another way, against the oracle"
    replayed, total = result.replayed, result.total
    if not replayed.calls:
        text = "No call had a request body that could be replayed, so none is estimated."
        return _section("what-if", title, f"<p>{escape(text)}</p>")
    base = replayed.cost.total
    best = best_possible_cost(result)
    costs = [
        (name, spend.cost.total, f"{spend.hits / spend.calls:.0%}" if spend.calls else "-")
        for name, spend in result.what_if.items()
    ]
    costs.append(("oracle", best, "-"))
    biggest = max(cost for _, cost, _ in costs)
    rows = [
        f'<tr class="{ROW_CLASS.get(name, "")}"><td>{escape(name)}</td><td>{escape(usd(cost))}</td>'
        f"<td>{escape(versus(cost, base))}</td>"
        f"<td>{escape(rate)}</td>{_bar(cost, biggest)}</tr>"
        for name, cost, rate in costs
    ]
    options = {name: spend.cost.total for name, spend in result.what_if.items() if name != AS_SENT}
    paid_for = (
        f"You paid {usd(base)}"
        if replayed.calls == total.calls
        else f"The {replayed.calls:,} calls with a readable request (of {total.calls:,}) cost {usd(base)}"
    )
    text = f"{paid_for}; {cheapest(options, base)}; the best the rules allow is {usd(best)}."
    note = "As sent: the logged counts. The others: replayed on the rules (prefix sizes estimated)."
    return _section(
        "what-if",
        title,
        _table(("setup", "cost", "vs paid", "hit rate", ""), rows),
        f"<p>{escape(text)}</p>",
        f'<p class="note">{escape(note)}</p>',
    )


def _problems(result: AuditResult) -> str:
    items = [f"<li>{escape(problem)}</li>" for problem in result.problems[:MOST_PROBLEMS]]
    more = max(0, len(result.problems) - MOST_PROBLEMS) + result.unlisted
    if more:
        items.append(f"<li>... and {plural(more, 'more skipped record')}{escape(unlisted_words(result))}.</li>")
    return _section("skipped", "Skipped records", f"<ul>{''.join(items)}</ul>")
