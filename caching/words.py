"""How the project says numbers, the same on every screen: dollars, token counts (marked when estimated offline),
plurals, and money saved or lost in words."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal


def usd(amount: Decimal, places: int | None = None) -> str:
    """Dollars: to the micro-dollar below $1 (single calls cost fractions of a cent), to the cent from $1; or to
    `places` decimals (a column's, from `usd_places`)."""
    if places is None:
        places = 6 if abs(amount) < 1 else 2
    return f"${amount:,.{places}f}"


def usd_places(amounts: Iterable[Decimal]) -> int:
    """One precision for a column of dollars, so its amounts line up and read alike: cents when every amount is
    zero or at least ten cents, else micro-dollars."""
    return 2 if all(not amount or abs(amount) >= Decimal("0.1") for amount in amounts) else 6


ESTIMATE = "~"
ESTIMATE_LEGEND = (
    "~ an estimate made offline (prose about 1.11 x characters / 4, code and JSON more); live runs show Bedrock's "
    "own counts."
)


def tokens(count: int, estimated: bool = False) -> str:
    """A token count, marked when it is an offline estimate (zero is zero either way)."""
    return f"{ESTIMATE if estimated and count else ''}{count:,}"


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def rough_duration(seconds: float) -> str:
    """A length of time in the unit that reads best, rounded: "4 min", "3 h", "12 days"."""
    for unit, size in (("days", 86_400), ("h", 3_600)):
        if seconds >= 2 * size:
            return f"{seconds / size:,.0f} {unit}"
    return f"{seconds / 60:,.0f} min"


def saving(fraction: float, than: str | None = None, amount: str | None = None) -> str:
    """Money in words, the same on every screen: `fraction` is the share saved (negative when it costs more).

    Alone, for a table cell: "saves 35.7%", "costs 2.1% more" or "same cost" (under 0.05% either way). With `than`
    (what it is set against, like "no caching"), a phrase for a sentence: "saves 35.7% against no caching",
    "costs 2.1% more than no caching", "costs the same as no caching". An `amount` (the dollars saved or added) goes
    beside the share, so it cannot be read as the cost of what it is set against: "saves 35.7% ($0.021122) against
    no caching".
    """
    percent = round(abs(fraction) * 100, 1)
    if percent == 0:
        return f"costs the same as {than}" if than else "same cost"
    share = f"{percent:.1f}%" + (f" ({amount})" if amount else "")
    if fraction > 0:
        return f"saves {share}" + (f" against {than}" if than else "")
    return f"costs {share} more" + (f" than {than}" if than else "")
