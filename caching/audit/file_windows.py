"""The audit in time windows of log files, so that one busy account and model is audited by several workers at once
(parallel.py runs them on Dask; windows.py is why the windows add up to the audit in order, exactly).

Logs AWS delivers name their hour (sources.HOURLY). A window counts the files of a run of hours, after a warm-up on
the files of the WARM_UP_HOURS before it, each account and model in its own lane (windows.AuditLane). One large file
(a download, an export) is cut in runs of its records instead, planned from their times (`plan_records`); or, if
its accounts and models spread the work as well, every worker reads all of it and audits the accounts and models
dealt to it (`shares`), with nothing to join. A worker reads a window's pieces itself (an S3 object by its key, a
local file by its path; a run of a large file from where its last task stopped), so no window's records wait in
memory for a worker to be free, and none are sent to it. The plans are made on the client, the rest runs on the
workers; none imports Dask.
"""

from __future__ import annotations

import copy
import itertools
import math
import pickle
import re
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, NamedTuple

from .. import limits
from ..check.recording import Problem
from ..words import plural
from .audit import AuditResult
from .collector import fewer_collections
from .logs import LoggedCall, model_of, when_in_range
from .oracle import USES_KEPT, Oracle
from .s3client import S3Access
from .sources import HOURLY, Line, LogFile, decode, local_file, s3_object
from .windows import LATE, SURE_SECONDS, WARM_UP_SECONDS, AuditLane, Edge, Position, Wanted

WARM_UP_HOURS = math.ceil(WARM_UP_SECONDS / 3_600) + 1  # an hour's file holds calls from all of that hour
# The fewest hours a window counts: its warm-up costs at most half as much again. A window is worth its warm-up when
# the cluster has a worker for it: one per worker, unless that makes windows longer than WINDOW_MOST_HOURS (what a
# window keeps until it is joined grows with its calls: the oracle's `Use` of each, on disk past USES_KEPT).
WINDOW_HOURS = 2 * WARM_UP_HOURS
WINDOW_MOST_HOURS = 48
FILES_A_TASK = 6  # files a worker counts between two reports of progress to the client
RECORDS_A_TASK = 50_000  # ... or records of one large file
# One large file is dealt by account and model (no warm-up to pay, nothing to join) if, in its first RECORDS_SAMPLED
# records, no worker would get over BALANCED times an even share; else it is cut in windows, planned from the
# earliest and latest time of each run of RECORDS_A_BLOCK records.
BALANCED = 1.25
RECORDS_SAMPLED = 20_000
RECORDS_A_BLOCK = 1_000
RECORDS_A_WINDOW = 2_000_000  # what a window keeps until it is joined grows with its records (see WINDOW_MOST_HOURS)
# Accounts and models told apart to find the calls logged late in theirs, which a window's warm-up must reach back
# for (see plan_records): bounded, so a file of a million accounts costs no more; those that share a key may look
# late, which only makes a warm-up longer, never short.
LATE_KEYS = 4_096
# What a window holds, about, for Dask (see FileWindow.__sizeof__): its lanes' caches and memories (bounded: a worker
# auditing a share of a million records peaked at 111 MB), and a `Use` for each record a window's lane counted, up to
# USES_KEPT a lane (the rest are on disk, see oracle.Uses).
WINDOW_BYTES = 100_000_000
USE_BYTES = 250
Options = tuple[bool, float | None, float | None]  # show_text, since, until
# A record's head (its text before the bodies) whose account and model can be read without decoding it: an object
# of pairs whose values are strings without escapes, numbers, literals or flat objects; accountId and modelId plain
# strings at its top (none in a flat object), and no key that makes the parser read the line another way (an `aws
# logs filter-log-events` page: its events are the calls; a --record line: its calls are "recorded").
_PLAIN, _WS = r'"[^"\\]*"', r"[ \t\r\n]*"
_OTHER_KEY = r'"(?!(?:accountId|modelId|events|model_id)")[^"\\]*"'
_SCALAR = rf"(?:{_PLAIN}|[-+.0-9eE]+|true|false|null)"
_FLAT = rf"\{{{_WS}(?:{_OTHER_KEY}{_WS}:{_WS}{_SCALAR}{_WS}(?:,{_WS}{_OTHER_KEY}{_WS}:{_WS}{_SCALAR}{_WS})*)?\}}"
_PAIR = rf'(?:"(?:accountId|modelId)"{_WS}:{_WS}{_PLAIN}|{_OTHER_KEY}{_WS}:{_WS}(?:{_SCALAR}|{_FLAT}))'
PLAIN_HEAD = re.compile(rf"{_WS}\{{{_WS}(?:{_PAIR}{_WS},{_WS})*(?:{_PAIR}{_WS}\}}{_WS})?")
HEAD_KEY = re.compile(r'"(accountId|modelId)"\s*:\s*"([^"\\]*)"')
# ... and after the head: these keys again at the record's top, not in its bodies (the last counts), or a letter
# escaped (no encoder writes one so: a key may hide in it).
READ_AGAIN = re.compile(r'"(?:accountId|modelId|events|model_id)"')
ESCAPED_LETTER = re.compile(r"\\u00[4-7][0-9a-fA-F]")
STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
BODIES = re.compile(r'"(?:input|output)"\s*:')
TIMESTAMP = re.compile(r'"timestamp"\s*:\s*(?:"([^"\\]*)"|([0-9][0-9.eE+]*))')  # a time, or seconds or milliseconds


