"""The whole audit of one account and model in time windows (windows.AuditLane) adds up to the one audit of its
records in order, exactly: the totals, the doctor's miss causes with their examples and where each was first seen,
the what-if replays, the oracle and the skipped records; on generated traffic with 1h entries, reads that refresh
an entry from a later cache point, pauses past every TTL, calls logged out of time order and damaged records.
Where a warm-up is made too short to rebuild the doctor's and the replays' state, the windows that began wrong are
joined to their neighbour, and the sum is still exact."""

from __future__ import annotations

import functools
import itertools
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

from caching.audit import oracle, windows
from caching.audit.audit import Audit, AuditResult
from caching.audit.logs import LoggedCall
from caching.audit.report import as_json
from caching.audit.sources import Line, LogFile, read
from caching.check.recording import Problem

from . import windowing
from .test_windows import PAUSES, traffic

BUSY = (2.0, 20.0, 90.0, 240.0)  # pauses of a busy agent: its 1h system prompt entry never expires


@functools.cache
def records(seed: int, late: bool = False, pauses: tuple[float, ...] = PAUSES) -> list[windows.Record]:
    """The calls of `traffic(seed)`, with a damaged record now and then and, if `late`, some calls logged up to two
    hours after later ones; each with its place in the input."""
    rng = random.Random(seed)
    made: list[LoggedCall | Problem] = []
    for number, (call, _) in enumerate(traffic(seed, 160, pauses)):
        if rng.random() < 0.05:
            made.append(Problem(f"line {number}b: not JSON"))
        made.append(call)
    if late:
        for _ in range(6):
            index = rng.randrange(20, len(made) - 20)
            made.insert(index + rng.randrange(3, 15), made.pop(index))
    return [((0, number), record) for number, record in enumerate(made)]


def sequential(items: list[windows.Record]) -> AuditResult:
    audit = Audit()
    for position, record in items:
        audit.position = position
        audit.add(record)
    return audit.result()


def windowed(
    items: list[windows.Record], size: int, edges: list[tuple[int, int]] | None = None
) -> tuple[AuditResult, int]:
    """The records audited in windows of `size` (or from `edges`), each warmed up on the records before it, and
    joined by the audit's rule (see windowing.py)."""
    edges = edges or [(start, min(start + size, len(items))) for start in range(0, len(items), size)]
    parts = [windowing.window(windows.AuditLane.new(), items[:a], items[a:b]) for a, b in edges]
    results, back, joined = windowing.joined(parts)
    return windowing.audit(results, back, joined), joined


def same(result: AuditResult, expected: AuditResult) -> None:
    """The report's every figure, and the causes with where each was first seen (which orders them on a tie)."""
    assert as_json(result) == as_json(expected)
    assert result.causes == expected.causes
    assert result.oracle == expected.oracle


@pytest.mark.parametrize(("seed", "size"), [(1, 25), (2, 60)])
def test_the_audit_in_windows_is_the_audit_in_order(seed: int, size: int) -> None:
    items = records(seed)
    expected = sequential(items)
    kinds = {cause.kind for cause in expected.causes}
    assert {"expired", "new prefix"} <= kinds, kinds  # the doctor had misses of more than one kind to tell
    assert expected.skipped > 0 and expected.what_if["as sent"].wasted_tokens > 0
    result, joined = windowed(items, size)
    same(result, expected)
    assert joined == 0  # on calls in time order, every warm-up rebuilt the doctor's and the replays' state


def test_a_busy_agent_in_windows_is_the_audit_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """Calls every few seconds to minutes: each system prompt's 1h entry, written once, is read by every call after
    it and never expires, so no write of it is ever settled within a window. Each window hands the writes it leaves
    open to the next, and the waste later windows read is taken back: no window is joined, and the sum is exact."""
    items = records(4, pauses=BUSY)
    expected = sequential(items)
    assert expected.what_if["as sent"].wasted_tokens > 0
    result, joined = windowed(items, 20)
    same(result, expected)
    assert joined == 0
    monkeypatch.setattr(windows.Follower, "next", lambda self, handed: None)  # the handovers not followed:
    assert windowed(items, 20)[0].what_if != expected.what_if  # the waste later windows read is wrong


