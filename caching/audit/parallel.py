"""The audit on Dask: `--jobs N` starts a local cluster of N worker processes, `--scheduler ADDRESS` uses one a team
already runs. Logs the workers can read themselves, in files of an hour or in one large file of one busy account
and model, are audited in time windows, one per worker, joined here in order (`_by_window`; file_windows.py runs on
the workers); one large file, or several local ones without their hour on a local cluster, of accounts and models
that spread the work evenly, in shares the same way: each worker reads them all and audits those dealt to it, with
nothing to join. Other logs are partitioned by account and model, whose caches never meet (`_by_partition`): each
piece of the input (an S3 object, which a worker reads itself; or a run of a local file's lines, read here) is split
by partition on a worker; each partition's audit then takes the pieces in input order on one worker. The results
are added up here. Only this module imports Dask, so a plain audit never loads it."""

from __future__ import annotations

import logging
import operator
import socket
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from typing import Any

import dask
from distributed import Client, Future, LocalCluster, as_completed, wait
from distributed.comm.addressing import get_address_host_port

from .. import limits
from ..check.recording import Problem
from ..errors import CachingError
from ..pricing import Cost
from ..words import plural
from . import file_windows, windows
from .audit import Audit, AuditResult, merge
from .collector import fewer_collections
from .file_windows import part_of, slice_of
from .logs import LoggedCall
from .oracle import Oracle
from .s3client import S3Access
from .sources import Line, LogFile, decode, local_file, log_files, refuse_special, s3_object

Position = tuple[int, int]  # (piece, item in the piece): the input order, whichever worker audits what
PIECE_CHARACTERS = 16_000_000  # a local file goes to the cluster in runs of about this much record text
AHEAD = 3  # pieces per worker read and split ahead of the audits: bounds what the cluster holds at once
STOP_SECONDS = 0.5  # on Ctrl-C, how long a worker of the local cluster may take to stop before it is killed
SCHEDULER_SECONDS = 10.0  # the wait for --scheduler to answer, and for its first worker


class ClusterError(CachingError):
    """A Dask scheduler that cannot be reached, or has no worker."""


@dataclass(frozen=True)
class S3Object:
    """A piece a worker reads itself."""

    bucket: str
    key: str

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass
class Split:
    """One piece split by partition: the items of each, the skipped records, and the calls each partition holds."""

    slices: list[list[tuple[Position, LoggedCall | Line]]]
    problems: list[tuple[Position, str]]  # the first MOST_SKIPPED_LISTED skipped records, in words
    parts: list[dict[str, int]]  # records of each account and model, per slice
    skipped: int = 0


def _split(piece: S3Object | list[Any], index: int, slices: int, access: S3Access | None) -> Split:
    """Runs on a worker: read the piece (an S3 object with the caller's access) and deal its records by partition."""
    if isinstance(piece, S3Object):
        if access is None:
            raise CachingError("No S3 access was sent with an S3 object.")
        items: Iterable[Any] = s3_object(piece.bucket, piece.key, access.client(), defer=True)
    else:
        items = piece
    split = Split([[] for _ in range(slices)], [], [{} for _ in range(slices)])
    for number, item in enumerate(items):
        position = (index, number)
        part = part_of(item) if isinstance(item, Line) else None
        for each in decode(item) if isinstance(item, Line) and part is None else (item,):
            if isinstance(each, Problem):
                split.skipped += 1
                if len(split.problems) < limits.MOST_SKIPPED_LISTED:
                    split.problems.append((position, str(each)))
                continue
            name = part or f"{each.account}|{each.model_id}"
            chosen = slice_of(name, slices)
            split.slices[chosen].append((position, each))
            split.parts[chosen][name] = split.parts[chosen].get(name, 0) + 1
    return split


def _summary(split: Split) -> tuple[list[tuple[Position, str]], list[dict[str, int]], int]:
    return split.problems, split.parts, split.skipped


class _State:
    """One partition's audit between pieces, with its skipped records and where in the input each was."""

    def __init__(self, options: tuple[bool, float | None, float | None]) -> None:
        self.audit = Audit(*options)
        self.problems: list[tuple[Position, str]] = []


