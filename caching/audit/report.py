"""What the audit prints: the headline, tables per model, identity and day, the miss causes, and the what-if."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.console import Group as Renderables
from rich.text import Text

from .. import limits
from ..rules.usage import Usage
from ..tables import Said, table
from ..words import plural, saving, usd, usd_places
from .audit import AS_SENT, AuditResult, Group, hour_of
from .logs import identity_names
from .rates import LEAD, RATES
from .spend import Misses, Spend

TOP = 10  # rows per breakdown
SKIPPED_SHOWN = 20  # skipped records the terminal report words (--json gives every one kept)


def _breakdown(title: str, name: str, groups: dict[str, Group]) -> Any:
    out = table(title)
    out.add_column(name, overflow="fold")
    for column in ("calls", "hit rate", "spend", "input"):
        out.add_column(column, justify="right", no_wrap=True)
    ranked = sorted(groups.items(), key=lambda item: -item[1].cost.total)
    names = identity_names(groups)  # an IAM ARN as role/name, with its account where the name is not enough
    for key, group in ranked[:TOP]:
        out.add_row(
            Text(names[key]),
            f"{group.calls:,}",
            f"{group.hit_rate:.0%}",
            usd(group.cost.total),
            saving(group.cost.input_savings),
        )
    if len(ranked) > TOP:
        out.add_row(Text(f"... {len(ranked) - TOP:,} more"), "", "", "", "")
    return out


def _rates(total: Group) -> Any:
    """The three hit rates in use, each with its definition, the lead one first."""
    out = table("Hit rate, three ways (the tables use the first)")
    out.add_column("hit rate", no_wrap=True)
    out.add_column("", justify="right", no_wrap=True)
    out.add_column("definition", overflow="fold")
    values = total.rates
    for rate in RATES:
        out.add_row(rate.label, f"{values[rate.name]:.0%}", rate.definition)
    return out


def render(result: AuditResult) -> Renderables:
    total, paid = result.total, result.total.cost
    waste = result.what_if[AS_SENT]
    of_replayed = "" if result.replayed.calls == total.calls else f" of the {result.replayed.calls:,} replayed calls"
    lines: list[Any] = [
        Text(
            f"{plural(total.calls, 'call')} audited; {total.hits:,} read the cache (hit rate {total.hit_rate:.0%}, "
            f"{LEAD.definition}). Not counted: {result.errors:,} failed, {result.unpriced:,} of unknown price; "
            f"{result.unparsed:,} had no readable request body (counted in spend, not replayed)."
            + (_unreadable() if result.unparsed else "")
        ),
        Text(
            f"Tokens: {total.usage.inputTokens:,} regular, {total.usage.cacheReadInputTokens:,} read, "
            f"{total.usage.cacheWriteInputTokens:,} written, {total.usage.outputTokens:,} output. Spend {usd(paid.total)}; "
            f"input {saving(paid.input_savings, 'no caching')}. Writes never read before they expired (from the "
            f"logged counts{of_replayed}): {waste.wasted_tokens:,} tokens, {usd(waste.wasted)}."
        ),
        _rates(total),
        _breakdown("By model", "model", result.by_model),
        _breakdown("By IAM identity", "identity", result.by_identity),
        _breakdown("By day (UTC)", "day", result.by_day),
    ]
    if result.causes:
        causes = table("Why calls missed (the cache doctor, on the logged requests)")
        causes.add_column("cause", no_wrap=True)
        causes.add_column("calls", justify="right", no_wrap=True)
        causes.add_column("an example", overflow="fold")
        for cause in result.causes:
            causes.add_row(cause.kind, f"{cause.calls:,}", Text(cause.example))
        lines.append(causes)
    replayed = result.replayed
    base = replayed.cost.total  # what the replayed calls cost as paid: every setup is set against it
    if not replayed.calls:
        lines.append(Text("What-if: no call had a request body that could be replayed, so none is estimated."))
    else:
        what_if = table(
            "What-if: the same traffic sent another way",
            "as sent: the logged counts, exact; the others replayed on the rules (prefix sizes estimated, so their "
            "costs are estimates)",
        )
        what_if.add_column("setup", no_wrap=True)
        what_if.add_column("cost", justify="right", no_wrap=True)
        what_if.add_column("vs paid", justify="right", no_wrap=True)
        what_if.add_column("hit rate", justify="right", no_wrap=True)
        best_possible = best_possible_cost(result)
        places = usd_places([*(spend.cost.total for spend in result.what_if.values()), best_possible])
        for name, spend in result.what_if.items():
            rate = f"{_lead_rate(spend):.0%}" if spend.calls else "-"
            what_if.add_row(name, usd(spend.cost.total, places), versus(spend.cost.total, base), rate)
        what_if.add_row("oracle", usd(best_possible, places), versus(best_possible, base), "-")
        lines.append(what_if)
        options = {name: spend.cost.total for name, spend in result.what_if.items() if name != AS_SENT}
        paid_for = (
            f"You paid {usd(base)}"
            if replayed.calls == total.calls
            else f"The {replayed.calls:,} calls with a readable request (of {total.calls:,}) cost {usd(base)}"
        )
        lines.append(
            Text(
                f"{paid_for}; {cheapest(options, base)}; the best the rules allow is {usd(best_possible)} (the "
                "other setups' token counts of prefixes are estimates, scaled to the logged totals)."
            )
        )
    if waste.unexplained:
        first = f" (the first: {waste.first_unexplained[1]})" if waste.first_unexplained else ""
        lines.append(
            Said(
                f"{plural(waste.unexplained, 'call')} read cached tokens that no earlier logged call had written, or "
                f"wrote past their last cache point{first}: written before these logs begin, by calls not in them, "
                "or the records disagree. Their spend is as logged; the writes never read count only logged writes."
            )
        )
    lines += _unexplained_misses(waste.misses)
    for problem in result.problems[:SKIPPED_SHOWN]:
        lines.append(Said(problem))  # each names a file: a long path stays whole on its own line, to copy
    more = max(0, len(result.problems) - SKIPPED_SHOWN) + result.unlisted
    if more:
        lines.append(Text(f"... and {plural(more, 'more skipped record')}{unlisted_words(result)}."))
    return Renderables(*lines)


def _lead_rate(spend: Spend) -> float:
    """A replay's hit rate by the lead definition."""
    return LEAD.of(spend.calls, spend.hits, sum(spend.tokens.values(), Usage()))