def part_of(line: Line) -> str | None:
    """The account and model of a record, read from its text before the bodies (where AWS writes them), so the line
    need not be decoded to be split; None unless they are there plainly, once, at the record's top (PLAIN_HEAD), and
    nothing after can make the parser read the line another way: then it is decoded to be sure. The workers that
    audit the shares of the input trust it to deal each line to the one that audits its record."""
    text = line.text
    bodies = BODIES.search(text)
    head = bodies.start() if bodies else len(text)
    plain = PLAIN_HEAD.match(text, 0, head)
    if plain is None or plain.end() != head or ESCAPED_LETTER.search(text, head):
        return None
    depth, after = 0, head  # how deep in the bodies each key found after the head is (0: at the record's top)
    for again in READ_AGAIN.finditer(text, head):
        between = STRING.sub("", text[after : again.start()])
        depth += between.count("{") + between.count("[") - between.count("}") - between.count("]")
        if depth <= 0:
            return None
        after = again.end()
    found = HEAD_KEY.findall(text, 0, head)
    if sorted(name for name, _ in found) != ["accountId", "modelId"]:
        return None
    values = dict(found)
    return f"{values['accountId']}|{model_of(values['modelId'])}"


def part(call: LoggedCall) -> str:
    """The partition of a decoded call: its account and model."""
    return f"{call.account}|{call.model_id}"


def hour_of(file: LogFile) -> int | None:
    """The hour (since the epoch) of a file where AWS puts logs, from its name; None for any other file (or a folder
    named like no date, 2083/13/01/00)."""
    found = HOURLY.search(file.name)
    if not found:
        return None
    year, month, day, hour = map(int, found.group(1).split("/"))
    try:
        return int(datetime(year, month, day, hour, tzinfo=timezone.utc).timestamp()) // 3_600
    except ValueError:
        return None


class Piece(NamedTuple):
    """A file of the input (`file_index`: its place in the input's order), or a run of its records: those numbered
    from `first` to before `stop` (None: to its end)."""

    file_index: int
    file: LogFile
    first: int = 0
    stop: int | None = None

    def __str__(self) -> str:
        if self.first == 0 and self.stop is None:
            return self.file.name
        if self.stop is None:
            return f"{self.file.name} from its record {self.first + 1:,} on"
        return f"records {self.first + 1:,} to {self.stop:,} of {self.file.name}"


