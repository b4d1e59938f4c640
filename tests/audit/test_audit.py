"""`caching audit`: Bedrock model invocation logs in every shape AWS delivers, read into exact totals; a session
with known mistakes audited as the emulator recorded it; S3 end to end through boto3 against a real S3 server on
loopback; damaged input named and skipped."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from caching.__main__ import main as cli
from caching.audit.audit import SETTINGS
from caching.audit.logs import LoggedCall
from caching.audit.prepare import prepare
from caching.audit.replay import Replays
from caching.audit.sources import Line, log_files, read
from caching.emulator import Emulator, ManualClock
from caching.rules import Catalog
from caching.rules.memo import Linearizer
from caching.rules.usage import Usage

from ..helpers import CP, SONNET, kind_of, render_with, text_of, user

FIXTURES = Path(__file__).parents[1] / "fixtures" / "invocation-logs"
S3_TREE = FIXTURES / "s3"


@pytest.fixture
def parallel() -> ModuleType:
    """caching.audit.parallel, imported by the tests that use it: it loads Dask, half a second collection need not
    spend in the worker that runs none of the Dask tests."""
    from caching.audit import parallel

    return parallel


def audit_json(*args: str, expect: int = 0) -> dict[str, Any]:
    return json.loads(render_with(lambda console: cli(["audit", *args, "--json"], console), width=300, expect=expect))


def tokens(report: dict[str, Any]) -> tuple[int, int, int, int, int, int]:
    total = report["total"]
    t = total["tokens"]
    return total["calls"], total["hits"], t["regular"], t["read"], t["written"], t["output"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        # A Converse write (6 regular, 2,500 written, 120 out), then a read (6, 2,500 read, 80 out).
        (
            "s3/AWSLogs/111122223333/BedrockModelInvocationLogs/us-east-1/2026/11/30/09/20261130T090000000Z_converse.json",
            (2, 1, 12, 2_500, 2_500, 200),
        ),
        # ConverseStream, gzipped, logged as the assembled response and without the metadata cache counts (as some
        # streaming records are): the read comes from the body.
        (
            "s3/AWSLogs/111122223333/BedrockModelInvocationLogs/us-east-1/2026/11/30/09/20261130T090200000Z_stream.json.gz",
            (1, 1, 9, 2_500, 0, 40),
        ),
        # InvokeModel (Anthropic usage, a 1h write) and its stream (usage in message_start and message_delta).
        (
            "s3/AWSLogs/111122223333/BedrockModelInvocationLogs/us-east-1/2026/11/30/09/20261130T090300000Z_invoke.json",
            (2, 1, 14, 2_500, 2_500, 80),
        ),
        # A body stored apart: counted from the logged counts, not replayed.
        (
            "s3/AWSLogs/111122223333/BedrockModelInvocationLogs/us-east-1/2026/11/30/09/20261130T090500000Z_large.json",
            (1, 1, 6, 2_500, 0, 80),
        ),
        ("cloudwatch-export.txt", (2, 1, 12, 2_500, 2_500, 200)),
        ("filter-log-events.json", (2, 1, 12, 2_500, 2_500, 200)),
    ],
)
def test_every_record_shape_reads_to_exact_totals(path: str, expected: tuple[int, ...]) -> None:
    assert tokens(audit_json(str(FIXTURES / path))) == expected


def test_the_profile_arn_and_the_short_id_are_one_model_and_writes_split_by_ttl() -> None:
    report = audit_json(str(S3_TREE))
    assert tokens(report) == (6, 4, 41, 10_000, 5_000, 400)
    assert list(report["by_model"]) == ["us.anthropic.claude-sonnet-4-6"]
    assert report["not_counted"] == {"failed": 0, "unpriced": 0, "unparsed": 0}  # the large body read from data/
    # us. Sonnet 4.6: input $3.30, output $16.50, 5m write $4.125, 1h write $6.60, read $0.33 per million tokens.
    spend = (41 * 3.30 + 10_000 * 0.33 + 2_500 * 4.125 + 2_500 * 6.60 + 400 * 16.50) / 1_000_000
    assert float(report["total"]["spend"]) == pytest.approx(spend, abs=1e-9)


def test_a_damaged_record_is_named_and_the_rest_audited() -> None:
    text = render_with(lambda console: cli(["audit", str(FIXTURES / "damaged.json")], console), width=300)
    assert f"{FIXTURES / 'damaged.json'}:2: not valid JSON; skipped it." in text
    report = audit_json(str(FIXTURES / "damaged.json"))
    assert tokens(report)[:2] == (1, 0) and report["not_counted"]["failed"] == 1


def test_no_record_at_all_could_not_run(tmp_path: Path) -> None:
    (tmp_path / "empty.json").write_text("\n")
    assert "No model invocation log record was found" in render_with(
        lambda c: cli(["audit", str(tmp_path)], c), expect=2
    )
    assert render_with(lambda c: cli(["audit", str(tmp_path / "nope")], c), expect=2).startswith("Error: Cannot read")


def session_with_mistakes(folder: Path) -> Emulator:
    """A timestamp in the system prompt (every call writes anew), then the fix, then a pause past the 5m TTL."""
    clock = ManualClock()
    emulator = Emulator(clock=clock, invocation_log=str(folder))
    client = emulator.session().client("bedrock-runtime")
    guide = text_of(2_500)
    for minute in range(3):
        client.converse(
            modelId=SONNET, system=[{"text": f"Now: 2026-11-30 10:0{minute}. {guide}"}, CP], messages=[user("Hi", CP)]
        )
        clock.advance(60)
    for pause in (400, 30, 0):
        client.converse(modelId=SONNET, system=[{"text": guide}, CP], messages=[user("Hi", CP)])
        clock.advance(pause)
    return emulator


def test_an_emulated_session_audits_as_the_emulator_recorded_it(tmp_path: Path) -> None:
    emulator = session_with_mistakes(tmp_path / "logs")
    report = audit_json(str(tmp_path / "logs"))
    records = emulator.records
    assert report["total"]["hits"] == sum(1 for r in records if r.usage.cacheReadInputTokens)
    truth: dict[str, int] = {}
    for record in records:
        kind = kind_of(record)
        if kind != "hit":
            truth[str(kind)] = truth.get(str(kind), 0) + 1
    assert {c["kind"]: c["calls"] for c in report["miss_causes"]} == truth == {"new prefix": 4, "expired": 1}
    # Never read: the three stamped prompts' writes, and the write the pause let expire (read by no one).
    wasted = [records[i].usage.cacheWriteInputTokens for i in (0, 1, 2, 3)]
    assert report["wasted_writes"]["tokens"] == sum(wasted)
    assert (
        report["what_if"]["as sent"]["spend"] == report["total"]["spend"]
    )  # replaying what was sent costs what was paid
    assert float(report["what_if"]["oracle"]["spend"]) < float(report["total"]["spend"])


def test_min_hit_rate_since_and_until(tmp_path: Path) -> None:
    session_with_mistakes(tmp_path / "logs")
    logs = str(tmp_path / "logs")
    assert render_with(lambda c: cli(["audit", logs, "--min-hit-rate", "0.5"], c), width=200, expect=1).endswith(
        "Hit rate 16.7% is below the required 50.0%.\n"
    )
    render_with(lambda c: cli(["audit", logs, "--min-hit-rate", "15%"], c), width=200)
    later = audit_json(logs, "--since", "2026-11-30T00:03:00Z")
    assert later["total"]["calls"] == 3 and later["total"]["hits"] == 1  # calls at 3m, 9m40s and 10m10s
    assert audit_json(logs, "--until", "2026-11-30T00:03:00Z")["total"]["calls"] == 3


@pytest.mark.xdist_group("dask")
def test_s3_end_to_end_through_boto3_with_gzipped_objects(s3_server: Any, dask_scheduler: str) -> None:
    s3_server.create_bucket(Bucket="logs-bucket")
    for file in sorted(p for p in S3_TREE.rglob("*") if p.is_file()):
        key = "bedrock/" + str(file.relative_to(S3_TREE))
        data = file.read_bytes()
        if file.suffix == ".json" and "data" not in file.parts and "converse" in file.name:
            data, key = gzip.compress(data), key + ".gz"  # the same records, gzipped as S3 delivery does
        s3_server.put_object(Bucket="logs-bucket", Key=key, Body=data)
    s3_server.put_object(
        Bucket="logs-bucket",
        Key="bedrock/AWSLogs/111122223333/BedrockModelInvocationLogs/broken.json.gz",
        Body=b"\x1f\x8bnot gzip",
    )
    check = "bedrock/AWSLogs/111122223333/BedrockModelInvocationLogs/amazon-bedrock-logs-permission-check"
    s3_server.put_object(Bucket="logs-bucket", Key=check, Body=b"")  # Bedrock's own, written when logging was set up
    report = audit_json("s3://logs-bucket/bedrock")
    local = audit_json(str(S3_TREE))
    assert tokens(report) == tokens(local)
    assert report["not_counted"]["unparsed"] == 0  # the large body was fetched from S3 and replayed
    assert audit_json("s3://logs-bucket/bedrock", "--scheduler", dask_scheduler) == report  # read by the workers
    assert any("broken.json.gz" in problem for problem in report["skipped_records"])
    assert (
        f"s3://logs-bucket/{check}: Bedrock's permission check, written when logging to this prefix was set up; not a log, skipped."
        in report["skipped_records"]
    )
    missing = render_with(lambda c: cli(["audit", "s3://no-such-bucket/x"], c), width=200, expect=2)
    assert missing.startswith("Error: Cannot list 's3://no-such-bucket/x' (NoSuchBucket)")


@pytest.mark.xdist_group("dask")
def test_one_process_a_local_cluster_and_a_scheduler_give_the_same_report(tmp_path: Path, dask_scheduler: str) -> None:
    """Calls partitioned by account and model over Dask workers: the same JSON, to the character, as one process
    (which never loads Dask)."""
    clock = ManualClock()
    emulator = Emulator(clock=clock, invocation_log=str(tmp_path / "logs"))
    guide = text_of(2_500)
    for key in ("AKIATEAMA000000001", "AKIATEAMB000000002", "AKIATEAMC000000003"):
        client = emulator.session(key).client("bedrock-runtime")
        for minute in range(3):
            client.converse(
                modelId=SONNET, system=[{"text": f"[{key}] {minute} {guide}"}, CP], messages=[user("Hi", CP)]
            )
            client.converse(
                modelId=SONNET, system=[{"text": f"[{key}] {minute} {guide}"}, CP], messages=[user("Hi", CP)]
            )
            clock.advance(100)
    logs = str(tmp_path / "logs")
    texts = [
        render_with(lambda console: cli(["audit", logs, "--json", *mode], console), width=300)  # noqa: B023
        for mode in ([], ["--jobs", "2"], ["--scheduler", dask_scheduler])
    ]
    one = json.loads(texts[0])
    assert tokens(one)[:2] == (18, 9)  # 3 accounts x 3 prompts x 2 calls; each second call reads
    assert tokens(one)[3] == tokens(one)[4]  # every write is read once
    assert texts[1] == texts[0] and texts[2] == texts[0]


def test_a_plain_audit_never_loads_dask() -> None:
    """Small logs stay instant: without --jobs or --scheduler, the audit is one process and Dask is not imported."""
    code = (
        "import sys; from caching.__main__ import main; code = main(['audit', sys.argv[1], '--json'], None); "
        "print(code, sorted({m.split('.')[0] for m in sys.modules} & {'dask', 'distributed'}))"
    )
    done = subprocess.run([sys.executable, "-c", code, str(S3_TREE)], capture_output=True, text=True, timeout=60)
    assert done.stdout.rstrip().endswith("\n0 []"), done.stderr


@pytest.mark.xdist_group("dask")
@pytest.mark.parametrize("path", ["s3", "cloudwatch-export.txt", "filter-log-events.json", "damaged.json"])
def test_the_workers_read_every_shape_as_one_process_does(path: str, dask_scheduler: str) -> None:
    """Lines are split undecoded: the same totals, what-if and skipped records (in input order) as one process."""
    assert audit_json(str(FIXTURES / path), "--scheduler", dask_scheduler) == audit_json(str(FIXTURES / path))


@pytest.mark.xdist_group("dask")
def test_the_skipped_records_of_one_line_are_told_in_its_order(tmp_path: Path, dask_scheduler: str) -> None:
    """Pages of `aws logs filter-log-events` output, one a line: the twelve events of the first page that hold no
    record are told event after event, as one process tells them, then the damaged line after; the workers' lines
    were sorted by their words where they shared a place in the input (event 10 before event 2)."""
    page = json.loads((FIXTURES / "filter-log-events.json").read_text())
    events = page["events"]
    pages = tmp_path / "pages.json"
    pages.write_text(json.dumps({"events": events + [{"timestamp": 1}] * 12}) + "\n{not json\n")
    alone = audit_json(str(pages))
    first = len(events)
    assert alone["skipped_records"] == [
        *(f"{pages}: event {n} has no JSON message; skipped it." for n in range(first, first + 12)),
        f"{pages}:2: not valid JSON; skipped it.",
    ]
    assert audit_json(str(pages), "--scheduler", dask_scheduler) == alone


def test_the_local_cluster_starts_without_the_dashboard_s_profiler_or_work_stealing(
    parallel: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No dashboard is served, so the workers' sampling of their stacks for its profile (a tenth of the audit's time)
    is turned off in the settings the workers start with (Dask hands them this process's); and the scheduler, started
    here, never moves a window's next task (and so the window) to another worker."""
    import dask

    names = ("distributed.worker.profile.enabled", "distributed.scheduler.work-stealing")
    seen = []
    monkeypatch.setattr(parallel, "LocalCluster", lambda **_: seen.append([dask.config.get(name) for name in names]))
    parallel.local_cluster(2)
    assert seen == [[False, False]]
    assert [dask.config.get(name) for name in names] == [True, True]  # this process's own settings as they were