def test_windows_whose_uses_wait_in_files_add_up_to_the_audit_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each lane keeps at most USES_KEPT of its calls' uses in memory, the rest in a file: the oracle of the joined
    windows takes them all, in order, and costs what the one audit's does."""
    items = records(2)
    expected = sequential(items)
    monkeypatch.setattr(oracle, "USES_KEPT", 4)
    result, joined = windowed(items, 30)
    same(result, expected)
    assert joined == 0


def test_a_window_of_damaged_records_only_is_counted_by_the_window_before() -> None:
    """A window whose records of a lane are all damaged has no call to compare its state at: the lane before carries
    on through it, and its skipped records are counted once, as in order."""
    items = records(2)
    damaged = [((0, 1_000 + n), Problem(f"line {1_000 + n}: not JSON")) for n in range(3)]
    items = items[:50] + damaged + items[50:]
    expected = sequential(items)
    result, joined = windowed(items, 0, edges=[(0, 50), (50, 53), (53, len(items))])
    same(result, expected)
    assert joined == 3  # the damaged records, counted by the lane before theirs
    assert result.skipped == expected.skipped == sum(isinstance(record, Problem) for _, record in items)


def test_calls_logged_late_are_audited_as_in_order() -> None:
    items = records(3, late=True)
    expected = sequential(items)
    assert expected.out_of_order.calls > 0
    result, _ = windowed(items, 30)
    same(result, expected)


def test_a_warm_up_too_short_joins_the_windows_and_the_audit_stays_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a 60 s warm-up of at least one call, the doctor remembers too few requests and the replays miss entries
    alive at a window's start: those windows are joined to the one before, and the sum is still exact."""
    monkeypatch.setattr(windows, "WARM_UP_SECONDS", 60.0)
    monkeypatch.setattr(windowing, "WARM_UP_CALLS", 1)
    items = records(1)
    result, joined = windowed(items, 20)
    assert joined > 0
    same(result, sequential(items))


@pytest.mark.parametrize("seed", [3, 5])
def test_when_the_as_sent_replay_lets_written_entries_go_changes_nothing(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The as-sent replay lets go of what it knows of a write's entries every SETTLE_EVERY calls of its own, which
    are not the same calls in one process and in a window: a call logged late must find the same lengths either way
    (it found none, and counted reads as unexplained, when a write was let go as soon as its entries expired)."""
    from caching.audit import as_logged

    items = records(seed, late=True, pauses=BUSY)  # late by minutes, less than FORGET_AFTER_SECONDS
    monkeypatch.setattr(as_logged, "SETTLE_EVERY", 1)
    often = sequential(items)
    monkeypatch.setattr(as_logged, "SETTLE_EVERY", 10**9)
    seldom = sequential(items)
    assert often.what_if["as sent"].calls == seldom.what_if["as sent"].calls == 160
    assert often.what_if == seldom.what_if


def test_a_file_under_an_hour_folder_named_like_no_date_is_a_file_without_its_hour() -> None:
    """2083/13/01/00 is no hour: such logs are not windowed (one process reads them as any other file)."""
    from caching.audit import file_windows
    from caching.audit.sources import LogFile

    folder = "logs/AWSLogs/111122223333/BedrockModelInvocationLogs/us-east-1"
    good = [LogFile(f"{folder}/2026/11/{day:02d}/{hour:02d}/x.json") for day in (1, 2, 3) for hour in range(24)]
    assert file_windows.hour_of(good[0]) == 498_192  # 2026-11-01T00:00Z is second 1,793,491,200 of the epoch
    assert file_windows.plan(good, 2) is not None
    assert file_windows.hour_of(LogFile(f"{folder}/2083/13/01/00/x.json")) is None
    assert file_windows.plan([*good, LogFile(f"{folder}/2083/13/01/00/x.json")], 2) is None


@pytest.fixture(scope="module")
def busy_lines(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """The lines of test_cluster_windows' busy logs (ten hours of calls about two minutes apart), in time order."""
    from .test_cluster_windows import busy_logs, one_file_of

    return one_file_of(busy_logs(tmp_path_factory.mktemp("busy") / "logs")).splitlines(keepends=True)


def test_a_window_of_one_large_file_reads_it_once_from_task_to_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, busy_lines: list[bytes]
) -> None:
    """A window's warm-up and its tasks read runs of one gzipped file one after the other: the window opens the file
    once and goes on where the last task stopped (reading it again from its start for every task would cost as much
    again as the window), and counts each record of its runs once."""
    import gzip

    from caching.audit import file_windows
    from caching.audit.sources import LogFile

    one_file = tmp_path / "all.json.gz"
    one_file.write_bytes(gzip.compress(b"".join(busy_lines)))
    monkeypatch.setattr(file_windows, "WINDOW_HOURS", 4)
    monkeypatch.setattr(file_windows, "RECORDS_A_BLOCK", 10)
    monkeypatch.setattr(file_windows, "RECORDS_A_TASK", 40)
    planned = file_windows.plan_records(LogFile(str(one_file)), 2, None)
    assert planned is not None
    opened: list[str] = []
    items = file_windows._items
    monkeypatch.setattr(file_windows, "_items", lambda file, access: opened.append(file.name) or items(file, access))
    second = planned[1]
    window = file_windows.start(list(second.warm_up), (False, None, None), None)
    tasks = list(second.tasks())
    for task in tasks:
        window = file_windows.count(window, task, None)
    assert len(tasks) == 4 and opened == [str(one_file)]
    # Its records: from the 151st to the end of the file's 303, the damaged line (line 210) among them.
    assert sum(window.counted.values()) + window.skipped == 303 - 150 and window.skipped == 1
    assert window.problems[0][1].endswith("all.json.gz:210: not valid JSON; skipped it.")


