"""One busy account and model spread over the workers in time windows of whole log files (file_windows.py): logs of
an hour each, as AWS delivers them, audited by a local cluster reading the files and by a team's cluster reading S3
objects, give the one-process report to the character, the busy account's windows joined by their warm-ups alone."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from caching.__main__ import main as cli
from caching.emulator import Emulator, ManualClock

from ..helpers import CP, SONNET, render_with, text_of, user

pytestmark = pytest.mark.xdist_group("dask")
HOUR_CP: dict[str, Any] = {"cachePoint": {"type": "default", "ttl": "1h"}}
HOURS = 10


def busy_logs(folder: Path) -> Path:
    """Ten hours of one account's six users, a turn every two minutes or so (its 1h system prompt entry never
    expires, and its conversations start over now and then), and a second account that calls at the first hour and
    the last; then a damaged line in one file."""
    clock = ManualClock()
    emulator = Emulator(clock=clock, invocation_log=str(folder))
    busy = emulator.session("AKIABUSY0000000001").client("bedrock-runtime")
    rare = emulator.session("AKIARARE0000000002").client("bedrock-runtime")
    system = [{"text": text_of(2_200, "policy")}, HOUR_CP]
    histories: dict[int, list[dict[str, Any]]] = {}
    for turn in range(HOURS * 30):
        person = turn % 6
        history = histories.setdefault(person, [])
        if turn % 37 == 0:
            history.clear()
        history.append(user(f"Question {turn}", CP))
        answer = busy.converse(modelId=SONNET, system=system, messages=history)
        history[-1] = user(f"Question {turn}")
        history.append(answer["output"]["message"])
        if turn in (3, HOURS * 30 - 3):
            rare.converse(modelId=SONNET, system=[{"text": text_of(2_100, "rare")}, CP], messages=[user("Hi", CP)])
        clock.advance(97.0 + 41 * (turn % 3))
    files = sorted(folder.rglob("*.json*"))
    middle = files[len(files) // 2]
    middle.write_text(middle.read_text() + "{not json\n")
    return folder


def one_file_of(logs: Path) -> bytes:
    """The logs' files joined end to end, in time order (as one downloaded or exported file holds them)."""
    return b"".join(file.read_bytes() for file in sorted(logs.rglob("*.json*")))


def report(*args: str) -> str:
    return render_with(lambda console: cli(["audit", *args, "--json"], console), width=300)


