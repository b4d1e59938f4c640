"""The audit: every logged call read once, in order, into totals, the doctor's miss causes, and the replays.

Calls stream through: only totals, the doctor's recent requests and the replays' caches are kept, so memory stays
bounded however many records there are.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .. import limits
from ..check.doctor import Doctor, Linearized
from ..check.recording import Problem
from ..errors import PricingError
from ..pricing import Cost, cost_of
from ..rules import Catalog, Kind
from ..rules.approaches import REGISTRY
from ..rules.memo import Linearizer
from ..rules.usage import Usage
from .collector import fewer_collections, now_and_then
from .counts import Disagreeing
from .logs import LoggedCall, OutOfOrder, Window
from .oracle import Oracle
from .prepare import Prepared, prepare
from .rates import LEAD, rates
from .replay import Replays
from .sources import Line, decode
from .spend import Spend

QUOTED = re.compile(r"'[^']*'")
GENERIC = ("first request like this", "the conversation moved on")
AS_SENT = "as sent"
# The what-if: the cache points as sent, then each approach and TTL in their place (once if it picks its own TTL).
SETTINGS: dict[str, tuple[str | None, str]] = {AS_SENT: (None, "5m")} | {
    approach.label(ttl): (approach.name, ttl) for approach in REGISTRY for ttl in approach.ttls(("5m", "1h"))
}


@dataclass
class Group:
    """Totals of some calls: how many, how many read the cache, their usage and cost."""

    calls: int = 0
    hits: int = 0
    usage: Usage = field(default_factory=Usage)
    cost: Cost = field(default_factory=Cost)

    def add(self, usage: Usage, cost: Cost) -> None:
        self.calls += 1
        self.hits += usage.cacheReadInputTokens > 0
        self.usage += usage
        self.cost += cost

    def absorb(self, other: Group) -> None:
        """Add another group's calls to this one."""
        self.calls += other.calls
        self.hits += other.hits
        self.usage += other.usage
        self.cost += other.cost

    @property
    def hit_rate(self) -> float:
        """The lead hit rate (rates.LEAD: calls that read / all calls)."""
        return LEAD.of(self.calls, self.hits, self.usage)

    @property
    def rates(self) -> dict[str, float]:
        """Every hit rate in use (rates.RATES), by name."""
        return rates(self.calls, self.hits, self.usage)


@dataclass
class Cause:
    """One kind of miss: how many calls, and one example of the doctor's words."""

    kind: str
    calls: int = 0
    example: str = ""
    first: tuple[int, int] = (0, 0)  # where in the input its first call and its example are (see Audit.position)
    example_at: tuple[int, int] = (0, 0)


@dataclass
class AuditResult:
    total: Group
    by_model: dict[str, Group]
    by_identity: dict[str, Group]
    by_day: dict[str, Group]
    causes: list[Cause]
    what_if: dict[str, Spend]
    oracle: Cost
    problems: list[str]
    unparsed: int
    unpriced: int
    errors: int
    replayed: Group = field(default_factory=Group)  # the calls the what-if replays, with what they cost as paid
    outside: Window = field(default_factory=Window)  # the calls left out by --since and --until
    disagreeing: Disagreeing = field(default_factory=Disagreeing)  # records whose cache counts disagree
    by_hour: dict[str, Group] = field(default_factory=dict)  # "2026-11-30 09:00" (UTC): the page's finer timeline
    skipped: int = 0  # records skipped, of which `problems` words the first MOST_SKIPPED_LISTED
    out_of_order: OutOfOrder = field(default_factory=OutOfOrder)  # calls logged well after later ones
    # Records a cluster audited twice, the window before theirs carried on through them where their window's warm-up
    # did not rebuild what the audit keeps (see windows.py): what it cost, not what it found, so in no report.
    rejoined: int = 0

    @property
    def unlisted(self) -> int:
        """Skipped records counted but not worded in `problems` (past MOST_SKIPPED_LISTED)."""
        return self.skipped - (len(self.problems) - len(self.disagreeing.told()) - len(self.out_of_order.told()))