@pytest.mark.xdist_group("dask")
def test_a_share_of_millions_of_records_goes_on_to_its_next_task(dask_scheduler: str) -> None:
    """Dask refuses a task whose inputs weigh more than its worker's memory: a window is weighed by what it holds,
    so a share of a file that counted 30 million records (a share keeps no `Use` of each) still goes on to its next
    task on workers of a few GB (weighed at a kilobyte a record, it weighed 30 GB)."""
    import functools

    from distributed import Client

    from caching.audit import file_windows

    made = functools.partial(file_windows.FileWindow, share=(0, 2), counted={"a|m": 30_000_000}, lately=7)
    with Client(dask_scheduler, set_as_default=False) as client:
        window = client.submit(made, pure=False)
        assert client.submit(file_windows.lately, window, pure=False).result(timeout=30) == (7, False)


def test_a_line_is_dealt_by_the_account_and_model_before_its_bodies(parallel: ModuleType) -> None:
    head = '{"timestamp":"2026-11-30T09:00:00Z","accountId":"111122223333","region":"us-east-1",'
    arn = '"modelId":"arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.anthropic.claude-sonnet-4-6",'
    body = '"input":{"inputBodyJson":{"messages":[{"toolUse":{"modelId":"x"}}]}}}'
    assert parallel.part_of(Line("a:2", head + arn + body)) == "111122223333|us.anthropic.claude-sonnet-4-6"
    # The model only inside a body (keys in another order), a key twice, an escaped value: decoded to be sure.
    assert parallel.part_of(Line("a:3", head + body[:-1] + ',"modelId":"m"}')) is None
    assert parallel.part_of(Line("a:4", head + '"accountId":"9",' + arn + body)) is None
    assert parallel.part_of(Line("a:5", head + '"modelId":"m\\"x",' + body)) is None