def best_possible_cost(result: AuditResult) -> Decimal:
    """The oracle's cost, and never more than a setup that was replayed: the oracle follows each conversation by its
    token counts, and when the logged totals of one prefix differ between calls (the estimate is scaled to each
    call's own total) it can land a token or two above a real setup, which the rules plainly allow."""
    return min([result.oracle.total, *(spend.cost.total for spend in result.what_if.values() if spend.calls)])


def dollars(amount: Decimal) -> str:
    """USD for JSON: exact, without trailing zeros (sums added in another order print the same)."""
    return format(amount.normalize(), "f")


def versus(cost: Decimal, paid: Decimal) -> str:
    """What a setup's cost means against what was paid, in words ("saves 20.3%")."""
    return saving(float(1 - cost / paid)) if paid else "-"


def cheapest(options: dict[str, Decimal], paid: Decimal) -> str:
    """The cheapest setup replayed, set against what was paid: never a dearer one named as if it were better."""
    best = min(options, key=lambda name: options[name])
    if options[best] < paid:
        return f"the cheapest setup, {best}, would have cost {usd(options[best])}, which {versus(options[best], paid)}"
    return f"no setup replayed costs less (the cheapest, {best}, would have cost {usd(options[best])})"


def _unexplained_misses(misses: Misses) -> list[Any]:
    """The calls that read less than the logs say was there: their rate, where they were, the first ones."""
    if not misses.could_read:
        return []
    said = (
        f"Unexplained misses: {misses.calls:,} of the {plural(misses.could_read, 'call')} that the logs say could "
        f"read (an entry they wrote held the same prefix, inside its TTL, within the lookback) read less: "
        f"{misses.rate:.1%}. This is what the logs say of expiry jitter, cross-region routing and eviction"
    )
    if not misses.calls:
        return [Text(said + ": none here.")]
    out: list[Any] = [Text(f"{said}; plan with it: caching plan WORKLOAD --range --miss-rate {misses.rate:.3f}.")]
    cells = table("Where they missed")
    for name in ("model", "region", "hour (UTC)"):
        cells.add_column(name, overflow="fold")
    cells.add_column("misses", justify="right", no_wrap=True)
    ranked = sorted(misses.by_cell.items(), key=lambda item: (-item[1], item[0]))
    for (model, region, hour), count in ranked[:TOP]:
        cells.add_row(model, region or "-", hour_of(hour), f"{count:,}")
    if len(ranked) > TOP:
        cells.add_row(f"... {len(ranked) - TOP:,} more", "", "", "")
    out.append(cells)
    first = misses.examples[0]
    out.append(Said(f"The first: {first[1]}, which could read {first[2]:,} tokens and read {first[3]:,}."))
    return out