@dataclass(frozen=True)
class Planned:
    """One window: the pieces of its warm-up and the pieces it counts, in the input's order. Or, with `share`
    (k, n), a share of the input dealt by account and model: its files, whole and in order, of which it counts the
    records of the accounts and models `slice_of` deals to k of n (the damaged ones in share 0)."""

    warm_up: tuple[Piece, ...]
    counted: tuple[Piece, ...]
    share: tuple[int, int] | None = None

    def tasks(self) -> Iterator[list[Piece]]:
        """The pieces it counts, a task's at a time: FILES_A_TASK whole files, or one run of a large file. A share's
        tasks are each its files, of which it reads RECORDS_A_TASK records more from where the last task stopped
        (their lengths are not known): they go on without end, and the client stops asking once one finds the end
        of the last file (see `lately`)."""
        if self.share is not None:
            while True:
                yield list(self.counted)
        task: list[Piece] = []
        for piece in self.counted:
            if task and (len(task) == FILES_A_TASK or piece.stop is not None or task[-1].stop is not None):
                yield task
                task = []
            task.append(piece)
        if task:
            yield task

    def __str__(self) -> str:
        """Its counted pieces, in words (for a window lost with its worker)."""
        if self.share is not None:
            worker, workers = self.share
            files = self.counted[0].file.name if len(self.counted) == 1 else f"{len(self.counted):,} files"
            return f"the accounts and models of {files} dealt to worker {worker + 1} of {workers}"
        if not self.counted:
            return "no file"
        whole = all(piece.first == 0 and piece.stop is None for piece in self.counted)
        if whole:
            return f"{plural(len(self.counted), 'file')} from {self.counted[0].file.name}"
        first, last = self.counted[0], self.counted[-1]
        return str(Piece(first.file_index, first.file, first.first, last.stop))