def test_settings_that_share_a_replay_until_a_call_splits_them_cost_what_each_costs_alone(tmp_path: Path) -> None:
    """Without tools, automatic and combined place the same points to the end; rolling places them too until a
    request has an earlier user message. Every setting's spend (waste too) equals its own replay's, run alone."""
    clock = ManualClock()
    client = Emulator(clock=clock, invocation_log=str(tmp_path)).session().client("bedrock-runtime")
    guide = text_of(2_500)
    for n in range(6):
        earlier = [user("Hi"), {"role": "assistant", "content": [{"text": "Yes?"}]}] if n % 2 else []
        messages = [*earlier, user(f"More {n}", CP)]
        client.converse(modelId=SONNET, system=[{"text": guide}, CP], messages=messages)
        clock.advance(200 * n)
    calls = [c for c in read([str(tmp_path)]) if isinstance(c, LoggedCall)]
    catalog, linearizer = Catalog(), Linearizer()
    prepared = [prepare(c, c.usage, catalog, linearizer) for c in calls]
    together = Replays(SETTINGS)
    for call, each in zip(calls, prepared, strict=True):
        assert each is not None
        together.add(call, each)
    shared = sorted(sorted(names) for names, _ in together._groups if len(names) > 1)
    assert shared == [["automatic 1h", "combined 1h"], ["automatic 5m", "combined 5m"]]  # rolling split from them
    spends = together.finish()
    for name, setting in SETTINGS.items():
        alone = Replays({name: setting})
        for call, each in zip(calls, prepared, strict=True):
            alone.add(call, each)  # type: ignore[arg-type]
        assert alone.finish()[name] == spends[name], name


