"""The ways to place cache points on a request, one entry each: the one registry every surface asks.

An approach is data: the points it places, each at an anchor of the request's shape (after the tools, after the
system prompt, where the previous user message ends, where the last user message ends) with a TTL rule, and who
puts the point there with Strands 1.62 (the caller by hand, Strands' automatic strategy, or this library's hook).
`Approach.points` is the one placement: the traffic planner (general and fast), the audit's what-if and the Strands
hook all call it, and `caching/strands/approaches.py` derives the Strands setup from the same entry. Adding an
approach is one entry in `REGISTRY`.

The placements are what Strands 1.62 sends (shared/reference/strands-caching.md): automatic puts one point at the
end of the last user message (a tool result counts as a user message) and one after the system prompt; `tools_ttl`
and `cache_tools` put one after the tool specs. Nothing here imports Strands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from ..errors import LayoutError
from .places import Place
from .prompt import Block, Checkpoint
from .ttl import TTL
from .word import Word


class Anchor(Word):
    """Where in a request a point goes (a point marks the end of the blocks before it)."""

    TOOLS = "tools"  # after the tool specs
    SYSTEM = "system"  # after the system prompt
    PREVIOUS = "previous"  # where the previous user message ends: where the previous request of a turn ended
    LAST = "last"  # where the last user message ends (a tool result counts as a user message)


class TTLRule(Word):
    """How a point's TTL is chosen."""

    ASKED = "asked"  # the TTL the user chose (--ttl)
    ONE_HOUR = "1h"
    FIVE_MINUTES = "5m"
    BY_SHAPE = "by shape"  # 1h when the request ends with a tool result (a user's pause follows), else 5m

    def pick(self, asked: TTL, after_tool: bool) -> TTL:
        """The TTL this rule gives a point of a request (`after_tool`: it ends with a tool result)."""
        if self is TTLRule.ASKED:
            return asked
        if self is TTLRule.BY_SHAPE:
            return TTL.ONE_HOUR if after_tool else TTL.FIVE_MINUTES
        return TTL(self.value)


class By(Word):
    """Who puts a point in the request with Strands 1.62."""

    HAND = "by hand"  # the caller: cache_tools on the model, or a cachePoint ending the system prompt
    STRANDS = "strands"  # Strands' automatic strategy, CacheConfig(strategy="auto") (and tools_ttl for the tools)
    HOOK = "hook"  # this library's RollingCheckpoints hook, before each model call


class Rule(NamedTuple):
    """One point an approach places: where, with which TTL, and who places it with Strands."""

    anchor: Anchor
    ttl: TTLRule
    by: By


class Shape(NamedTuple):
    """Where a request's parts end, in blocks (a point at position p comes after the first p blocks)."""

    tools_end: int  # 0: no tools
    system_end: int  # equal to tools_end: no system prompt
    previous_end: int  # end of the user message before the last one (0: none)
    user_end: int  # end of the last user message
    after_tool: bool  # the last user message holds a tool result


class Point(NamedTuple):
    """A point placed on a request: its anchor, its position in blocks, and its TTL."""

    anchor: Anchor
    position: int
    ttl: TTL


@dataclass(frozen=True, eq=False)  # an entry is itself: compared and hashed by identity, which is quick
class Approach:
    """One way to cache: a name, a one-line summary, and the points it places."""

    name: str
    summary: str
    rules: tuple[Rule, ...]

    @property
    def picks_own_ttl(self) -> bool:
        """True when no point takes the asked TTL (no points at all, or TTLs of its own): one run covers it."""
        return all(rule.ttl is not TTLRule.ASKED for rule in self.rules)

    @property
    def own_ttls(self) -> tuple[TTL, ...]:
        """The TTLs an approach that picks its own may give (none for no points), longest first."""
        picked = {rule.ttl.pick(TTL.FIVE_MINUTES, after) for rule in self.rules for after in (False, True)}
        return tuple(ttl for ttl in (TTL.ONE_HOUR, TTL.FIVE_MINUTES) if ttl in picked)

    def ttls(self, asked: tuple[str, ...]) -> tuple[str, ...]:
        """The TTLs to try it with, from those `asked` (the first alone when it picks its own)."""
        return asked[:1] if self.picks_own_ttl else asked

    def label(self, ttl: str) -> str:
        """ "combined 5m", or "shape" (an approach that picks its own TTL needs none)."""
        return self.name if self.picks_own_ttl else f"{self.name} {ttl}"

    def ttl_label(self, ttl: str) -> str:
        """The TTL column of a table: the asked TTL, the one it picks, "both", or "-" (no points)."""
        if not self.picks_own_ttl:
            return ttl
        own = self.own_ttls
        return "-" if not own else str(own[0]) if len(own) == 1 else "both"

    def by(self, placer: By) -> tuple[Rule, ...]:
        """The rules whose points `placer` puts in the request with Strands."""
        return tuple(rule for rule in self.rules if rule.by is placer)

    def points(self, shape: Shape, ttl: str) -> tuple[Point, ...]:
        """Where this approach puts cache points on a request of `shape`, in prompt order, with the asked `ttl`
        where a rule takes it. An anchor with nothing new before it gets no point (no tools, no system prompt, no
        earlier user message), as Strands places none there."""
        return _placed(self, shape, ttl)

    def checkpoints(self, shape: Shape, ttl: str, blocks: Sequence[Block]) -> tuple[Checkpoint, ...]:
        """`points` as a request's checkpoints, each named by the block it follows (`blocks`: the request's)."""
        return as_checkpoints(_placed(self, shape, ttl), blocks)


