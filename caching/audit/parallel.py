"""The audit on Dask: `--jobs N` starts a local cluster of N worker processes, `--scheduler ADDRESS` uses one a team
already runs. Calls are partitioned by account and model, whose caches never meet. Each piece of the input (an S3
object, which a worker reads itself; or a run of a local file's lines, read here) is split by partition on a worker;
each partition's audit then takes the pieces in input order on one worker; the results are added up here. Only this
module imports Dask, so a plain audit never loads it."""

from __future__ import annotations

import logging
import re
import socket
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from distributed import Client, Future, LocalCluster, wait
from distributed.comm.addressing import get_address_host_port

from .. import limits
from ..check.recording import Problem
from ..errors import CachingError
from ..words import plural
from .audit import Audit, AuditResult, fewer_collections, merge
from .logs import LoggedCall, model_of
from .s3client import S3Access
from .sources import Line, decode, local_file, log_files, s3_object

Position = tuple[int, int]  # (piece, item in the piece): the input order, whichever worker audits what
PIECE_CHARACTERS = 16_000_000  # a local file goes to the cluster in runs of about this much record text
AHEAD = 3  # pieces per worker read and split ahead of the audits: bounds what the cluster holds at once
STOP_SECONDS = 0.5  # on Ctrl-C, how long a worker of the local cluster may take to stop before it is killed
SCHEDULER_SECONDS = 10.0  # the wait for --scheduler to answer, and for its first worker
HEAD_KEY = re.compile(r'"(accountId|modelId)"\s*:\s*"([^"\\]*)"')
BODIES = re.compile(r'"(?:input|output)"\s*:')


class ClusterError(CachingError):
    """A Dask scheduler that cannot be reached, or has no worker."""


def part_of(line: Line) -> str | None:
    """The account and model of a record, read from its text before the bodies (where AWS writes them), so the line
    need not be decoded to be split; None when they are not plainly there (then it is decoded to be sure)."""
    bodies = BODIES.search(line.text)
    found = HEAD_KEY.findall(line.text, 0, bodies.start() if bodies else len(line.text))
    if sorted(name for name, _ in found) != ["accountId", "modelId"]:
        return None
    values = dict(found)
    return f"{values['accountId']}|{model_of(values['modelId'])}"


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
            chosen = zlib.crc32(name.encode()) % slices
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


def pieces(paths: list[str]) -> Iterator[S3Object | list[Any]]:
    """The input in time order (see sources.log_files), as pieces: each S3 object, or a run of the records of local
    files (about PIECE_CHARACTERS) from one of the paths given, so a piece that fails loses no other path's."""
    run: list[Any] = []
    size, given = 0, 0
    for found in log_files(paths, lambda: S3Access.here().client()):
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
                    started.sync(nanny.close, timeout=STOP_SECONDS)
                raise
    finally:
        quiet.setLevel(level)


def local_cluster(workers: int) -> LocalCluster:
    """A Dask cluster of `workers` single-threaded processes on loopback, with no dashboard and quiet logs."""
    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        # Without a dashboard the scheduler still serves HTTP (health, metrics), on 8787 unless told otherwise: any
        # free port, so two audits (or another team's cluster) never fight over one and Dask never warns.
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        silence_logs=logging.CRITICAL,
    )


@dataclass
class _Slices:
    """Each slice's chain of audits, and the accounts and models it holds (to name them if it is lost)."""

    states: list[Future[Any] | None]
    parts: list[dict[str, int]] = field(default_factory=list)


def audit_parallel(
    paths: list[str],
    client: Client,
    show_text: bool = False,
    since: float | None = None,
    until: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> AuditResult:
    """The same result as `audit` on `read(paths)`, the work spread over the cluster's workers."""
    options = (show_text, since, until)
    addresses = sorted(client.scheduler_info()["workers"])
    workers = max(1, len(addresses))
    slices = _Slices([None] * workers, [{} for _ in range(workers)])
    problems: list[tuple[Position, str]] = []
    sent = S3Access.here(credentials=True) if any(path.startswith("s3://") for path in paths) else None
    waiting: deque[tuple[int, str, Future[Any], Future[Any]]] = deque()  # a piece's name, not its records
    skipped = [0]  # skipped records counted here (those of the audits are in their results)

    def skip(told: list[tuple[Position, str]], count: int) -> None:
        """Count skipped records and keep the words of the first MOST_SKIPPED_LISTED of them, in input order."""
        skipped[0] += count
        problems.extend(told)
        if len(problems) > 2 * limits.MOST_SKIPPED_LISTED:  # the earliest are kept: memory stays bounded
            problems[:] = sorted(problems)[: limits.MOST_SKIPPED_LISTED]

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

    for index, piece in enumerate(pieces(paths)):
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
    total = merge(results)
    listed = [problem for _, problem in sorted(problems)[: limits.MOST_SKIPPED_LISTED]]
    notes = total.disagreeing.told() + total.out_of_order.told()
    return replace(total, problems=listed + notes, skipped=total.skipped + skipped[0])


def _first(piece: list[Any]) -> str:
    where = next((item.where for item in piece if isinstance(item, (Line, LoggedCall))), "")
    return where or "of a local file"


def _failure(exc: BaseException) -> str:
    """What happened to the worker, in words ("stopped" when it died, as often as Dask allows a task to)."""
    if type(exc).__name__ == "KilledWorker":
        return "stopped while on it"
    return f"failed on it ({type(exc).__name__}: {str(exc)[:80]})"