RECORD = (
    '{"timestamp":%s,"accountId":"111122223333","operation":"Converse","modelId":"us.anthropic.claude-sonnet-4-6",'
    '"output":{"outputBodyJson":{"usage":{"inputTokens":%d,"outputTokens":1,"cacheReadInputTokens":%d,'
    '"cacheWriteInputTokens":0}}}}'
)


@pytest.mark.xdist_group("dask")
@pytest.mark.parametrize("on_dask", [False, True])
def test_a_damaged_first_line_loses_only_itself(tmp_path: Path, on_dask: bool, request: pytest.FixtureRequest) -> None:
    """A first line that opens an object but breaks off is not taken for a document over many lines."""
    lines = ['{"timestamp":"2026-11-30T09:00:00Z","accountId":"1"', RECORD % ('"2026-11-30T09:01:00Z"', 10, 0),
             RECORD % ("1e400", 20, 0), RECORD % ("1e300", 30, 0), RECORD % ('"2026-11-30T09:02:00Z"', 40, -3),
             RECORD % ('"2026-11-30T09:03:00Z"', 50, 0)]  # fmt: skip
    (tmp_path / "logs.json").write_text("\n".join(lines) + "\n")
    where = tmp_path / "logs.json"
    report = audit_json(str(where), *(["--scheduler", request.getfixturevalue("dask_scheduler")] if on_dask else []))
    assert tokens(report) == (2, 0, 60, 0, 0, 2)  # lines 2 and 6
    assert report["skipped_records"] == [
        f"{where}:1: not valid JSON; skipped it.",
        f"{where}:3: the timestamp inf is not a time like 2026-11-30T09:00:00Z; skipped it.",
        f"{where}:4: the timestamp 1e+300 is not a time like 2026-11-30T09:00:00Z; skipped it.",
        f"{where}:5: cacheReadInputTokens cannot be negative, got -3: pass the usage dict Bedrock returned; skipped it.",
    ]
    assert report["what_if_base"] == {"calls": 0, "paid": "0"}  # no body: nothing to replay, and it says so
    text = render_with(lambda console: cli(["audit", str(where)], console), width=200)
    assert "What-if: no call had a request body that could be replayed, so none is estimated." in text