class Audit:
    """Feed it calls (`add`) in the order they were made; `result()` gives the report's numbers."""

    def __init__(
        self,
        show_text: bool = False,
        since: float | None = None,
        until: float | None = None,
        oracle: Oracle | None = None,
    ) -> None:
        self.show_text, self.since, self.until = show_text, since, until
        self.cells: dict[tuple[str, str, int, bool], Group] = {}  # model, identity, hour since the epoch, replayed
        self.doctors: dict[str, Doctor] = {}
        self.causes: dict[str, Cause] = {}
        self.replays = Replays(SETTINGS)
        self.oracle = oracle if oracle is not None else Oracle()
        self.problems: list[str] = []  # the first MOST_SKIPPED_LISTED skipped records, in words
        self.skipped = 0
        self.unparsed = self.unpriced = self.errors = 0
        self.outside, self.disagreeing, self.out_of_order = Window(), Disagreeing(), OutOfOrder()
        self.catalog = Catalog()
        self.linearizer = Linearizer()
        self.position = (0, 0)  # where the call being added is in the input, when it is audited in parts (parallel)

    def skip(self, problem: Problem) -> None:
        """Count a skipped record; word it while fewer than MOST_SKIPPED_LISTED are (memory stays bounded)."""
        self.skipped += 1
        if len(self.problems) < limits.MOST_SKIPPED_LISTED:
            self.problems.append(str(problem))

    def add(self, item: LoggedCall | Problem | Line, counted: bool = True) -> None:
        """Audit one record; `counted` False: a call seen only to rebuild what the audit keeps between calls (a
        window's warm-up, see windows.py): the doctor's and the replays' caches and the out-of-order clock."""
        now_and_then()
        for call, cost, prepared in self.admitted(item, counted):
            if not counted:
                self.out_of_order.saw(call)
                if call.request is not None:
                    self._diagnose(call, call.usage, prepared, counted=False)
                if prepared is not None:
                    self.replays.add(call, prepared, counted=False)
                continue
            self.out_of_order.add(call)
            usage = call.usage
            if call.request is not None:
                self._diagnose(call, usage, prepared)
            # One group per model, identity, hour and whether replayed; the report's groups are sums of these.
            key = (call.model_id, call.agent, int(call.at // 3_600), prepared is not None)
            cell = self.cells.get(key)
            if cell is None:
                cell = self.cells[key] = Group()
            cell.add(usage, cost)
            if prepared is not None:
                self.replays.add(call, prepared)
                self.oracle.add(call, prepared)

    def state(self, now: float) -> str:
        """What the audit keeps between calls, at `now`, as a digest: two audits whose states agree count the calls
        after alike (see windows.py). The doctors' caches and remembered requests, the replays' caches, the latest
        call of each account and model."""
        doctors = sorted((account, doctor.state(now)) for account, doctor in self.doctors.items())
        kept = (doctors, sorted(self.replays.state(now).items()), sorted(self.out_of_order.latest.items()))
        return hashlib.sha256(repr(kept).encode()).hexdigest()

    def admitted(
        self, item: LoggedCall | Problem | Line, counted: bool = True
    ) -> Iterator[tuple[LoggedCall, Cost, Prepared | None]]:
        """The calls of an item that the audit counts, each with its cost and, when it is replayed, prepared; what
        is left out is counted here (skipped, outside --since/--until, failed, unpriced, no body) if `counted`."""
        if isinstance(item, Line):  # a record line not yet decoded (see sources.read)
            for each in decode(item):
                yield from self.admitted(each, counted)
            return
        if isinstance(item, Problem):
            if counted:
                self.skip(item)
            return
        call = item
        if (self.since is not None and call.at < self.since) or (self.until is not None and call.at >= self.until):
            if counted:
                self.outside.add(call.at)
            return
        if call.disagreement and counted:
            self.disagreeing.add(f"{call.where}: {call.disagreement}", self.position)
        if call.error:
            self.errors += counted
            return
        try:
            cost = cost_of(call.usage, call.model_id)
        except PricingError:
            self.unpriced += counted
            return
        if call.request is None:
            self.unparsed += counted  # a body that could not be read is counted, never guessed
            yield call, cost, None
            return
        yield call, cost, prepare(call, call.usage, self.catalog, self.linearizer)

    def _diagnose(self, call: LoggedCall, usage: Usage, prepared: Prepared | None, counted: bool = True) -> None:
        doctor = self.doctors.get(call.account)
        if doctor is None:
            doctor = self.doctors[call.account] = Doctor(self.catalog)
        linearized = None
        if prepared is not None:
            linearized = Linearized(prepared.request, prepared.estimate, prepared.digests, usage, prepared.prompt)
        try:
            diagnosis = doctor.observe(call, linearized)
        except (TypeError, KeyError, AttributeError, ValueError):
            return
        if diagnosis.kind == Kind.HIT or not counted:
            return
        cause = self.causes.setdefault(diagnosis.kind, Cause(str(diagnosis.kind), first=self.position))
        cause.calls += 1
        words = diagnosis.message if self.show_text else QUOTED.sub(_hidden, diagnosis.message)
        if not cause.example or (cause.example.startswith(GENERIC) and not words.startswith(GENERIC)):
            cause.example, cause.example_at = words, self.position  # the first that says what changed, if any does

    def result(self) -> AuditResult:
        what_if = self.replays.finish()
        causes = sorted(self.causes.values(), key=lambda cause: -cause.calls)
        total, replayed = Group(), Group()
        by_model: dict[str, Group] = {}
        by_identity: dict[str, Group] = {}
        by_day: dict[str, Group] = {}
        by_hour: dict[str, Group] = {}
        for (model_id, identity, hour_number, was_replayed), cell in self.cells.items():
            hour = hour_of(hour_number)
            for groups, key in ((by_model, model_id), (by_identity, identity), (by_day, hour[:10]), (by_hour, hour)):
                groups.setdefault(key, Group()).absorb(cell)
            total.absorb(cell)
            if was_replayed:
                replayed.absorb(cell)
        # In key order, not the order calls came in: the same whichever worker audited which part (see parallel).
        by_model, by_identity, by_day, by_hour = (
            dict(sorted(g.items())) for g in (by_model, by_identity, by_day, by_hour)
        )
        return AuditResult(
            total,
            by_model,
            by_identity,
            by_day,
            causes,
            what_if,
            self.oracle.cost(),
            self.problems + self.disagreeing.told() + self.out_of_order.told(),
            self.unparsed,
            self.unpriced,
            self.errors,
            replayed,
            self.outside,
            self.disagreeing,
            by_hour,
            self.skipped,
            self.out_of_order,
        )


def merge(results: list[AuditResult]) -> AuditResult:
    """Results of disjoint parts of the traffic, added up as one audit of all of it would have found them."""

    def groups(maps: list[dict[str, Group]]) -> dict[str, Group]:
        out: dict[str, Group] = {}
        for each in maps:
            for key, group in each.items():
                out.setdefault(key, Group()).absorb(group)
        return dict(sorted(out.items()))  # in key order, as one audit gives them

    total, replayed = Group(), Group()
    outside, disagreeing, out_of_order = Window(), Disagreeing(), OutOfOrder()
    causes: dict[str, Cause] = {}
    what_if: dict[str, Spend] = {}
    for result in results:
        total.absorb(result.total)
        replayed.absorb(result.replayed)
        outside.absorb(result.outside)
        disagreeing.absorb(result.disagreeing)
        out_of_order.absorb(result.out_of_order)
        for cause in result.causes:
            mine = causes.setdefault(cause.kind, Cause(cause.kind, first=cause.first))
            mine.calls += cause.calls
            mine.first = min(mine.first, cause.first)
            if cause.example and (not mine.example or _told_first(cause) < _told_first(mine)):
                mine.example, mine.example_at = cause.example, cause.example_at
        for name, spend in result.what_if.items():
            what_if.setdefault(name, Spend()).absorb(spend)
    return AuditResult(
        total,
        groups([r.by_model for r in results]),
        groups([r.by_identity for r in results]),
        groups([r.by_day for r in results]),
        sorted(causes.values(), key=lambda cause: (-cause.calls, cause.first)),  # as one audit orders them
        what_if,
        sum((r.oracle for r in results[1:]), results[0].oracle) if results else Cost(),
        [problem for r in results for problem in r.problems],
        sum(r.unparsed for r in results),
        sum(r.unpriced for r in results),
        sum(r.errors for r in results),
        replayed,
        outside,
        disagreeing,
        groups([r.by_hour for r in results]),
        sum(r.skipped for r in results),
        out_of_order,
    )


def _told_first(cause: Cause) -> tuple[bool, tuple[int, int]]:
    """One audit keeps the first example that says what changed, else the first: the earliest such, over parts."""
    return cause.example.startswith(GENERIC), cause.example_at


def hour_of(number: int) -> str:
    """Hour `number` since the epoch as "2026-11-30 09:00" (UTC); its first ten characters are the day."""
    moment = datetime.fromtimestamp(number * 3_600, timezone.utc)
    return f"{moment.date().isoformat()} {moment.hour:02d}:00"  # isoformat: a four-digit year even before 1000


def _hidden(match: re.Match[str]) -> str:
    return f"<{len(match.group()) - 2} characters>"


def audit(
    items: Iterable[LoggedCall | Problem | Line],
    show_text: bool = False,
    since: float | None = None,
    until: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> AuditResult:
    """Audit every call; `progress(n)` is told after each thousand."""
    done = Audit(show_text, since, until)
    with fewer_collections():
        for count, item in enumerate(items, start=1):
            done.add(item)
            if progress is not None and count % 1_000 == 0:
                progress(1_000)
    return done.result()