def spied(parallel: ModuleType, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The results of the windowed audits the client ran (empty: it audited by account and model)."""
    seen: list[Any] = []
    original = parallel.audit_parallel

    def audit_parallel(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        seen.append(result)
        return result

    by_window = parallel._by_window

    def windowed(*args: Any, **kwargs: Any) -> Any:
        seen.append("windows")
        return by_window(*args, **kwargs)

    monkeypatch.setattr(parallel, "audit_parallel", audit_parallel)
    monkeypatch.setattr(parallel, "_by_window", windowed)
    return seen


def test_one_busy_agent_in_windows_on_a_local_cluster_and_on_s3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, s3_server: Any, dask_scheduler: str, jobs_2: None
) -> None:
    from caching.audit import file_windows, parallel

    logs = busy_logs(tmp_path / "logs")
    monkeypatch.setattr(file_windows, "WINDOW_HOURS", 4)  # ten hours: two windows, the second warmed up on five
    seen = spied(parallel, monkeypatch)
    alone = report(str(logs))
    one = json.loads(alone)
    assert one["total"]["calls"] == HOURS * 30 + 2 and one["total"]["hits"] > HOURS * 25
    assert len(one["skipped_records"]) == 1
    assert report(str(logs), "--jobs", "2") == alone
    # The busy account's second window began as its first ended; the other account's doctor remembered its first
    # call, nine hours before: its one call in the second window was audited again by the first.
    assert seen[0] == "windows" and seen[1].rejoined == 1

    s3_server.create_bucket(Bucket="busy")
    for file in sorted(p for p in logs.rglob("*") if p.is_file()):
        s3_server.put_object(Bucket="busy", Key=str(file.relative_to(logs)), Body=file.read_bytes())
    on_s3 = report("s3://busy/AWSLogs")
    assert report("s3://busy/AWSLogs", "--scheduler", dask_scheduler) == on_s3
    assert seen[2] == "windows" and seen[3].rejoined == 1
    assert json.loads(on_s3)["total"] == one["total"]


def test_one_large_file_of_a_busy_agent_in_windows_of_its_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs_2: None
) -> None:
    """The same logs as one file (gzipped, as a download or an export is): two windows of runs of its records, the
    second warmed up on the records of the hours before it, read in tasks of a few records each from where the last
    task stopped; the one-process report to the character."""
    import gzip
    from datetime import datetime

    from caching.audit import file_windows, parallel
    from caching.audit.sources import LogFile

    logs = busy_logs(tmp_path / "logs")
    one_file = tmp_path / "all.json.gz"
    one_file.write_bytes(gzip.compress(one_file_of(logs)))
    monkeypatch.setattr(file_windows, "WINDOW_HOURS", 4)
    monkeypatch.setattr(file_windows, "RECORDS_A_BLOCK", 10)
    monkeypatch.setattr(file_windows, "RECORDS_A_TASK", 40)
    planned = file_windows.plan_records(LogFile(str(one_file)), 2, None)
    assert planned is not None and len(planned) == 2
    # 303 records (both accounts' calls and the damaged line): 31 blocks of 10, cut after 15; tasks of 40 records.
    assert [(piece.first, piece.stop) for piece in planned[0].counted] == [(0, 40), (40, 80), (80, 120), (120, 150)]
    assert [(piece.first, piece.stop) for piece in planned[1].counted] == [
        (150, 190),
        (190, 230),
        (230, 270),
        (270, None),
    ]
    # The second window's warm-up: the blocks from the last with no call in the 4 hours before its first record's.
    times = [json.loads(line)["timestamp"] for line in gzip.decompress(one_file.read_bytes()).splitlines()[:160]]
    seconds = [datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() for stamp in times]
    (warm_up,) = planned[1].warm_up
    assert planned[0].warm_up == () and warm_up.stop == 150 and warm_up.first % 10 == 0
    assert (
        max(seconds[warm_up.first - 10 : warm_up.first])
        < seconds[150] - 4 * 3_600
        <= max(seconds[warm_up.first : warm_up.first + 10])
    )
    seen = spied(parallel, monkeypatch)
    alone = report(str(one_file))
    assert report(str(one_file), "--jobs", "2") == alone
    assert seen[0] == "windows"
    assert json.loads(alone)["total"]["calls"] == HOURS * 30 + 2


def test_one_large_file_of_four_accounts_in_shares_read_by_each_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs_2: None
) -> None:
    """The same logs as one file, their calls dealt to four accounts in turn: two workers each read the whole file,
    in runs of a few records, and audit the two accounts dealt to it; the one-process report to the character."""
    import gzip

    from caching.audit import file_windows, parallel

    from .test_audit_windows import four_accounts

    logs = busy_logs(tmp_path / "logs")
    lines = one_file_of(logs).splitlines(keepends=True)
    one_file = tmp_path / "four.json.gz"
    one_file.write_bytes(gzip.compress(b"".join(four_accounts(lines)[0])))
    monkeypatch.setattr(file_windows, "RECORDS_A_TASK", 40)
    seen = spied(parallel, monkeypatch)
    alone = report(str(one_file))
    assert report(str(one_file), "--jobs", "2") == alone
    assert seen[0] == "windows" and seen[1].rejoined == 0
    one = json.loads(alone)
    assert one["total"]["calls"] == HOURS * 30 + 2
    assert one["skipped_records"][0].endswith("four.json.gz:210: not valid JSON; skipped it.")


def test_several_files_of_four_accounts_in_shares_read_by_each_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs_2: None
) -> None:
    """The four accounts' lines in three files (one gzipped, one empty between): each worker reads them all in
    order, in runs of a few records that go on from one file into the next, and audits the two accounts dealt to
    it; the one-process report to the character."""
    import gzip

    from caching.audit import file_windows, parallel

    from .test_audit_windows import four_accounts

    lines = four_accounts(one_file_of(busy_logs(tmp_path / "logs")).splitlines(keepends=True))[0]
    paths = [tmp_path / "a.json.gz", tmp_path / "b.json", tmp_path / "c.json"]
    paths[0].write_bytes(gzip.compress(b"".join(lines[:130])))
    paths[1].write_bytes(b"")
    paths[2].write_bytes(b"".join(lines[130:]))
    monkeypatch.setattr(file_windows, "RECORDS_A_TASK", 40)
    seen = spied(parallel, monkeypatch)
    alone = report(*map(str, paths))
    assert report(*map(str, paths), "--jobs", "2") == alone
    assert seen[0] == "windows" and seen[1].rejoined == 0
    one = json.loads(alone)
    assert one["total"]["calls"] == HOURS * 30 + 2
    assert one["skipped_records"][0].endswith("c.json:80: not valid JSON; skipped it.")  # line 210 of the whole


def test_the_first_disagreeing_record_of_the_shares_is_the_first_in_the_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs_2: None
) -> None:
    """Two files of two accounts (dealt one to each worker), each file a record of each whose cache counts disagree:
    the report names the first of them in the input, in z.json, as one process does (the shares once named the
    least in words, in a.json)."""
    import zlib

    from caching.audit import parallel

    from .test_record_shapes import disagreeing

    names = (f"1111222233{n:02d}" for n in range(40))
    one, other = (next(a for a in names if zlib.crc32(f"{a}|{SONNET}".encode()) % 2 == side) for side in (0, 1))
    for name, hours, accounts in (("z.json", [0], [one]), ("a.json", [1, 2, 3], [other, one, other])):
        at = (f"2026-11-30T0{hour}:00:00Z" for hour in hours)
        records = [{**disagreeing(next(at), 0), "accountId": account} for account in accounts]
        (tmp_path / name).write_text("".join(json.dumps(each) + "\n" for each in records))
    paths = [str(tmp_path / "z.json"), str(tmp_path / "a.json")]
    seen = spied(parallel, monkeypatch)
    alone = report(*paths)
    assert report(*paths, "--jobs", "2") == alone
    assert seen[0] == "windows"
    assert json.loads(alone)["skipped_records"] == [
        "4 records whose cache counts disagree between the metadata, the body and the invocation metrics: counted "
        f"as the first of those says (the first record, {paths[0]}:1: tokens read: the metadata 0, the body 2,500)."
    ]


def dies_when(condition: str) -> str:
    """A Dask worker preload: counting pieces kills the worker, as a crash would, when `condition` holds (Python,
    of the task's `window` and its `counted` pieces)."""
    return f"""
import os
from caching.audit import file_windows
count = getattr(file_windows, "unspoilt", file_windows.count)  # Dask may load a preload twice
file_windows.unspoilt = count
def dying(window, counted, access):
    if {condition}:
        os._exit(3)
    return count(window, counted, access)
file_windows.count = dying
"""


# Counting a file whose name begins with "dies-" kills the worker.
DIES = dies_when('any(os.path.basename(piece.file.name).startswith("dies-") for piece in counted)')


def test_a_worker_that_dies_with_a_window_is_one_line_and_the_other_window_stands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second window's worker dies on one of its files (Dask tries no other: allowed-failures 0): its files are
    one line; the first window's calls are audited as one process audits its files alone."""
    import dask

    from caching.audit import file_windows, parallel
    from caching.audit.sources import LogFile, log_files

    from .test_audit import FORKED

    logs = busy_logs(tmp_path / "logs")
    monkeypatch.setattr(file_windows, "WINDOW_HOURS", 4)  # two windows of the logs' hours

    def windows() -> list[list[str]]:
        files = [found for found in log_files([str(logs)]) if isinstance(found, LogFile)]
        planned = file_windows.plan(files, 2)
        assert planned is not None and len(planned) == 2
        return [[piece.file.name for piece in plan.counted] for plan in planned]

    doomed = Path(windows()[1][1])
    doomed.rename(doomed.with_name("dies-" + doomed.name))
    first, second = windows()
    (tmp_path / "dies.py").write_text(DIES)
    seen = spied(parallel, monkeypatch)
    config = {"distributed.worker.preload": [str(tmp_path / "dies.py")], "distributed.scheduler.allowed-failures": 0}
    with dask.config.set({**config, **FORKED}):
        report = json.loads(report_of(str(logs), "--jobs", "2"))
    assert seen[0] == "windows"
    assert report["skipped_records"] == [
        f"{len(second)} files from {second[0]}: not audited, a Dask worker stopped while on it."
    ]
    alone = json.loads(report_of(*first))
    assert {key: value for key, value in report.items() if key != "skipped_records"} == {
        key: value for key, value in alone.items() if key != "skipped_records"
    }
    assert report["total"]["calls"] == alone["total"]["calls"] > 100


# Counting the second share of a file whose name begins with "dies-" kills the worker.
SHARE_DIES = dies_when('window.share == (1, 2) and os.path.basename(counted[0].file.name).startswith("dies-")')


def test_a_worker_that_dies_with_a_share_is_one_line_and_the_other_share_stands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One file of four accounts, dealt two and two: the worker of the second share dies on it (Dask tries no
    other). That share is one line; the first share's calls are audited as one process audits its accounts' lines."""
    import gzip

    import dask

    from caching.audit import parallel

    from .test_audit import FORKED
    from .test_audit_windows import four_accounts

    logs = busy_logs(tmp_path / "logs")
    lines, four = four_accounts(one_file_of(logs).splitlines(keepends=True))
    doomed = tmp_path / "dies-four.json.gz"
    doomed.write_bytes(gzip.compress(b"".join(lines)))
    first = tmp_path / "first.json"  # the first share's accounts, and the damaged line (no one's: the first share's)
    first.write_bytes(b"".join(line for line in lines if not any(f'"{a}"'.encode() in line for a in four[2:])))
    (tmp_path / "dies.py").write_text(SHARE_DIES)
    seen = spied(parallel, monkeypatch)
    config = {"distributed.worker.preload": [str(tmp_path / "dies.py")], "distributed.scheduler.allowed-failures": 0}
    with dask.config.set({**config, **FORKED}):
        report = json.loads(report_of(str(doomed), "--jobs", "2"))
    assert seen[0] == "windows"
    assert report["skipped_records"][0] == (
        f"the accounts and models of {doomed} dealt to worker 2 of 2: not audited, a Dask worker stopped while on it."
    )
    alone = json.loads(report_of(str(first)))
    where = ("skipped_records", "unexplained_reads", "unexplained_misses", "out_of_order")  # name a file's lines
    assert {key: value for key, value in report.items() if key not in where} == {
        key: value for key, value in alone.items() if key not in where
    }
    assert report["total"]["calls"] == alone["total"]["calls"] > 100
    assert report["unexplained_reads"]["calls"] == alone["unexplained_reads"]["calls"] == 1


def report_of(*paths: str) -> str:
    return render_with(lambda console: cli(["audit", *paths, "--json"], console), width=300)


def test_ctrl_c_while_windows_are_audited_stops_the_cluster_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C while the workers count their windows: exit 130 with one word, nothing else on stdout or stderr."""
    from caching.audit import file_windows, parallel

    logs = busy_logs(tmp_path / "logs")
    monkeypatch.setattr(file_windows, "WINDOW_HOURS", 4)
    seen = spied(parallel, monkeypatch)

    def interrupted(futures: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(parallel, "as_completed", interrupted)  # the first wait for a window's progress
    text = render_with(lambda c: cli(["audit", str(logs), "--jobs", "2"], c), expect=130)
    assert text == "Interrupted.\n"
    assert seen == ["windows"]
    assert capfd.readouterr() == ("", "")