def test_the_what_if_is_set_against_what_the_replayed_calls_paid(tmp_path: Path) -> None:
    """A large body that is missing is not replayed: the what-if compares the other five calls with what those five
    cost, and the oracle is never above a setup that was replayed."""
    shutil.copytree(S3_TREE, tmp_path / "s3")
    shutil.rmtree(next((tmp_path / "s3").rglob("data")))
    report = audit_json(str(tmp_path / "s3"))
    # All six, less the one whose body is stored apart (6 regular, 2,500 read, 80 output at us. Sonnet 4.6 prices).
    apart = (6 * 3.30 + 2_500 * 0.33 + 80 * 16.50) / 1_000_000
    assert report["what_if_base"]["calls"] == 5
    assert float(report["what_if_base"]["paid"]) == pytest.approx(float(report["total"]["spend"]) - apart, abs=1e-9)
    setups = [float(setup["spend"]) for name, setup in report["what_if"].items() if name != "oracle"]
    assert float(report["what_if"]["oracle"]["spend"]) <= min(setups)


# A Dask worker preload, as a crash or a bug would behave: the audit of account 444455556666 kills its worker
# process, reading a record of the region "boom" raises, and a file named "stuck" holds its worker for a minute.
# Each leaves a file in signs/ beside the preload when it gets there (a fold done, the boom raised, the stuck read
# begun), so a test waits for that moment instead of sleeping through a guess at it; every wait has a bound, past
# which the test goes on as before. The folder is written into the preload (SIGNS_FOLDER), not read from the environment: a worker
# forked from a forkserver has the environment the forkserver started with (and Dask copies a preload elsewhere).
SABOTAGE = """
import os, time
from pathlib import Path
from caching.audit import parallel
fold, split = getattr(parallel, "unspoilt", (parallel._fold, parallel._split))  # Dask may load a preload twice
parallel.unspoilt = fold, split
SIGNS = Path(SIGNS_FOLDER)
BOOMED_HERE = False
def _fold(state, split, chosen, options):
    if any("444455556666" in item.text for _, item in split.slices[chosen]):
        # Die once the other worker has fetched what it needs from this one (its fold is done) and the piece that
        # fails to read has failed (else, under load, it could still be queued here and be lost with this worker).
        deadline = time.monotonic() + 10
        while not all((SIGNS / sign).exists() for sign in ("folded", "boom")) and time.monotonic() < deadline:
            time.sleep(0.01)
        if BOOMED_HERE:  # and this worker's word of that failure has left for the scheduler (sent a moment after)
            time.sleep(0.5)
        os._exit(3)
    state = fold(state, split, chosen, options)
    (SIGNS / "folded").touch()
    return state
def _split(piece, *rest):
    if any('"boom"' in getattr(item, "text", "") for item in piece):
        global BOOMED_HERE
        BOOMED_HERE = True
        (SIGNS / "boom").touch()
        raise RuntimeError("boom")
    if any("stuck" in getattr(item, "where", "") for item in piece):
        (SIGNS / "stuck").touch()
        time.sleep(60)
    return split(piece, *rest)
parallel._fold, parallel._split = _fold, _split
"""