def as_checkpoints(points: Sequence[Point], blocks: Sequence[Block]) -> tuple[Checkpoint, ...]:
    """Points placed on a request as its checkpoints, each named by the block it follows (`blocks`: the request's)."""
    return tuple(Checkpoint(_after(blocks[point.position - 1].place), point.position, point.ttl) for point in points)


@lru_cache(maxsize=4096)  # requests of one shape recur (across users, in the planner): the same points, placed once
def _placed(approach: Approach, shape: Shape, ttl: str) -> tuple[Point, ...]:
    asked = TTL(ttl)
    out = []
    for anchor, rule, _ in approach.rules:
        position = _position(anchor, shape)
        if position is not None:
            out.append(Point(anchor, position, rule.pick(asked, shape.after_tool)))
    return tuple(out)


@lru_cache(maxsize=8192)
def _after(place: Place) -> Place:
    """The place of a cachePoint right after the block at `place`."""
    return Place(place.section, place.index + 1, place.message)


def _position(anchor: Anchor, shape: Shape) -> int | None:
    """The position of `anchor` on a request of `shape`, or None when there is nothing there to end."""
    if anchor is Anchor.TOOLS:
        return shape.tools_end or None
    if anchor is Anchor.SYSTEM:
        return shape.system_end if shape.system_end > shape.tools_end else None
    if anchor is Anchor.PREVIOUS:
        return shape.previous_end if shape.system_end < shape.previous_end < shape.user_end else None
    return shape.user_end if shape.user_end > shape.system_end else None


_ASKED, _HAND, _AUTO, _HOOK = TTLRule.ASKED, By.HAND, By.STRANDS, By.HOOK
REGISTRY: tuple[Approach, ...] = (
    Approach("none", "no cache points at all", ()),
    Approach(
        "explicit",
        "points after the tools and the system prompt; none in the messages",
        (Rule(Anchor.TOOLS, _ASKED, _HAND), Rule(Anchor.SYSTEM, _ASKED, _HAND)),
    ),
    Approach(
        "automatic",
        "Strands' automatic strategy: the system prompt and the last user message",
        (Rule(Anchor.SYSTEM, _ASKED, _AUTO), Rule(Anchor.LAST, _ASKED, _AUTO)),
    ),
    Approach(
        "combined",
        "explicit system and tools points, plus automatic on the messages",
        (Rule(Anchor.TOOLS, _ASKED, _AUTO), Rule(Anchor.SYSTEM, _ASKED, _HAND), Rule(Anchor.LAST, _ASKED, _AUTO)),
    ),
    Approach(
        "rolling",
        "the system prompt, and where the previous and the last user message end",
        (Rule(Anchor.SYSTEM, _ASKED, _HAND), Rule(Anchor.PREVIOUS, _ASKED, _HOOK), Rule(Anchor.LAST, _ASKED, _HOOK)),
    ),
    Approach(
        "shape",
        "rolling, with 1h where a pause follows (after a tool result) and 5m where tool calls follow",
        (
            Rule(Anchor.SYSTEM, TTLRule.ONE_HOUR, _HAND),
            Rule(Anchor.PREVIOUS, TTLRule.ONE_HOUR, _HOOK),
            Rule(Anchor.LAST, TTLRule.BY_SHAPE, _HOOK),
        ),
    ),
)
BY_NAME: dict[str, Approach] = {approach.name: approach for approach in REGISTRY}
DEFAULT = "combined"  # what the lab runs when no approach is chosen: Strands' automatic strategy plus the tools
NAMES: tuple[str, ...] = tuple(BY_NAME)
HOOK_DEFAULT = "rolling"  # the approach whose message points RollingCheckpoints() places when not told another


def approach(name: str, fix: str = "choose one") -> Approach:
    """The approach called `name`, or one sentence naming it and the choices."""
    found = BY_NAME.get(name)
    if found is None:
        raise LayoutError(f"Unknown caching approach {name!r}: {fix} of {', '.join(NAMES)}.")
    return found