def plan(files: list[LogFile], workers: int) -> list[Planned] | None:
    """The files in windows of at least WINDOW_HOURS, as many as there are workers (more, if they would be longer
    than WINDOW_MOST_HOURS); None when there would be fewer than two, or a file's hour is not in its name."""
    hours = [hour_of(file) for file in files]
    known = [hour for hour in hours if hour is not None]
    if not files or len(known) < len(hours):
        return None
    first, span = min(known), max(known) - min(known) + 1
    count = min(span // WINDOW_HOURS, max(workers, math.ceil(span / WINDOW_MOST_HOURS)))
    if count < 2:
        return None
    starts = [first + span * number // count for number in range(count)] + [first + span]
    return [
        Planned(
            tuple(Piece(i, files[i]) for i, hour in enumerate(known) if start - WARM_UP_HOURS <= hour < start),
            tuple(Piece(i, files[i]) for i, hour in enumerate(known) if start <= hour < end),
        )
        for start, end in itertools.pairwise(starts)
    ]


def plan_records(
    file: LogFile, workers: int, access: S3Access | None, progress: Callable[[int], None] | None = None
) -> list[Planned] | None:
    """One large file (or S3 object) in windows of runs of its records, as `plan` cuts files of an hour: each window
    about as many records, at least WINDOW_HOURS long on average; its warm-up, the runs of RECORDS_A_BLOCK records
    before it with a call in the WARM_UP_SECONDS before its first. Read once here, for the earliest and latest time
    of each block (read from each line's text, see `time_of`); None when there would be fewer than two windows.
    When dealing the accounts and models to the workers (`slice_of`) keeps each as busy as the others, within
    BALANCED, the file's `shares` instead: told by the first RECORDS_SAMPLED records, which spares reading a file of
    many accounts twice. `progress` is told of the records read, a block at a time."""
    # Each block's earliest and latest time (inf, -inf: none has a time), and the earliest of its calls logged after
    # a later call of their account and model (inf: none was).
    blocks: list[tuple[float, float, float]] = []
    newest: dict[int, float] = {}  # the latest time yet of each account and model (by LATE_KEYS)
    # Records of the accounts and models each worker would audit, if dealt by partition (of those read from their line:
    # a damaged line, or one whose account and model are not plainly there, is left out of the count).
    loads = [0] * workers
    low, high, late, number = math.inf, -math.inf, math.inf, 0
    for number, item in enumerate(_items(file, access), 1):
        at = time_of(item)
        name = _name_of(item)
        if at is not None:
            low, high = min(low, at), max(high, at)
            key = slice_of(name, LATE_KEYS) if name else -1  # those whose account and model is not plain: one key
            if at < newest.get(key, -math.inf):
                late = min(late, at)
            else:
                newest[key] = at
        if name:
            loads[slice_of(name, workers)] += 1
        if number % RECORDS_A_BLOCK == 0:
            blocks.append((low, high, late))
            low, high, late = math.inf, -math.inf, math.inf
            if progress is not None:
                progress(RECORDS_A_BLOCK)
        if number == RECORDS_SAMPLED and _even(loads):
            return shares([file], workers)  # with no warm-up to pay and nothing to join
    if number % RECORDS_A_BLOCK:
        blocks.append((low, high, late))
    if _even(loads):
        return shares([file], workers)
    earliest = min((low for low, _, _ in blocks), default=math.inf)
    latest = max((high for _, high, _ in blocks), default=-math.inf)
    if earliest > latest:
        return None
    # As many windows as there are workers, fewer if they would span under WINDOW_HOURS each, and more only if they
    # would count over RECORDS_A_WINDOW each (not by hours, as `plan` cuts: one call stamped far off spans thousands).
    most = max(workers, math.ceil(number / RECORDS_A_WINDOW))
    count = min(int((latest - earliest) / 3_600 // WINDOW_HOURS), most, len(blocks))
    if count < 2:
        return None
    cuts = [len(blocks) * n // count for n in range(count)] + [len(blocks)]
    planned = []
    for begin, end in itertools.pairwise(cuts):
        # From its first calls; or from a call logged after a later one of its account and model, which replays on
        # the entries alive when it was made: the join compares the lanes at their first call in the window, when
        # such entries may have expired, and would not notice the warm-up did not rebuild them.
        opening = next((low for low, _, _ in blocks[begin:end] if low != math.inf), math.inf)
        start = min(opening, *(late for _, _, late in blocks[begin:end]))
        back = begin
        while back > 0 and (blocks[back - 1][1] >= start - WARM_UP_SECONDS or blocks[back - 1][0] == math.inf):
            back -= 1  # a block with a call in the warm-up's time, or with no call to tell
        firsts = range(begin * RECORDS_A_BLOCK, end * RECORDS_A_BLOCK, RECORDS_A_TASK)
        counted = tuple(
            Piece(0, file, first, None if stop >= number else stop)
            for first in firsts
            for stop in [min(first + RECORDS_A_TASK, end * RECORDS_A_BLOCK)]
        )
        warm_up = (Piece(0, file, back * RECORDS_A_BLOCK, begin * RECORDS_A_BLOCK),) if back < begin else ()
        planned.append(Planned(warm_up, counted))
    return planned


def plan_shares(
    files: list[LogFile], workers: int, access: S3Access | None, progress: Callable[[int], None] | None = None
) -> list[Planned] | None:
    """Several files (or S3 objects) not of an hour, dealt by account and model in `shares` when that keeps each
    worker as busy as the others, within BALANCED: told by their first RECORDS_SAMPLED records, in order; else None.
    `progress` is told of the records read."""
    loads = [0] * workers
    items = itertools.chain.from_iterable(_items(file, access) for file in files)
    for number, item in enumerate(itertools.islice(items, RECORDS_SAMPLED), 1):
        if name := _name_of(item):
            loads[slice_of(name, workers)] += 1
        if number % RECORDS_A_BLOCK == 0 and progress is not None:
            progress(RECORDS_A_BLOCK)
    return shares(files, workers) if _even(loads) else None


def shares(files: list[LogFile], workers: int) -> list[Planned]:
    """The input dealt by account and model: each worker reads it all, and audits its share (see Planned)."""
    pieces = tuple(Piece(index, file) for index, file in enumerate(files))
    return [Planned((), pieces, (worker, workers)) for worker in range(workers)]


def _name_of(item: Line | LoggedCall | Problem) -> str:
    """The account and model of an item read for a plan ("" where its line does not plainly tell, see `part_of`)."""
    if isinstance(item, Line):
        return part_of(item) or ""
    return part(item) if isinstance(item, LoggedCall) else ""


def _even(loads: list[int]) -> bool:
    """Whether the workers' shares of the records, dealt by account and model, are within BALANCED of an even share."""
    return sum(loads) > 0 and max(loads) <= BALANCED * sum(loads) / len(loads)


def slice_of(name: str, slices: int) -> int:
    """Which of `slices` workers audits an account and model, when the work is dealt by partition."""
    return zlib.crc32(name.encode()) % slices


def time_of(item: Line | LoggedCall | Problem) -> float | None:
    """When a record's call was made: read from a line's text before the bodies (None where it is not plainly there,
    the record is damaged, or no calendar has the time: the audit skips it, and 1e999 seconds would span no hours)."""
    if isinstance(item, LoggedCall):
        return item.at
    if not isinstance(item, Line):
        return None
    bodies = BODIES.search(item.text)
    found = TIMESTAMP.search(item.text, 0, bodies.start() if bodies else len(item.text))
    if found is None:
        return None
    try:
        return when_in_range(found[1] if found[1] is not None else float(found[2]))
    except (ValueError, OverflowError):
        return None


@dataclass
class FileWindow:
    """One window's audit on a worker: a lane per account and model, the state each began in (at its first counted
    call) and the records it counted; the records it skipped.

    Dask takes a task's result to be left as it is, and this one is not: each task on a window changes it and hands
    it on (its lanes are too large to copy). So every task holds `guard` while it works on it, and so does pickling
    it (Dask may send it to another worker while a task works on it here): the copy is never one of a half-done
    step."""

    guard: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)
    options: Options = (False, None, None)
    lanes: dict[str, AuditLane] = field(default_factory=dict)
    began: dict[str, tuple[float, object]] = field(default_factory=dict)
    counted: dict[str, int] = field(default_factory=dict)
    problems: list[tuple[Position, str]] = field(default_factory=list)  # the first MOST_SKIPPED_LISTED
    skipped: int = 0
    lately: int = 0  # records the last `count` read
    warmed_from: float = math.inf  # when the earliest call of its warm-up was made
    share: tuple[int, int] | None = None  # a share of the input (see Planned): its lanes are alone, never joined
    ended: bool = False  # whether the last `count` found the end of its file before the end of its run
    task_records: int = RECORDS_A_TASK  # a share's: the records its tasks each read
    resume: tuple[int, int] = (0, 0)  # a share's: the file (of its pieces) and record its next task reads from
    reader: _Reader | None = field(default=None, repr=False, compare=False)  # the file being read, between tasks

    def __sizeof__(self) -> int:
        """What it holds, about, as Dask counts a worker's memory: it refuses a task whose inputs weigh more than
        the worker's memory limit, and writes results to disk past a share of it (so a weight larger than the truth
        lost a window of a few million records on a worker of a few GB). A lane keeps at most USES_KEPT of its
        calls' `Use`s in memory (a share's lanes none)."""
        uses = 0 if self.share is not None else sum(min(count, USES_KEPT) for count in list(self.counted.values()))
        return WINDOW_BYTES + USE_BYTES * uses

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        with self.guard:  # pickled whole while no task changes it
            state = {name: value for name, value in self.__dict__.items() if name not in ("guard", "reader")}
            return _restored, (pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL),)

    def lane(self, name: str) -> AuditLane:
        """The lane of an account and model, new if it has none."""
        found = self.lanes.get(name)
        if found is None:
            found = self.lanes[name] = AuditLane.new(*self.options, alone=self.share is not None)
        return found


def _restored(data: bytes) -> FileWindow:
    window = FileWindow()
    window.__dict__.update(pickle.loads(data))
    return window


@dataclass
class Summary:
    """What the client needs of a window to join it to the one before: small."""

    began: dict[str, tuple[float, object]]
    counted: dict[str, int]
    problems: list[tuple[Position, str]]
    skipped: int


class _Reader:
    """A file being read on a worker, kept by its window between tasks: the next run of a large file goes on from
    where the last one ended, where reading it again from its start (a gzip stream cannot be entered in the middle)
    would cost a window as much again."""

    def __init__(self, index: int, items: Iterator[Any]) -> None:
        self.index, self.items, self.number = index, items, 0  # number: of the next item

    def until(self, stop: int | None) -> Iterator[tuple[int, Any]]:
        """The items, numbered, up to the one before `stop` (None: to the end)."""
        while stop is None or self.number < stop:
            item = next(self.items, None)
            if item is None:
                return
            self.number += 1
            yield self.number - 1, item


def _items(file: LogFile, access: S3Access | None) -> Iterator[Any]:
    """A file's or an S3 object's items, each line not yet decoded (`sources.Line`)."""
    where = file.s3
    if where is not None:
        if access is None:
            raise ValueError("No S3 access was sent with an S3 object.")
        return s3_object(*where, access.client(), defer=True)
    return local_file(file, defer=True)


def _records(
    window: FileWindow,
    piece: Piece,
    access: S3Access | None,
    only: set[str] | None = None,
    share: tuple[int, int] | None = None,
) -> Iterator[tuple[Position, LoggedCall | Problem]]:
    """Every record of a piece, decoded, with where it is in the input (`only`: those of these accounts and models;
    a `share`, those dealt to it; the others' lines not decoded when their account and model can be read without);
    read by the window's reader where it stopped at the piece's start, else from the file's start again."""
    reader = window.reader
    if reader is None or reader.index != piece.file_index or reader.number > piece.first:
        reader = _Reader(piece.file_index, _items(piece.file, access))
    window.reader = reader if piece.stop is not None else None
    for number, item in reader.until(piece.stop):
        if number >= piece.first:  # those before the piece are passed over, not decoded
            yield from _dealt((piece.file_index, number), item, only, share)
    window.ended = piece.stop is not None and reader.number < piece.stop


def _share_records(
    window: FileWindow, pieces: list[Piece], access: S3Access | None
) -> Iterator[tuple[Position, LoggedCall | Problem]]:
    """A share's records among the next `task_records` of its files (in order, read on from where its last task
    stopped, `window.resume`), decoded, with where each is in the input; `window.ended` once the last file's end is
    found. Where is kept apart from the open file: a window Dask pickles (to spill it, or send it to another worker)
    has none, and reads its file again up to there."""
    if window.ended:  # a task asked for ahead of the one that found the end
        return
    left, (at, first) = window.task_records, window.resume
    while at < len(pieces) and left > 0:
        piece = pieces[at]
        yield from _records(
            window, Piece(piece.file_index, piece.file, first, first + left), access, None, window.share
        )
        read = max(0, window.reader.number - first) if window.reader is not None else 0
        left, first = left - read, first + read
        if window.ended:  # its end, before the run's: on to the next file
            at, first = at + 1, 0
    window.resume = (at, first)
    window.ended = at == len(pieces)


def _dealt(
    position: Position, item: Any, only: set[str] | None, share: tuple[int, int] | None
) -> Iterator[tuple[Position, LoggedCall | Problem]]:
    """An item's records that a window counts (`only` those of these accounts and models; a `share`, those dealt to
    it), decoded; its line passed over undecoded when it plainly names another's account and model (`part_of`)."""
    name = part_of(item) if (only is not None or share is not None) and isinstance(item, Line) else None
    if name is not None and (name not in only if only is not None else not _mine(name, share)):
        return
    for each in decode(item) if isinstance(item, Line) else (item,):
        # A share's line that did not plainly say whose it is: the record tells (a damaged one, no one's).
        if share is not None and name is None and not _mine(None if isinstance(each, Problem) else part(each), share):
            continue
        yield position, each


def _mine(name: str | None, share: tuple[int, int] | None) -> bool:
    """Whether a share of the input (None: a window, which counts every record) counts the records of an account and
    model (None: a record whose line tells neither, such as a damaged one, which the first share counts)."""
    if share is None:
        return True
    worker, workers = share
    return worker == 0 if name is None else slice_of(name, workers) == worker


def start(
    warm_up: list[Piece],
    options: Options,
    access: S3Access | None,
    share: tuple[int, int] | None = None,
    task_records: int | None = None,
) -> FileWindow:
    """Runs on a worker: a window warmed up on the `warm_up` pieces, counting nothing (a `share` of the input: none,
    and it reads `task_records` records a task, RECORDS_A_TASK unless told: the client's, which tests make small)."""
    window = FileWindow(options=options, share=share, task_records=task_records or RECORDS_A_TASK)
    with fewer_collections():
        for piece in warm_up:
            for position, record in _records(window, piece, access):
                if not isinstance(record, Problem):
                    window.lane(part(record)).add((position, record), counted=False)
                    window.warmed_from = min(window.warmed_from, record.at)
    return window


def count(window: FileWindow, counted: list[Piece], access: S3Access | None) -> FileWindow:
    """Runs on a worker: the window carried on through the `counted` pieces, counting every record (a task's pieces,
    see Planned.tasks: the client tells the progress task by task)."""
    with window.guard, fewer_collections():
        window.lately = 0
        read = (
            _share_records(window, counted, access)
            if window.share is not None
            else (each for piece in counted for each in _records(window, piece, access))
        )
        for position, record in read:
            window.lately += 1
            if isinstance(record, Problem):
                window.skipped += 1
                if len(window.problems) < limits.MOST_SKIPPED_LISTED:
                    window.problems.append((position, str(record)))
                continue
            name = part(record)
            mine = window.lane(name)
            if name not in window.began:
                window.began[name] = (record.at, mine.state(record.at))
                mine.inherit(record.at)
            first = window.began[name][0]
            if record.at < min(first - WARM_UP_SECONDS, window.warmed_from) + SURE_SECONDS:
                window.began[name] = (first, LATE)  # logged late: the window before carries on through it
            mine.add((position, record))
            window.counted[name] = window.counted.get(name, 0) + 1
    return window


def lately(window: FileWindow) -> tuple[int, bool]:
    """The records the window's last `count` read, and whether it found the end of its file before its run's end."""
    with window.guard:
        return window.lately, window.ended


def summary(window: FileWindow) -> Summary:
    """What the client needs to join the window to the one before, once it has counted all its files; the lanes of
    accounts and models it warmed up but had nothing to count are let go."""
    with window.guard:
        for name in [name for name in window.lanes if name not in window.began]:
            del window.lanes[name]
        return Summary(dict(window.began), dict(window.counted), list(window.problems), window.skipped)


def edges(window: FileWindow, wanted: Wanted) -> dict[str, Edge]:
    """Each lane `wanted`'s state when its next call is made, and its handover then (the reads of the entries each
    setting asks for)."""
    found = {}
    with window.guard:
        for name, (at, keys) in wanted.items():
            mine = window.lanes[name]
            found[name] = Edge(mine.state(at), mine.handover(at, keys))
    return found


def extend(window: FileWindow, names: set[str], counted: list[Piece], access: S3Access | None) -> FileWindow:
    """Runs on a worker: carry the lanes `names` on through the records of theirs in the pieces `counted` (the next
    window's, where its warm-up did not rebuild their state)."""
    with window.guard, fewer_collections():
        for piece in counted:
            for position, record in _records(window, piece, access, names):
                if not isinstance(record, Problem) and (name := part(record)) in names:
                    window.lanes[name].add((position, record))
    return window


def finish(window: FileWindow, name: str, oracle: Oracle | None) -> tuple[AuditResult, Oracle]:
    """A lane's result, its calls taken by the oracle of its account and model (the calls before, in the lanes
    finished before it, taken already); the lane is let go. The oracle travels, not the calls."""
    with window.guard:
        lane = window.lanes.pop(name)
        result, uses = lane.finish()
    if window.share is not None:  # its lane is its account and model's only one: it priced the oracle itself
        return result, lane.audit.oracle
    oracle = copy.deepcopy(oracle) if oracle is not None else Oracle()  # the one given stays as it was (a retry)
    for use in uses:
        oracle.take(use)
    return result, oracle


def drop(window: FileWindow, names: set[str]) -> FileWindow:
    """Let lanes go unfinished (the window before carried on through their records)."""
    with window.guard:
        for name in names:
            window.lanes.pop(name, None)
    return window