def sabotage(folder: Path, then: str = "") -> Path:
    """SABOTAGE (and `then`) as a preload in `folder`, its signs left in `folder`/signs: the preload's path."""
    (folder / "signs").mkdir()
    (folder / "sabotage.py").write_text(f"SIGNS_FOLDER = {str(folder / 'signs')!r}\n" + SABOTAGE + then)
    return folder / "sabotage.py"


# The sabotage tests are about what the audit does when a worker dies or Ctrl-C comes, not about how Dask starts its
# workers: theirs are forked from one forkserver, which has Dask loaded already, instead of each spawned as a fresh
# Python that loads it again (a second or so a test). The local cluster of
# test_one_process_a_local_cluster_and_a_scheduler_give_the_same_report starts its workers as the audit does.
FORKED = {"distributed.worker.multiprocessing-method": "forkserver"}


def wait_for(sign: Path, seconds: float = 10) -> None:
    """Until `sign` exists, for `seconds` at most."""
    deadline = time.monotonic() + seconds
    while not sign.exists() and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.mark.xdist_group("dask")
def test_a_worker_that_dies_or_fails_is_one_line_and_the_rest_is_audited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parallel: ModuleType
) -> None:
    """Each account's calls go to one audit (111122223333 and 444455556666 to different ones: crc32 of their
    partitions is even and odd); the worker auditing the second dies every time Dask runs it, and the reading of the
    third file fails. The first file's calls are audited as one process audits them alone. (The pieces are sent by
    the client, as they are where the workers cannot read the logs or their accounts do not spread evenly: these
    would be read by each worker in shares, whose worker that dies is test_cluster_windows.py's.)"""
    import dask  # after `parallel` has loaded distributed: its settings are then in the config this test sets

    monkeypatch.setattr(parallel.file_windows, "plan_shares", lambda *args: None)
    preload = sabotage(tmp_path)
    good = [RECORD % (f'"2026-11-30T09:0{n}:00Z"', 10 * n, 0) for n in range(1, 4)]
    dies = [line.replace("111122223333", "444455556666") for line in good]
    boom = [RECORD[:-1] % ('"2026-11-30T09:05:00Z"', 7, 0) + ',"region":"boom"}']
    for name, lines in (("good.json", good), ("dies.json", dies), ("boom.json", boom)):
        (tmp_path / name).write_text("\n".join(lines) + "\n")
    paths = [str(tmp_path / name) for name in ("good.json", "dies.json", "boom.json")]
    # Dask retries a task whose worker died (three times by default): the second try would kill the other worker
    # and the audit it holds, so here there is none. What a dead worker held is lost and named, the rest stands.
    config = {
        "distributed.worker.preload": [str(preload)],
        "distributed.scheduler.allowed-failures": 0,
        **FORKED,
    }
    with dask.config.set(config):
        report = audit_json(*paths, "--jobs", "2")
    alone = audit_json(paths[0])
    assert report["skipped_records"] == [
        "3 records of 444455556666|us.anthropic.claude-sonnet-4-6 not audited: a Dask worker stopped while on it.",
        f"records {paths[2]}:1 and after: not audited, a Dask worker failed on it (RuntimeError: boom); skipped it.",
    ]
    assert {key: value for key, value in report.items() if key != "skipped_records"} == {
        key: value for key, value in alone.items() if key != "skipped_records"
    }
    assert tokens(report) == (3, 0, 60, 0, 0, 3)


