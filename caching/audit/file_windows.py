"""The audit in time windows of whole log files, so that one busy account and model is audited by several workers
at once (parallel.py runs them on Dask; windows.py is why the windows add up to the audit in order, exactly).

Logs AWS delivers name their hour (sources.HOURLY). A window counts the files of a run of hours, after a warm-up on
the files of the WARM_UP_HOURS before it, each account and model in its own lane (windows.AuditLane). A worker reads
a window's files itself (an S3 object by its key, a local file by its path), so no window's records wait in memory
for a worker to be free. What runs here runs on a worker and imports no Dask.
"""

from __future__ import annotations

import copy
import itertools
import math
import pickle
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .. import limits
from ..check.recording import Problem
from .audit import AuditResult
from .collector import fewer_collections
from .logs import LoggedCall, model_of
from .oracle import Oracle
from .s3client import S3Access
from .sources import HOURLY, Line, LogFile, decode, local_file, s3_object
from .windows import WARM_UP_SECONDS, AuditLane, Edge, Position, Wanted

WARM_UP_HOURS = math.ceil(WARM_UP_SECONDS / 3_600) + 1  # an hour's file holds calls from all of that hour
# The fewest hours a window counts: its warm-up costs at most half as much again. A window is worth its warm-up when
# the cluster has a worker for it: one per worker, unless that makes windows longer than WINDOW_MOST_HOURS (what a
# window holds until it is joined grows with its calls: the oracle's `Use` of each).
WINDOW_HOURS = 2 * WARM_UP_HOURS
WINDOW_MOST_HOURS = 48
FILES_A_TASK = 6  # files a worker counts between two reports of progress to the client
# What a window is said to weigh for each record it counted (see FileWindow.__sizeof__): more than it holds (a
# call's Use is about 150 bytes, the caches are bounded), so that Dask never takes moving one to be cheap.
SIZE_A_RECORD = 1_000
Options = tuple[bool, float | None, float | None]  # show_text, since, until
HEAD_KEY = re.compile(r'"(accountId|modelId)"\s*:\s*"([^"\\]*)"')
BODIES = re.compile(r'"(?:input|output)"\s*:')


def part_of(line: Line) -> str | None:
    """The account and model of a record, read from its text before the bodies (where AWS writes them), so the line
    need not be decoded to be split; None when they are not plainly there (then it is decoded to be sure)."""
    bodies = BODIES.search(line.text)
    found = HEAD_KEY.findall(line.text, 0, bodies.start() if bodies else len(line.text))
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


@dataclass(frozen=True)
class Planned:
    """One window: the indexes (in the input's order) of the files of its warm-up and of the files it counts."""

    warm_up: tuple[int, ...]
    counted: tuple[int, ...]


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
            tuple(i for i, hour in enumerate(known) if start - WARM_UP_HOURS <= hour < start),
            tuple(i for i, hour in enumerate(known) if start <= hour < end),
        )
        for start, end in itertools.pairwise(starts)
    ]


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

    def __sizeof__(self) -> int:
        """Its weight for Dask, which weighs moving a task's inputs to an idle worker against waiting for the busy
        one: it is told a window is large, so that moving one (pickled whole) never looks cheap."""
        return SIZE_A_RECORD * (sum(self.counted.values()) + self.lately + 1)

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        with self.guard:  # pickled whole while no task changes it
            state = {name: value for name, value in self.__dict__.items() if name != "guard"}
            return _restored, (pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL),)

    def lane(self, name: str) -> AuditLane:
        """The lane of an account and model, new if it has none."""
        found = self.lanes.get(name)
        if found is None:
            found = self.lanes[name] = AuditLane.new(*self.options)
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


def _records(
    index: int, file: LogFile, access: S3Access | None, only: set[str] | None = None
) -> Iterator[tuple[Position, LoggedCall | Problem]]:
    """Every record of a file or S3 object, decoded, with where it is in the input (`only`: those of these accounts
    and models, the others' lines not decoded when their account and model can be read without)."""
    where = file.s3
    if where is not None:
        if access is None:
            raise ValueError("No S3 access was sent with an S3 object.")
        items: Iterable[Any] = s3_object(*where, access.client(), defer=True)
    else:
        items = local_file(file, defer=True)
    for number, item in enumerate(items):
        if only is not None and isinstance(item, Line) and (name := part_of(item)) is not None and name not in only:
            continue
        for each in decode(item) if isinstance(item, Line) else (item,):
            yield (index, number), each


def start(warm_up: list[tuple[int, LogFile]], options: Options, access: S3Access | None) -> FileWindow:
    """Runs on a worker: a window warmed up on the `warm_up` files, counting nothing."""
    window = FileWindow(options=options)
    with fewer_collections():
        for index, file in warm_up:
            for position, record in _records(index, file, access):
                if not isinstance(record, Problem):
                    window.lane(part(record)).add((position, record), counted=False)
    return window


def count(window: FileWindow, counted: list[tuple[int, LogFile]], access: S3Access | None) -> FileWindow:
    """Runs on a worker: the window carried on through the `counted` files, counting every record (a task of at
    most FILES_A_TASK files, so the client can tell the progress)."""
    with window.guard, fewer_collections():
        window.lately = 0
        for index, file in counted:
            for position, record in _records(index, file, access):
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
                mine.add((position, record))
                window.counted[name] = window.counted.get(name, 0) + 1
    return window


def lately(window: FileWindow) -> int:
    """The records the window's last `count` read."""
    with window.guard:
        return window.lately


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


def extend(
    window: FileWindow, names: set[str], counted: list[tuple[int, LogFile]], access: S3Access | None
) -> FileWindow:
    """Runs on a worker: carry the lanes `names` on through the records of theirs in the files `counted` (the next
    window's, where its warm-up did not rebuild their state)."""
    with window.guard, fewer_collections():
        for index, file in counted:
            for position, record in _records(index, file, access, names):
                if not isinstance(record, Problem) and (name := part(record)) in names:
                    window.lanes[name].add((position, record))
    return window


def finish(window: FileWindow, name: str, oracle: Oracle | None) -> tuple[AuditResult, Oracle]:
    """A lane's result, its calls taken by the oracle of its account and model (the calls before, in the lanes
    finished before it, taken already); the lane is let go. The oracle travels, not the calls."""
    with window.guard:
        result, uses = window.lanes.pop(name).finish()
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
