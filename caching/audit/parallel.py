"""The audit over several processes: calls partitioned by account and model (whose caches never meet), each part
audited by its own process, the results added up. The parent only reads the lines and deals them out (undecoded,
when the account and model can be read off the line)."""

from __future__ import annotations

import multiprocessing
import queue
import re
import zlib
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from .. import limits
from ..check.recording import Problem
from ..errors import CachingError
from ..pricing import Cost
from .audit import GENERIC, Audit, AuditResult, Cause, Group, fewer_collections
from .counts import Disagreeing
from .logs import LoggedCall, Window, model_of
from .replay import Spend
from .sources import Line, decode

BATCH = 500  # records sent to a worker at a time, at most
BATCH_CHARACTERS = 2_000_000  # and at most about this much record text: large requests make small batches
DECODED_SIZE = 10_000  # what a record decoded here counts for
QUEUED_BATCHES = 8  # batches waiting for each worker: with the above, a worker's queue holds some 16 MB of text
WAIT_SECONDS = 1.0  # how often a wait for a worker checks that it is still running
HEAD_KEY = re.compile(r'"(accountId|modelId)"\s*:\s*"([^"\\]*)"')
BODIES = re.compile(r'"(?:input|output)"\s*:')


def part_of(line: Line) -> str | None:
    """The account and model of a record, read from its text before the bodies (where AWS writes them), so the line
    need not be decoded to be dealt out; None when they are not plainly there (then the line is decoded here)."""
    bodies = BODIES.search(line.text)
    found = HEAD_KEY.findall(line.text, 0, bodies.start() if bodies else len(line.text))
    if sorted(name for name, _ in found) != ["accountId", "modelId"]:
        return None
    values = dict(found)
    return f"{values['accountId']}|{model_of(values['modelId'])}"


def _work(inbox: multiprocessing.Queue, outbox: multiprocessing.Queue, options: tuple) -> None:  # type: ignore[type-arg]
    """Audit the calls of some accounts and models; each skipped record is told with its place in the input."""
    audit = Audit(*options)
    problems: list[tuple[int, str]] = []
    try:
        with fewer_collections():
            while (batch := inbox.get()) is not None:
                for ordinal, item in batch:
                    before = len(audit.problems)
                    audit.add(item)
                    if len(audit.problems) != before:
                        problems.extend((ordinal, problem) for problem in audit.problems[before:])
        outbox.put((replace(audit.result(), problems=[]), problems))
    except KeyboardInterrupt:  # Ctrl-C reaches every process: the parent says so, once
        return
    except Exception as exc:  # a bug: told to the parent, which would otherwise wait for ever
        outbox.put(f"{type(exc).__name__}: {exc}")


class WorkerFailed(CachingError):
    """A worker process stopped before it finished its part."""


def _put(inbox: multiprocessing.Queue, worker: Any, batch: list | None) -> None:  # type: ignore[type-arg]
    """Hand a batch to a worker, waiting while its inbox is full, unless the worker has stopped."""
    while True:
        try:
            inbox.put(batch, timeout=WAIT_SECONDS)
            return
        except queue.Full:
            if not worker.is_alive():
                raise WorkerFailed(
                    f"a worker process stopped (exit code {worker.exitcode}); run again with --jobs 1."
                ) from None


def _answers(outbox: multiprocessing.Queue, workers: list[Any]) -> list[tuple[AuditResult, list[tuple[int, str]]]]:  # type: ignore[type-arg]
    """Each worker's result, or WorkerFailed when one failed or stopped without a word."""
    answers: list[tuple[AuditResult, list[tuple[int, str]]]] = []
    while len(answers) < len(workers):
        try:
            answer = outbox.get(timeout=WAIT_SECONDS)
        except queue.Empty:
            if sum(worker.is_alive() for worker in workers) < len(workers) - len(answers):
                raise WorkerFailed("a worker process stopped before it finished; run again with --jobs 1.") from None
            continue
        if isinstance(answer, str):
            raise WorkerFailed(f"a worker process failed ({answer}); run again with --jobs 1.")
        answers.append(answer)
    return answers