@pytest.mark.parametrize("stop_seconds", [None, 1e-6], ids=["in_time", "too_slow_to_stop"])
def test_ctrl_c_stops_the_cluster_it_started_and_says_so(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    parallel: ModuleType,
    stop_seconds: float | None,
) -> None:
    """Ctrl-C while a worker is stuck on its piece: the local cluster is closed at once (its worker processes end),
    the exit is 130 with one word, and nothing (no traceback, no word from Dask) reaches stdout or stderr; also when
    a worker is not yet gone when STOP_SECONDS have passed (a loaded machine), which Dask raises as a timeout."""
    import dask

    if stop_seconds is not None:
        monkeypatch.setattr(parallel, "STOP_SECONDS", stop_seconds)

    preload = sabotage(tmp_path, then="\nopen(SIGNS / 'pids', 'a').write(f'{os.getpid()}\\n')\n")
    (tmp_path / "stuck.json").write_text(RECORD % ('"2026-11-30T09:00:00Z"', 10, 0) + "\n")
    pids = tmp_path / "signs" / "pids"
    pieces = parallel.pieces

    def interrupted(listed: list[Any]) -> Any:
        yield from pieces(listed)
        wait_for(tmp_path / "signs" / "stuck")  # a worker is on it
        raise KeyboardInterrupt

    monkeypatch.setattr(parallel, "pieces", interrupted)
    started = time.monotonic()
    with dask.config.set({"distributed.worker.preload": [str(preload)], **FORKED}):
        text = render_with(lambda c: cli(["audit", str(tmp_path / "stuck.json"), "--jobs", "2"], c), expect=130)
    assert text == "Interrupted.\n" and time.monotonic() - started < 30  # not the stuck worker's minute
    assert capfd.readouterr() == ("", "")
    workers = {int(pid) for pid in pids.read_text().split()}  # told twice each: Dask loads a preload twice
    assert len(workers) == 2
    assert all(ended(pid) for pid in workers)


