"""The audit over several processes: calls partitioned by account and model (whose caches never meet), each part
audited by its own process, the results added up. The parent only reads the logs and deals the calls out."""

from __future__ import annotations

import multiprocessing
import zlib
from collections.abc import Callable, Iterable
from dataclasses import replace

from ..pricing import Cost
from ..recording import Problem
from .audit import GENERIC, Audit, AuditResult, Cause, Group
from .logs import LoggedCall
from .replay import Spend

BATCH = 500  # calls sent to a worker at a time


def _work(inbox: multiprocessing.Queue, outbox: multiprocessing.Queue, options: tuple) -> None:  # type: ignore[type-arg]
    audit = Audit(*options)
    while (batch := inbox.get()) is not None:
        for call in batch:
            audit.add(call)
    outbox.put(audit.result())


def audit_parallel(
    items: Iterable[LoggedCall | Problem],
    jobs: int,
    show_text: bool = False,
    since: float | None = None,
    until: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> AuditResult:
    """The same result as `audit`, the work spread over `jobs` processes."""
    context = multiprocessing.get_context()
    outbox: multiprocessing.Queue = context.Queue()  # type: ignore[type-arg]
    inboxes: list[multiprocessing.Queue] = [context.Queue(maxsize=8) for _ in range(jobs)]  # type: ignore[type-arg]
    workers = [
        context.Process(target=_work, args=(inbox, outbox, (show_text, since, until)), daemon=True) for inbox in inboxes
    ]
    for worker in workers:
        worker.start()
    problems: list[str] = []
    batches: list[list[LoggedCall]] = [[] for _ in range(jobs)]
    try:
        for count, item in enumerate(items, start=1):
            if isinstance(item, Problem):
                problems.append(str(item))
            else:
                part = zlib.crc32(f"{item.account}|{item.model_id}".encode()) % jobs
                batches[part].append(item)
                if len(batches[part]) >= BATCH:
                    inboxes[part].put(batches[part])
                    batches[part] = []
            if progress is not None and count % 1_000 == 0:
                progress(1_000)
        for inbox, batch in zip(inboxes, batches, strict=True):
            if batch:
                inbox.put(batch)
            inbox.put(None)
        results = [outbox.get() for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.terminate()
    total = merge(results)
    return replace(total, problems=problems + total.problems)


def merge(results: list[AuditResult]) -> AuditResult:
    """Results of disjoint parts of the traffic, added up."""

    def groups(maps: list[dict[str, Group]]) -> dict[str, Group]:
        out: dict[str, Group] = {}
        for each in maps:
            for key, group in each.items():
                _add_group(out.setdefault(key, Group()), group)
        return out

    total = Group()
    causes: dict[str, Cause] = {}
    what_if: dict[str, Spend] = {}
    for result in results:
        _add_group(total, result.total)
        for cause in result.causes:
            mine = causes.setdefault(cause.kind, Cause(cause.kind))
            mine.calls += cause.calls
            if not mine.example or (mine.example.startswith(GENERIC) and not cause.example.startswith(GENERIC)):
                mine.example = cause.example
        for name, spend in result.what_if.items():
            mine_spend = what_if.setdefault(name, Spend())
            mine_spend.calls += spend.calls
            mine_spend.hits += spend.hits
            mine_spend.wasted_tokens += spend.wasted_tokens
            mine_spend.wasted += spend.wasted
            for model_id, counts in spend.tokens.items():
                sums = mine_spend.tokens.setdefault(model_id, [0, 0, 0, 0, 0])
                for index, value in enumerate(counts):
                    sums[index] += value
    return AuditResult(
        total,
        groups([r.by_model for r in results]),
        groups([r.by_identity for r in results]),
        groups([r.by_day for r in results]),
        sorted(causes.values(), key=lambda cause: -cause.calls),
        what_if,
        sum((r.oracle for r in results[1:]), results[0].oracle) if results else Cost(),
        [problem for r in results for problem in r.problems],
        sum(r.unparsed for r in results),
        sum(r.unpriced for r in results),
        sum(r.errors for r in results),
    )


def _add_group(into: Group, other: Group) -> None:
    into.calls += other.calls
    into.hits += other.hits
    into.usage += other.usage
    into.cost += other.cost