def _fold(state: _State | None, split: Split, chosen: int, options: tuple[bool, float | None, float | None]) -> _State:
    """Runs on a worker: the partition's share of the next piece added to its audit (the state is changed in place and
    handed on). The whole split is fetched, not a task's slice of it: a small task would queue behind a long audit on
    the split's worker, and die with it."""
    state = state or _State(options)
    audit = state.audit
    with fewer_collections():
        for position, item in split.slices[chosen]:
            before = len(audit.problems)
            audit.position = position
            audit.add(item)
            if len(audit.problems) != before:
                state.problems.extend((position, problem) for problem in audit.problems[before:])
    return state


def _finish(state: _State) -> tuple[AuditResult, list[tuple[Position, str]]]:
    return replace(state.audit.result(), problems=[]), state.problems


def pieces(listed: list[LogFile | Problem]) -> Iterator[S3Object | list[Any]]:
    """The input in time order (as sources.log_files lists it), as pieces: each S3 object, or a run of the records
    of local files (about PIECE_CHARACTERS) from one of the paths given, so a piece that fails loses no other path's."""
    run: list[Any] = []
    size, given = 0, 0
    for found in listed:
        where = None if isinstance(found, Problem) else found.s3
        if run and (where is not None or isinstance(found, Problem) or found.given != given):
            yield run
            run, size = [], 0
        if isinstance(found, Problem):
            yield [found]
        elif where is not None:
            yield S3Object(*where)
        else:
            given = found.given
            for item in local_file(found, defer=True):
                run.append(item)
                size += len(item.text) if isinstance(item, Line) else 1_000
                if size >= PIECE_CHARACTERS:
                    yield run
                    run, size = [], 0
    if run:
        yield run


@contextmanager
def cluster(jobs: int | None, scheduler: str | None) -> Iterator[Client]:
    """A client of the cluster at `scheduler`, or of a local one of `jobs` worker processes (closed on the way out,
    Ctrl-C included); Dask's own logging is kept quiet, its failures are told in the report."""
    quiet = logging.getLogger("distributed")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        if scheduler is not None:
            try:
                # Knock first: a Client that cannot connect still tries to close itself at exit, and says so.
                socket.create_connection(get_address_host_port(scheduler), timeout=SCHEDULER_SECONDS).close()
                client = Client(scheduler, timeout=SCHEDULER_SECONDS, set_as_default=False)
            except (OSError, ValueError, TypeError) as exc:
                raise ClusterError(
                    f"Cannot reach the Dask scheduler at {scheduler!r} ({str(exc)[:80]}): start one with "
                    "`dask scheduler` and give the address it prints (tcp://host:8786), or drop --scheduler."
                ) from None
            with client:
                try:
                    client.wait_for_workers(1, timeout=SCHEDULER_SECONDS)
                except (OSError, TimeoutError):
                    raise ClusterError(
                        f"The Dask scheduler at {scheduler!r} has no worker after {SCHEDULER_SECONDS:g} s: start "
                        f"some with `dask worker {scheduler}`."
                    ) from None
                yield client
            return
        with local_cluster(jobs or 1) as started, Client(started, set_as_default=False) as client:
            try:
                yield client
            except BaseException:  # Ctrl-C, say: the workers' tasks are dropped, not waited for
                for nanny in list(started.workers.values()):
                    # On a loaded machine a killed worker may not be collected in time (Dask raises): it ends anyway.
                    with suppress(TimeoutError):
                        started.sync(nanny.close, timeout=STOP_SECONDS)
                raise
    finally:
        quiet.setLevel(level)


def local_cluster(workers: int) -> LocalCluster:
    """A Dask cluster of `workers` single-threaded processes on loopback, with no dashboard and quiet logs."""
    # Each worker samples its task's stack a hundred times a second, for the dashboard's profile: there is no
    # dashboard, and the sampling took a tenth of the audit's time (docs/how-fast.md). The workers take this process's
    # Dask settings when they start, and so does the scheduler, here. It does no work stealing: a window (or a share)
    # stays on the worker it began on, where its file is open at the record it reached (moved, it would be sent
    # whole and read its file again from the start), and each worker has its own.
    settings = {"distributed.worker.profile.enabled": False, "distributed.scheduler.work-stealing": False}
    with dask.config.set(settings):
        return LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            # Without a dashboard the scheduler still serves HTTP (health, metrics), on 8787 unless told otherwise:
            # any free port, so two audits (or another team's cluster) never fight over one and Dask never warns.
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.CRITICAL,
        )


@dataclass
class _Slices:
    """Each slice's chain of audits, and the accounts and models it holds (to name them if it is lost)."""

    states: list[Future[Any] | None]
    parts: list[dict[str, int]] = field(default_factory=list)