def test_one_large_file_is_dealt_by_account_and_model_when_that_keeps_the_workers_even(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers, a file of 400 calls ten minutes apart (66 hours) in blocks of 10: of four accounts that two
    workers share two and two (as crc32 deals them), each worker audits the accounts dealt to it; of two accounts
    that one worker would get both of, it is cut in two windows of 200 records."""
    import zlib

    from caching.audit import file_windows
    from caching.audit.sources import LogFile

    monkeypatch.setattr(file_windows, "RECORDS_A_BLOCK", 10)
    model = "anthropic.claude-sonnet-4-6"
    accounts = [f"1111222233{n:02d}" for n in range(40)]
    dealt = {side: [a for a in accounts if zlib.crc32(f"{a}|{model}".encode()) % 2 == side] for side in (0, 1)}

    def one_file(name: str, chosen: list[str], later: list[str] | None = None) -> LogFile:
        """400 calls of the accounts `chosen` in turn (from the 101st, of the accounts `later` if given)."""
        path = tmp_path / name
        turns = [chosen[n % len(chosen)] if n < 100 or later is None else later[n % len(later)] for n in range(400)]
        lines = [
            json.dumps({"timestamp": 1_795_996_800 + 600 * n, "accountId": account, "modelId": model})
            for n, account in enumerate(turns)
        ]
        path.write_text("\n".join(lines) + "\n")
        return LogFile(str(path))

    even = one_file("even.json", dealt[0][:2] + dealt[1][:2])
    whole = (file_windows.Piece(0, even),)
    assert file_windows.plan_records(even, 2, None) == [
        file_windows.Planned((), whole, (0, 2)),
        file_windows.Planned((), whole, (1, 2)),
    ]
    uneven = one_file("uneven.json", dealt[0][:2])
    told: list[int] = []  # the progress: records read to plan, a block at a time
    planned = file_windows.plan_records(uneven, 2, None, told.append)
    assert told == [10] * 40
    assert planned is not None and [(p.counted[0].first, p.counted[-1].stop) for p in planned] == [
        (0, 200),
        (200, None),
    ]
    # Told by its first RECORDS_SAMPLED records: even in its first 100, the file is not read further.
    mixed = one_file("mixed.json", dealt[0][:2] + dealt[1][:2], later=dealt[0][:1])
    assert file_windows.plan_records(mixed, 2, None) is not None  # 350 and 50: uneven, read to the end
    monkeypatch.setattr(file_windows, "RECORDS_SAMPLED", 100)
    assert [plan.share for plan in file_windows.plan_records(mixed, 2, None) or []] == [(0, 2), (1, 2)]


def calls_ten_minutes_apart(path: Path, times: list[float | str], accounts: list[str] | None = None) -> LogFile:
    """A file of calls at `times` (seconds, or a timestamp's JSON text as a hostile log may write it), each of one
    account (or of `accounts`, in turn)."""
    model = "anthropic.claude-sonnet-4-6"
    who = accounts or ["111122223333"] * len(times)
    lines = [
        f'{{"timestamp": {at}, "accountId": "{account}", "modelId": "{model}"}}'
        for at, account in zip(times, who, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")
    return LogFile(str(path))


def test_a_time_no_calendar_has_is_no_time_to_plan_windows_by(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A record whose timestamp is 1e999 (infinite) or 1e300 seconds (past the year 9999) is skipped by the audit
    (logs.when_in_range): the plan passes over its time too, and cuts the file as it would without it, where an
    infinite span of hours ended the audit with a traceback (ValueError: cannot convert float NaN to integer)."""
    from caching.audit import file_windows

    monkeypatch.setattr(file_windows, "RECORDS_A_BLOCK", 10)
    start = 1_795_996_800
    times: list[float | str] = [start + 600 * n for n in range(400)]  # 66 hours: two windows of 200 records
    for odd in ("1e999", "1e300"):
        times[250] = odd
        planned = file_windows.plan_records(calls_ten_minutes_apart(tmp_path / "odd.json", times), 2, None)
        assert planned is not None and [(p.counted[0].first, p.counted[-1].stop) for p in planned] == [
            (0, 200),
            (200, None),
        ]
    line = '{"timestamp": 1e999, "accountId": "1"}'
    assert file_windows.time_of(Line("odd.json:1", line)) is None


def test_one_call_stamped_far_off_cuts_no_more_windows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One call of the year 9999 among 400 of 66 hours: the span is 8,000 years, but record windows are cut one per
    worker (more only past RECORDS_A_WINDOW records each), not one per WINDOW_HOURS of it: it cut one window a block
    (40 here), each read from the file's start."""
    from caching.audit import file_windows

    monkeypatch.setattr(file_windows, "RECORDS_A_BLOCK", 10)
    times: list[float | str] = [1_795_996_800 + 600 * n for n in range(400)]
    times[250] = '"9999-12-31T23:00:00Z"'
    planned = file_windows.plan_records(calls_ten_minutes_apart(tmp_path / "far.json", times), 2, None)
    assert planned is not None and [(p.counted[0].first, p.counted[-1].stop) for p in planned] == [
        (0, 200),
        (200, None),
    ]
    monkeypatch.setattr(file_windows, "RECORDS_A_WINDOW", 100)  # 400 records: four windows of at most 100
    planned = file_windows.plan_records(calls_ten_minutes_apart(tmp_path / "far.json", times), 2, None)
    assert planned is not None and [p.counted[0].first for p in planned] == [0, 100, 200, 300]


def test_a_damaged_line_leaves_an_even_file_dealt_by_account_and_model(tmp_path: Path) -> None:
    """A line whose account and model cannot be read is left out of the workers' shares: the four accounts still
    share two workers evenly, and the file is still dealt by account and model (it was cut in windows)."""
    import zlib

    from caching.audit import file_windows

    model = "anthropic.claude-sonnet-4-6"
    accounts = [f"1111222233{n:02d}" for n in range(40)]
    dealt = {side: [a for a in accounts if zlib.crc32(f"{a}|{model}".encode()) % 2 == side] for side in (0, 1)}
    four = dealt[0][:2] + dealt[1][:2]
    path = tmp_path / "even.json"
    calls_ten_minutes_apart(path, [1_795_996_800 + 600 * n for n in range(400)], [four[n % 4] for n in range(400)])
    path.write_text(path.read_text() + "{not json\n")
    planned = file_windows.plan_records(LogFile(str(path)), 2, None)
    assert planned is not None and [plan.share for plan in planned] == [(0, 2), (1, 2)]


BUSY_MODEL = "global.anthropic.claude-sonnet-4-6"  # the model of the busy logs' calls


def four_accounts(lines: list[bytes]) -> tuple[list[bytes], list[str]]:
    """The lines with their account changed to one of four, in turn (two dealt to each of two workers, as crc32
    deals them, the first two to the first); and the four accounts."""
    import zlib

    def dealt(side: int) -> list[str]:
        names = (f"1111222233{n:02d}" for n in range(40))
        return [a for a in names if zlib.crc32(f"{a}|{BUSY_MODEL}".encode()) % 2 == side][:2]

    four = dealt(0) + dealt(1)
    changed = [
        re.sub(rb'"accountId":"[0-9]+"', f'"accountId":"{four[n % 4]}"'.encode(), line, count=1)
        for n, line in enumerate(lines)
    ]
    return changed, four


@pytest.mark.parametrize("cuts", [(), (150, 150, 260)], ids=["one_file", "four_files_one_empty"])
def test_each_share_of_the_input_counts_its_accounts_and_the_first_the_damaged_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, busy_lines: list[bytes], cuts: tuple[int, ...]
) -> None:
    """The busy agent's file, its calls dealt to four accounts in turn (or its lines cut in files at `cuts`), read by
    each of two workers in runs of 100 records (a run goes on into the next file) until a run finds the end: each
    share counts the calls of the two accounts dealt to it, and only the first counts the damaged line; the run after
    the end is asked for, and reads nothing."""
    from caching.audit import file_windows

    monkeypatch.setattr(file_windows, "RECORDS_A_TASK", 100)
    lines, four = four_accounts(busy_lines)
    edges = list(itertools.pairwise((0, *cuts, len(lines))))
    files = []
    for index, (begin, end) in enumerate(edges):
        path = tmp_path / f"four-{index}.json"
        path.write_bytes(b"".join(lines[begin:end]))
        files.append(LogFile(str(path)))
    where = [(index, n - begin) for index, (begin, end) in enumerate(edges) for n in range(begin, end)]
    damaged = next(n for n, line in enumerate(lines) if line.startswith(b"{not json"))
    runs = -(-len(lines) // 100)
    for plan, mine in zip(file_windows.shares(files, 2), (four[:2], four[2:]), strict=True):
        window = file_windows.start([], (False, None, None), None, plan.share)
        told = []
        for task in itertools.islice(plan.tasks(), runs + 1):
            assert task == [file_windows.Piece(n, file) for n, file in enumerate(files)]  # read on where it stopped
            window = file_windows.count(window, task, None)
            told.append(file_windows.lately(window))
        first = plan.share == (0, 2)
        own = [n for n in range(len(lines)) if (n % 4 < 2) == first and n != damaged]
        assert window.counted == {f"{a}|{BUSY_MODEL}": sum(1 for n in own if four[n % 4] == a) for a in mine}
        assert window.skipped == first and [position for position, _ in window.problems] == [where[damaged]] * first
        ended = [False] * (runs - 1) + [True, True]
        assert told == [
            (sum(100 * r <= n < 100 * (r + 1) for n in own + [damaged] * first), ended[r]) for r in range(runs + 1)
        ]


@pytest.mark.parametrize(
    "folder", ["", "AWSLogs/1/BedrockModelInvocationLogs/us-east-1/2026/11/30/0"], ids=["shares", "hourly_windows"]
)
def test_a_fifo_among_files_the_workers_would_read_is_refused_before_any_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, busy_lines: list[bytes], folder: str
) -> None:
    """A FIFO given among files that the workers would read themselves (in shares, past the records sampled to plan
    them; or in windows of files of an hour) is refused in the sentence one process ends with, before the cluster
    reads anything (each worker once failed on it: "not audited, a Dask worker failed on it" twice, then "No model
    invocation log record was found")."""
    import os

    from caching.audit import file_windows, parallel
    from caching.files import FileError

    class Client:  # a local cluster of two workers, as far as the audit asks before it plans
        cluster = object()

        def scheduler_info(self) -> dict[str, Any]:
            return {"workers": {"tcp://127.0.0.1:1": {}, "tcp://127.0.0.1:2": {}}}

    monkeypatch.setattr(file_windows, "RECORDS_SAMPLED", 100)
    lines = four_accounts(busy_lines)[0]
    names = [
        f"{folder}{hour}/{name}" if folder else name for hour, name in enumerate(("a.json", "pipe.json", "b.json"))
    ]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / names[0]).write_bytes(b"".join(lines[:150]))
    os.mkfifo(tmp_path / names[1])
    (tmp_path / names[2]).write_bytes(b"".join(lines[150:]))
    paths = [str(tmp_path / name) for name in names]
    told = f"{paths[1]!r} is a FIFO (named pipe), not a regular file: pass a file holding invocation logs."
    with pytest.raises(FileError) as refused:
        parallel.audit_parallel(paths, Client())  # type: ignore[arg-type]
    assert str(refused.value) == told
    with pytest.raises(FileError) as alone:
        list(read(paths))
    assert str(alone.value) == told