def ended(pid: int, seconds: float = 10) -> bool:
    """Whether process `pid` ends within `seconds`: gone, or killed and waiting for its parent to collect it (a
    zombie, which this process, the parent, collects when it next starts one or exits)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return True
        except (FileNotFoundError, ProcessLookupError):
            return True
        time.sleep(0.01)
    return False


def test_a_local_file_goes_to_the_cluster_in_pieces_of_bounded_text(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, parallel: ModuleType
) -> None:
    """However large the file, the cluster is sent runs of about PIECE_CHARACTERS of record text, in input order."""
    padding = ',"region":"' + "x" * 400_000 + '"}'
    lines = [RECORD[:-1] % (f'"2026-11-30T09:00:{n:02d}Z"', 10, 0) + padding for n in range(12)]
    (tmp_path / "logs.json").write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(parallel, "PIECE_CHARACTERS", 1_000_000)
    runs = list(parallel.pieces(log_files([str(tmp_path / "logs.json")])))
    assert [len(run) for run in runs] == [3, 3, 3, 3]  # three 400 KB lines pass 1 MB
    assert [line.where for run in runs for line in run] == [f"{tmp_path / 'logs.json'}:{n}" for n in range(1, 13)]


@pytest.mark.xdist_group("dask")
def test_many_pieces_wait_for_the_audits_ahead_and_give_the_one_process_report(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, dask_scheduler: str, parallel: ModuleType
) -> None:
    """With more pieces than the cluster may hold ahead (AHEAD a worker), the reading waits for the audits: once
    a traceback ('No clients found'), found by benchmarks/audit_scale.py at 100,000 records."""
    lines = [RECORD[:-1] % (f'"2026-11-30T09:00:{n:02d}Z"', 10, 0) + "}" for n in range(30)]
    (tmp_path / "logs.json").write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(parallel, "PIECE_CHARACTERS", 1)  # a record a piece: 30 pieces, far more than held ahead
    monkeypatch.setattr(parallel, "AHEAD", 1)
    logs = str(tmp_path / "logs.json")
    assert audit_json(logs, "--scheduler", dask_scheduler) == audit_json(logs)


FAN_OUT, STEP_TOKENS = 12, 60  # 12 tool calls and 12 results a step: 24 blocks, beyond the lookback of 21


def fan_out_replies(request: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """Two tool steps of FAN_OUT calls each, then text: a turn is three model calls."""
    messages = request["messages"]
    asked = max(i for i, m in enumerate(messages) if m["role"] == "user" and "text" in m["content"][0])
    if len(messages) - asked < 5:  # the question, then (a step's calls, their results) at most once so far
        uses = [
            {"toolUse": {"toolUseId": f"t{len(messages)}-{k}", "name": "lookup", "input": {"q": "x" * 40}}}
            for k in range(FAN_OUT)
        ]
        return uses, "tool_use"
    return [{"text": text_of(STEP_TOKENS)}], "end_turn"


def strands_session(approach: str, ttl: str, logs: Path | None = None) -> list[Usage]:
    """Three turns of a fan-out agent through real Strands on the emulator, 400 s apart (past a 5m entry): the
    usage of each call."""
    from strands import Agent, tool

    from caching import setup

    clock = ManualClock(1_800_000_000.0)
    emulator = Emulator(clock=clock, replies=fan_out_replies, invocation_log=str(logs) if logs else None)

    @tool
    def lookup(q: str) -> str:
        """Look something up."""
        return text_of(STEP_TOKENS)

    chosen = setup(approach, text_of(2_500), ttl)
    agent = Agent(
        model=chosen.model(SONNET, boto_session=emulator.session()),
        system_prompt=chosen.system_prompt,
        tools=[lookup],
        hooks=chosen.hooks,
        callback_handler=None,
    )
    for turn in range(3):
        clock.advance(400.0 if turn else 0.0)
        agent(f"Question {turn}: {text_of(40)}")
    return [record.usage for record in emulator.records]


# Hits by the rules: a turn's later calls read (the point where the previous request ended is 24 blocks back, but a
# point sits on it); after a 400 s pause a 5m entry is gone, while the 1h point after the last tool result holds.
@pytest.mark.parametrize(
    ("setting", "approach", "ttl", "hits"),
    [("rolling 5m", "rolling", "5m", 6), ("rolling 1h", "rolling", "1h", 8), ("shape", "shape", "5m", 8)],
)
def test_the_what_if_of_a_strategy_costs_what_the_emulator_charges_it(
    tmp_path: Path, setting: str, approach: str, ttl: str, hits: int
) -> None:
    """Traffic sent with automatic is replayed with this library's strategies: each what-if row holds exactly the
    tokens the emulator reports when the same conversation runs through Strands with that strategy's hook."""
    from caching.audit import audit
    from caching.pricing import cost_of

    strands_session("automatic", "5m", tmp_path)
    what_if = audit(read([str(tmp_path)])).what_if
    charged = strands_session(approach, ttl)
    spend = what_if[setting]
    assert (spend.calls, spend.hits) == (9, hits) == (len(charged), sum(1 for u in charged if u.cacheReadInputTokens))
    total = sum(charged[1:], charged[0])
    assert spend.tokens == {SONNET: total}
    assert spend.cost == sum((cost_of(u, SONNET, ttl) for u in charged[1:]), cost_of(charged[0], SONNET, ttl))
    # Automatic, as sent, finds only the system prompt's entry after a fan-out step: 24 blocks is beyond the lookback.
    assert what_if["automatic 5m"].tokens[SONNET].cacheReadInputTokens < total.cacheReadInputTokens