class _Skipped:
    """Skipped records counted on the client, with the words of the first MOST_SKIPPED_LISTED, in input order."""

    def __init__(self) -> None:
        self.count = 0
        self.told: list[tuple[Position, str]] = []

    def add(self, told: list[tuple[Position, str]], count: int) -> None:
        self.count += count
        self.told.extend(told)
        if len(self.told) > 2 * limits.MOST_SKIPPED_LISTED:  # the earliest are kept: memory stays bounded
            self.told[:] = self.first()

    def first(self) -> list[tuple[Position, str]]:
        """The first MOST_SKIPPED_LISTED in input order: by where each is, and those of one line (the events of one
        `aws logs filter-log-events` page) as they were added, not by their words ("event 10" before "event 2")."""
        return sorted(self.told, key=operator.itemgetter(0))[: limits.MOST_SKIPPED_LISTED]


def audit_parallel(
    paths: list[str],
    client: Client,
    show_text: bool = False,
    since: float | None = None,
    until: float | None = None,
    progress: Callable[[int], None] | None = None,
    planning: Callable[[int], None] | None = None,
) -> AuditResult:
    """The same result as `audit` on `read(paths)`, the work spread over the cluster's workers: in time windows
    when the logs can be read by the workers (S3 objects; local files on a cluster started here) and come in files of
    an hour (windows of whole files) or in one large file whose accounts and models would not spread the work (runs
    of its records), so one busy account and model is spread too; else each account and model on one worker (one
    large file, or several local ones without their hour on a local cluster, read by every worker, each auditing its
    share, when that spreads the work evenly; other logs sent to the workers in pieces).
    `progress` is told of the records audited; `planning`, of those read first to plan a large file's windows."""
    options = (show_text, since, until)
    workers = max(1, len(client.scheduler_info()["workers"]))
    listed = log_files(paths, lambda: S3Access.here().client())
    files = [found for found in listed if isinstance(found, LogFile)]
    readable = all(file.s3 is not None for file in files) or client.cluster is not None
    if readable:  # a local file that is no regular file (a FIFO) is refused here, as one process refuses it
        for file in files:  # (read by the workers, it would be a worker's failure)
            if file.s3 is None:
                refuse_special(file)
    planned = file_windows.plan(files, workers) if readable and len(files) == len(listed) else None
    if planned is None and readable and len(files) == len(listed) and workers > 1:
        access = S3Access.here() if any(file.s3 for file in files) else None
        if len(files) == 1:
            planned = file_windows.plan_records(files[0], workers, access, planning)
        elif client.cluster is not None and access is None:
            # Local files on a cluster started here, whose other way is this process reading them for the workers
            # on the same cores. (S3 objects are each read by one worker that way; each worker reading all of
            # them, and passing over most, would cost more as workers are added.)
            planned = file_windows.plan_shares(files, workers, access, planning)
    skipped = _Skipped()
    if planned is None:
        total = merge(_by_partition(listed, client, options, progress, skipped))
    else:
        total = windows.one_audit(*_by_window(files, planned, client, options, progress, skipped))
    told = [problem for _, problem in skipped.first()]
    notes = total.disagreeing.told() + total.out_of_order.told()
    return replace(total, problems=told + notes, skipped=total.skipped + skipped.count)