def misses_json(misses: Misses) -> dict[str, Any]:
    """The unexplained misses for programs."""
    ranked = sorted(misses.by_cell.items(), key=lambda item: (-item[1], item[0]))
    return {
        "calls": misses.calls,
        "could_read": misses.could_read,
        "rate": round(misses.rate, 6),
        "by": [
            {"model": model, "region": region, "hour": hour_of(hour), "calls": count}
            for (model, region, hour), count in ranked
        ],
        "examples": [
            {"where": where, "could_read": promised, "read": read} for _, where, promised, read in misses.examples
        ],
    }


def as_json(result: AuditResult) -> dict[str, Any]:
    def group(g: Group) -> dict[str, Any]:
        return {
            "calls": g.calls,
            "hits": g.hits,
            "hit_rate": round(g.hit_rate, 6),
            "hit_rates": {name: round(value, 6) for name, value in g.rates.items()},
            "tokens": {
                "regular": g.usage.inputTokens,
                "read": g.usage.cacheReadInputTokens,
                "written": g.usage.cacheWriteInputTokens,
                "output": g.usage.outputTokens,
            },
            "spend": dollars(g.cost.total),
            "input_savings": round(g.cost.input_savings, 6),
        }

    as_sent = result.what_if[AS_SENT]
    return {
        "total": group(result.total),
        "hit_rate_definitions": {"lead": LEAD.name, "definitions": {rate.name: rate.definition for rate in RATES}},
        "wasted_writes": {"tokens": as_sent.wasted_tokens, "spend": dollars(as_sent.wasted)},
        "unexplained_reads": {
            "calls": as_sent.unexplained,
            "first": as_sent.first_unexplained[1] if as_sent.first_unexplained else None,
        },
        "by_model": {k: group(v) for k, v in result.by_model.items()},
        "by_identity": {k: group(v) for k, v in result.by_identity.items()},
        "by_day": {k: group(v) for k, v in result.by_day.items()},
        "miss_causes": [{"kind": c.kind, "calls": c.calls, "example": c.example} for c in result.causes],
        "what_if": {
            **{
                name: {
                    "spend": dollars(s.cost.total),
                    "calls": s.calls,
                    "hits": s.hits,
                    "hit_rate": round(_lead_rate(s), 6),
                    "estimated": name != AS_SENT,
                }
                for name, s in result.what_if.items()
            },
            "oracle": {"spend": dollars(best_possible_cost(result)), "estimated": True},
        },
        "what_if_base": {"calls": result.replayed.calls, "paid": dollars(result.replayed.cost.total)},
        "unexplained_misses": misses_json(as_sent.misses),
        "not_counted": {"failed": result.errors, "unpriced": result.unpriced, "unparsed": result.unparsed},
        "out_of_order": {
            "calls": result.out_of_order.calls,
            "largest_seconds": round(result.out_of_order.largest, 3),
            "first": result.out_of_order.first or None,
        },
        "skipped_records": result.problems,
        "skipped_records_not_listed": result.unlisted,
    }


def unlisted_words(result: AuditResult) -> str:
    """Why some skipped records are counted but not worded: the limit, named (empty when none are)."""
    if not result.unlisted:
        return ""
    return (
        f" ({result.unlisted:,} of them past the first {limits.MOST_SKIPPED_LISTED:,} kept in words, "
        f"{limits.named('MOST_SKIPPED_LISTED')})"
    )


def _unreadable() -> str:
    """Why a request body cannot be read: said when some could not be."""
    return (
        " A body Bedrock stored apart is read when it can be fetched, is JSON, and is at most "
        f"{limits.LARGEST_BODY:,} bytes ({limits.named('LARGEST_BODY')})."
    )