def test_a_share_pickled_between_its_tasks_goes_on_where_it_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, busy_lines: list[bytes]
) -> None:
    """A share's window that Dask pickles between two tasks (to spill it to disk, or send it to another worker)
    loses its open file: the next task reads its files again up to where the last one stopped, so each record is
    counted once and a run finds the end (it once read them again from the first file's start: the second share
    counted 160 records in 8 runs of 40, not 151, and never found the end: the client kept asking for runs)."""
    import pickle

    from caching.audit import file_windows

    monkeypatch.setattr(file_windows, "RECORDS_A_TASK", 40)
    lines, four = four_accounts(busy_lines)
    files = []
    for name, part in (("a.json", lines[:130]), ("b.json", lines[130:])):
        (tmp_path / name).write_bytes(b"".join(part))
        files.append(LogFile(str(tmp_path / name)))
    plan = file_windows.shares(files, 2)[1]
    window = file_windows.start([], (False, None, None), None, plan.share)
    runs = -(-len(lines) // 40)
    for task in itertools.islice(plan.tasks(), runs):
        window = pickle.loads(pickle.dumps(file_windows.count(window, task, None)))
    mine = [n for n in range(len(lines)) if n % 4 >= 2]  # the damaged line (in an even place) is the first share's
    assert len(lines) == 303 and lines[209].startswith(b"{not json")
    assert window.counted == {f"{a}|{BUSY_MODEL}": sum(four[n % 4] == a for n in mine) for a in four[2:]}
    assert sum(window.counted.values()) == 151 and file_windows.lately(window)[1]


def test_a_window_s_warm_up_reaches_back_for_a_call_logged_late_in_its_account_and_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call logged eight hours late among the second window's records replays on the entries alive when it was
    made: the warm-up goes back WARM_UP_SECONDS from its time, not from the window's first call's (then an entry
    written 4.5 hours before the window and alive when the late call was made was not rebuilt, and the join, which
    compares the lanes at their first call in the window when that entry has expired, did not notice: the --jobs 2
    report's spend differed from one process's). Another account's calls of the first hours, in order, written after
    the busy one's (files joined one after the other), are no call logged late: that lane's first call is compared."""
    from caching.audit import file_windows
    from caching.audit.windows import WARM_UP_SECONDS

    monkeypatch.setattr(file_windows, "RECORDS_A_BLOCK", 10)
    start = 1_795_996_800
    times: list[float | str] = [start + 600 * n for n in range(400)]
    accounts = ["111122223333"] * 400 + ["444455556666"] * 40
    joined = calls_ten_minutes_apart(tmp_path / "joined.json", [*times, *times[:40]], accounts)
    planned = file_windows.plan_records(joined, 2, None)
    assert planned is not None and [p.counted[0].first for p in planned] == [0, 220]
    # From the first block (of 10 records) with a call in the WARM_UP_SECONDS before the window's first.
    assert planned[1].warm_up == (file_windows.Piece(0, joined, 190, 220),)
    assert times[189] < times[220] - WARM_UP_SECONDS <= times[199]
    late = times.pop(150)  # 25 hours in, logged among the calls of 33 hours in
    times.insert(230, late)
    one = calls_ten_minutes_apart(tmp_path / "late.json", times)
    planned = file_windows.plan_records(one, 2, None)
    assert planned is not None and [p.counted[0].first for p in planned] == [0, 200]
    assert planned[1].warm_up == (file_windows.Piece(0, one, 120, 200),)  # where it began at 170
    assert times[119] < float(late) - WARM_UP_SECONDS <= times[129]


@pytest.mark.parametrize(("moved", "joined"), [(20, True), (120, False)])
def test_a_call_logged_hours_late_into_a_window_has_its_lane_joined(
    tmp_path: Path, busy_lines: list[bytes], moved: int, joined: bool
) -> None:
    """A window counts the busy agent's calls from the 151st (about 5.7 hours in), after a warm-up on those before.
    The 21st call (46 minutes in), logged among them, has less than SURE_SECONDS (three hours) of the warm-up before
    it: the cache of its own time may not be rebuilt, so its lane begins in a state no window before can match, and
    is joined (files of an hour take no plan that reaches back for such a call). The 121st (4.6 hours in) has more."""
    from datetime import datetime

    from caching.audit import file_windows
    from caching.audit.windows import LATE, SURE_SECONDS

    assert SURE_SECONDS == 3 * 3_600
    lines = list(busy_lines)
    lines.insert(200, lines.pop(moved))
    path = tmp_path / "late.json"
    path.write_bytes(b"".join(lines))
    times = [
        datetime.fromisoformat(json.loads(line)["timestamp"].replace("Z", "+00:00")).timestamp() for line in lines[:5]
    ]
    file = LogFile(str(path))
    window = file_windows.start([file_windows.Piece(0, file, 0, 150)], (False, None, None), None)
    window = file_windows.count(window, [file_windows.Piece(0, file, 150, None)], None)
    assert window.warmed_from == times[0]
    busy = max(window.began, key=lambda name: window.counted[name])
    assert (window.began[busy][1] == LATE) is joined


def test_a_line_whose_parser_reads_another_account_than_its_text_plainly_says_is_decoded_by_every_share(
    tmp_path: Path, busy_lines: list[bytes]
) -> None:
    """Lines that plainly say one account (dealt to the first worker) where the parser reads another, or none: the
    account in an object before the bodies (the record has none; or a number, 1), said again after the bodies or
    with an escaped key (the last one counts), an `aws logs filter-log-events` page that says it too (its event is
    another account's), a --record line that says it too (its calls are "recorded"). Each is decoded to be dealt:
    the two shares count every account's calls exactly as one process reads them, and no account in both (a lane in
    each: the one-process report's calls were split, and 22 of them lost)."""
    from collections import Counter

    from caching.audit import file_windows

    lines, four = four_accounts(busy_lines)
    first, second = four[0], four[2]  # dealt to the first worker, and to the second
    said = f'"accountId":"{first}"'
    record = json.loads(lines[4])
    recorded = {
        "agent": "a",
        "at": 1_795_996_800,
        "model_id": BUSY_MODEL,
        "request": record["input"]["inputBodyJson"],
        "usage": record["output"]["outputBodyJson"]["usage"],
    }
    shapes = {  # (the line of the first account it replaces, its text, whose call the parser reads)
        "nested": (4, lines[4].decode().replace(said, f'"meta":{{{said}}}'), ""),
        "a number": (8, lines[8].decode().replace(said, f'"accountId":1,"meta":{{{said}}}'), "1"),
        "said again": (12, lines[12].decode().rstrip()[:-1] + f',"accountId":"{second}"}}', second),
        "escaped": (16, lines[16].decode().replace(said, f'{said},"\\u0061ccountId":"{second}"'), second),
        "recorded": (20, json.dumps({"accountId": first, "modelId": BUSY_MODEL, **recorded}), "recorded"),
    }
    page = {"accountId": first, "modelId": BUSY_MODEL, "events": [{"message": lines[26].decode().strip()}]}
    changed = list(lines)
    for at, text, _ in shapes.values():
        assert file_windows.part_of(Line("x.json:1", text)) is None
        changed[at] = text.encode() + b"\n"
    changed[26] = json.dumps(page).encode() + b"\n"  # in place of the second account's call it holds
    assert file_windows.part_of(Line("x.json:1", changed[26].decode())) is None
    path = tmp_path / "hostile.json"
    path.write_bytes(b"".join(changed))
    damaged = next(n for n, line in enumerate(lines) if line.startswith(b"{not json"))
    expected = Counter(f"{four[n % 4]}|{BUSY_MODEL}" for n in range(len(lines)) if n != damaged)
    for _, _, account in shapes.values():
        expected[f"{first}|{BUSY_MODEL}"] -= 1
        expected[f"{account}|{BUSY_MODEL}"] += 1
    counted = []
    for side, plan in enumerate(file_windows.shares([LogFile(str(path))], 2)):
        window = file_windows.start([], (False, None, None), None, plan.share)
        window = file_windows.count(window, [file_windows.Piece(0, plan.counted[0].file)], None)
        assert {file_windows.slice_of(name, 2) for name in window.counted} == {side}
        counted.append(window.counted)
    assert counted[0].keys().isdisjoint(counted[1]) and Counter(counted[0]) + Counter(counted[1]) == expected