def _by_partition(
    listed: list[LogFile | Problem],
    client: Client,
    options: file_windows.Options,
    progress: Callable[[int], None] | None,
    skipped: _Skipped,
) -> list[AuditResult]:
    """Each account and model audited on one worker, the pieces of the input split by partition as they come."""
    addresses = sorted(client.scheduler_info()["workers"])
    workers = max(1, len(addresses))
    slices = _Slices([None] * workers, [{} for _ in range(workers)])
    sent = S3Access.here(credentials=True) if any(f.s3 for f in listed if isinstance(f, LogFile)) else None
    waiting: deque[tuple[int, str, Future[Any], Future[Any]]] = deque()  # a piece's name, not its records
    skip = skipped.add

    folded: deque[list[Future[Any]]] = deque()

    def settle() -> None:
        """The oldest piece's split taken into each partition's audit (or, if it could not be read, named)."""
        index, name, split, summary = waiting.popleft()
        try:
            told, parts, count = summary.result()
        except Exception as exc:  # the worker failed or died on it (Dask retried it first): one line, not the run
            skip([((index, 0), f"{name}: not audited, a Dask worker {_failure(exc)}; skipped it.")], 1)
            return
        skip(told, count)
        folds: list[Future[Any]] = []
        for chosen, held in enumerate(parts):
            if held:
                # Each partition's audit stays on one worker (unless it leaves): its state never travels.
                home = [addresses[chosen % len(addresses)]] if addresses else None
                state = client.submit(
                    _fold,
                    slices.states[chosen],
                    split,
                    chosen,
                    options,
                    pure=False,
                    workers=home,
                    allow_other_workers=True,
                )
                slices.states[chosen] = state
                folds.append(state)
                for name, count in held.items():
                    slices.parts[chosen][name] = slices.parts[chosen].get(name, 0) + count
        if progress is not None:
            progress(sum(sum(held.values()) for held in parts) + len(told))
        folded.append(folds)
        if len(folded) > AHEAD * workers:  # the audits are behind: wait for them before reading further (the
            with client.as_current():  # `wait` asks for the current client: this one, not a default one
                wait(folded.popleft())  # states stay where they are: they are large, and are never sent anywhere)

    for index, piece in enumerate(pieces(listed)):
        data = client.scatter([piece], hash=False)[0] if isinstance(piece, list) else piece
        split = client.submit(_split, data, index, workers, sent, pure=False)
        name = str(piece) if isinstance(piece, S3Object) else f"records {_first(piece)} and after"
        waiting.append((index, name, split, client.submit(_summary, split, pure=False)))
        if len(waiting) > AHEAD * workers:
            settle()
    while waiting:
        settle()
    results = []
    for chosen, state in enumerate(slices.states):
        if state is None:
            continue
        try:
            result, told = client.submit(_finish, state, pure=False).result()
        except Exception as exc:  # a worker died with this partition's audit: it is lost, the others stand
            held = slices.parts[chosen]
            names = ", ".join(sorted(held)[:3]) + (f" and {len(held) - 3} more" if len(held) > 3 else "")
            lost = f"{plural(sum(held.values()), 'record')} of {names} not audited: a Dask worker {_failure(exc)}."
            skip([((-1, chosen), lost)], 1)
            continue
        results.append(result)
        skip(told, 0)  # counted in the result's own `skipped`
    return results


def _by_window(
    files: list[LogFile],
    planned: list[file_windows.Planned],
    client: Client,
    options: file_windows.Options,
    progress: Callable[[int], None] | None,
    skipped: _Skipped,
) -> tuple[list[AuditResult], Cost, dict[str, dict[str, tuple[int, int]]], int]:
    """The files audited in time windows, every window at once (each worker reads its window's files itself), then
    joined in order, account and model by account and model, by the rule of windows.Joiner: where a window began as
    the one before ended, the one before is finished; else it carries on through the window's records. Gives each
    lane's result, the oracle over every call in order, the waste later windows read of writes earlier ones counted,
    and the records audited twice."""
    sent = S3Access.here(credentials=True) if any(file.s3 for file in files) else None
    addresses = sorted(client.scheduler_info()["workers"])
    # Each window on a worker of its own (unless it leaves), every task on it there: a worker that dies loses no
    # other window, and a window (large) is never sent to another worker to be read there.
    homes = [
        {"workers": [addresses[at % len(addresses)]], "allow_other_workers": True} if addresses else {}
        for at in range(len(planned))
    ]
    runs: list[Future[Any] | None] = [
        client.submit(
            file_windows.start,
            list(plan.warm_up),
            options,
            sent,
            plan.share,
            file_windows.RECORDS_A_TASK,
            pure=False,
            **homes[at],
        )
        for at, plan in enumerate(planned)
    ]
    # Each window's tasks are asked for AHEAD at a time, until it has none left or one finds the end of its file (a
    # share's runs go on without end); each task's records read are told to `progress` as it ends.
    tasks = [plan.tasks() for plan in planned]
    reads: dict[Future[Any], int] = {}  # how many records a task read: of which window

    def ask(at: int) -> Future[Any] | None:
        task = next(tasks[at], None)
        if task is None:
            return None
        runs[at] = client.submit(file_windows.count, runs[at], task, sent, pure=False, **homes[at])
        read = client.submit(file_windows.lately, runs[at], pure=False, **homes[at])
        reads[read] = at
        return read

    with client.as_current():  # `as_completed` asks for the current client: this one, not a default one
        flow = as_completed([read for at in range(len(planned)) for _ in range(AHEAD) if (read := ask(at))])
        for done in flow:
            at = reads.pop(done)
            if done.status != "finished":
                continue  # the window is lost: its summary says so below
            count, ended = done.result()
            if progress is not None:
                progress(count)
            if not ended and (read := ask(at)) is not None:
                flow.add(read)
    lanes = _Lanes(client, planned, runs, homes, sent, skipped)
    joiner = windows.Joiner[int](lanes)
    for at, plan in enumerate(planned):
        run = runs[at]
        assert run is not None
        try:
            summary = client.submit(file_windows.summary, run, pure=False, **homes[at]).result()
        except Exception as exc:  # the worker failed or died on it (Dask retried it first): one line, not the run
            told = f"{plan}: not audited, a Dask worker {_failure(exc)}."
            first = plan.counted[0] if plan.counted else None
            skipped.add([((first.file_index, first.first - 1) if first else (0, -1), told)], 1)
            runs[at] = None
            continue
        skipped.add(summary.problems, summary.skipped)
        joiner.add(at, summary.began, summary.counted)
    back = joiner.finish()
    return lanes.results(), lanes.oracle(), back, joiner.joined