def audit_parallel(
    items: Iterable[LoggedCall | Problem | Line],
    jobs: int,
    show_text: bool = False,
    since: float | None = None,
    until: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> AuditResult:
    """The same result as `audit`, the work spread over `jobs` processes. Record lines are dealt out undecoded."""
    context = multiprocessing.get_context()
    outbox: multiprocessing.Queue = context.Queue()  # type: ignore[type-arg]
    inboxes: list[multiprocessing.Queue] = [context.Queue(maxsize=QUEUED_BATCHES) for _ in range(jobs)]  # type: ignore[type-arg]
    workers = [
        context.Process(target=_work, args=(inbox, outbox, (show_text, since, until)), daemon=True) for inbox in inboxes
    ]
    for worker in workers:
        worker.start()
    problems: list[tuple[int, str]] = []  # the first MOST_SKIPPED_LISTED skipped here (all are counted)
    skipped = 0
    batches: list[list[tuple[int, LoggedCall | Line]]] = [[] for _ in range(jobs)]

    sizes = [0] * jobs  # characters of record text in each batch

    def deal(ordinal: int, item: LoggedCall | Line, part: str) -> None:
        index = zlib.crc32(part.encode()) % jobs
        batches[index].append((ordinal, item))
        sizes[index] += len(item.text) if isinstance(item, Line) else DECODED_SIZE
        if len(batches[index]) >= BATCH or sizes[index] >= BATCH_CHARACTERS:
            _put(inboxes[index], workers[index], batches[index])
            batches[index], sizes[index] = [], 0

    try:
        for ordinal, item in enumerate(items, start=1):
            part = part_of(item) if isinstance(item, Line) else None
            if isinstance(item, Line) and part is not None:
                deal(ordinal, item, part)
            else:
                for each in decode(item) if isinstance(item, Line) else (item,):
                    if isinstance(each, Problem):
                        skipped += 1
                        if len(problems) < limits.MOST_SKIPPED_LISTED:
                            problems.append((ordinal, str(each)))
                    else:
                        deal(ordinal, each, f"{each.account}|{each.model_id}")
            if progress is not None and ordinal % 1_000 == 0:
                progress(1_000)
        for inbox, worker, batch in zip(inboxes, workers, batches, strict=True):
            if batch:
                _put(inbox, worker, batch)
            _put(inbox, worker, None)
        answers = _answers(outbox, workers)
    except BaseException:  # Ctrl-C or a failed worker: stop the others, and leave what is queued unsent
        for inbox, worker in zip(inboxes, workers, strict=True):
            inbox.cancel_join_thread()
            worker.terminate()
        raise
    finally:
        for worker in workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.terminate()
    total = merge([result for result, _ in answers])
    # Each process words its first skipped records: together they hold the first of all, in the input's order.
    everything = sorted(problems + [problem for _, told in answers for problem in told], key=lambda p: p[0])
    listed = [problem for _, problem in everything[: limits.MOST_SKIPPED_LISTED]]
    return replace(total, problems=listed + total.disagreeing.told(), skipped=total.skipped + skipped)


def merge(results: list[AuditResult]) -> AuditResult:
    """Results of disjoint parts of the traffic, added up."""

    def groups(maps: list[dict[str, Group]]) -> dict[str, Group]:
        out: dict[str, Group] = {}
        for each in maps:
            for key, group in each.items():
                out.setdefault(key, Group()).absorb(group)
        return out

    total, replayed = Group(), Group()
    outside, disagreeing = Window(), Disagreeing()
    causes: dict[str, Cause] = {}
    what_if: dict[str, Spend] = {}
    for result in results:
        total.absorb(result.total)
        replayed.absorb(result.replayed)
        outside.absorb(result.outside)
        disagreeing.absorb(result.disagreeing)
        for cause in result.causes:
            mine = causes.setdefault(cause.kind, Cause(cause.kind))
            mine.calls += cause.calls
            if not mine.example or (mine.example.startswith(GENERIC) and not cause.example.startswith(GENERIC)):
                mine.example = cause.example
        for name, spend in result.what_if.items():
            what_if.setdefault(name, Spend()).absorb(spend)
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
        replayed,
        outside,
        disagreeing,
        groups([r.by_hour for r in results]),
        sum(r.skipped for r in results),
    )