class _Lanes:
    """The windows on the cluster, as the Joiner (windows.py) asks for them: each planned, and a chain of tasks on its
    worker (`runs`, by window number); the lanes finished, and the oracle of each account and model, handed from lane to
    lane; a lane lost with its worker is one line."""

    def __init__(
        self,
        client: Client,
        planned: list[file_windows.Planned],
        runs: list[Future[Any] | None],
        homes: list[dict[str, Any]],
        sent: S3Access | None,
        skipped: _Skipped,
    ) -> None:
        self.client, self.planned, self.runs, self.homes, self.sent = client, planned, runs, homes, sent
        self.skipped = skipped
        self.finished: list[tuple[str, int, Future[Any]]] = []
        self.oracles: dict[str, Future[Any] | None] = {}

    def edges(self, window: int, wanted: windows.Wanted) -> dict[str, windows.Edge]:
        run = self.runs[window]
        if run is None:
            raise RuntimeError("its window was lost")
        try:
            found: dict[str, windows.Edge] = self.client.submit(
                file_windows.edges, run, wanted, pure=False, **self.homes[window]
            ).result()
        except Exception:
            self.runs[window] = None
            raise
        return found

    def carry(self, before: int, window: int, names: set[str]) -> None:
        self.runs[before] = self.client.submit(
            file_windows.extend, self.runs[before], names, list(self.planned[window].counted), self.sent, pure=False,
            **self.homes[before],
        )  # fmt: skip
        self.runs[window] = self.client.submit(
            file_windows.drop, self.runs[window], names, pure=False, **self.homes[window]
        )

    def finish(self, window: int, name: str, count: int) -> None:
        done = self.client.submit(
            file_windows.finish, self.runs[window], name, self.oracles.get(name), pure=False, **self.homes[window]
        )
        self.finished.append((name, count, self.client.submit(operator.itemgetter(0), done, pure=False)))
        self.oracles[name] = self.client.submit(operator.itemgetter(1), done, pure=False)

    def lose(self, name: str, count: int, exc: Exception) -> None:
        told = f"{plural(count, 'record')} of {name} not audited: a Dask worker {_failure(exc)}."
        self.skipped.add([((-1, 0), told)], count)

    def results(self) -> list[AuditResult]:
        """Each lane's result (a lane whose worker died is one line)."""
        results = []
        for name, count, done in self.finished:
            try:
                results.append(done.result())
            except Exception as exc:
                self.lose(name, count, exc)
        return results

    def oracle(self) -> Cost:
        """The oracle's cost over every account and model's calls."""
        total = Cost()
        for name, chain in self.oracles.items():
            try:
                total += self.client.submit(_oracle_cost, chain, pure=False).result() if chain else Cost()
            except Exception as exc:
                told = f"the best possible cost of {name} is left out: a Dask worker {_failure(exc)}."
                self.skipped.add([((-1, 1), told)], 0)
        return total


def _oracle_cost(oracle: Oracle) -> Cost:
    return oracle.cost()


def _first(piece: list[Any]) -> str:
    where = next((item.where for item in piece if isinstance(item, (Line, LoggedCall))), "")
    return where or "of a local file"


def _failure(exc: BaseException) -> str:
    """What happened to the worker, in words ("stopped" when it died, as often as Dask allows a task to)."""
    if type(exc).__name__ == "KilledWorker":
        return "stopped while on it"
    return f"failed on it ({type(exc).__name__}: {str(exc)[:80]})"
