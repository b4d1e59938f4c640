"""`caching audit`: Bedrock model invocation logs in every shape AWS delivers, read into exact totals; a session
with known mistakes audited as the emulator recorded it; S3 end to end through boto3 against a real S3 server on
loopback; damaged input named and skipped."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from caching.__main__ import main as cli
from caching.audit.audit import SETTINGS, Audit
from caching.audit.logs import LoggedCall
from caching.audit.parallel import part_of
from caching.audit.replay import Replays, prepare
from caching.audit.sources import Line, read
from caching.emulator import Emulator, ManualClock
from caching.rules import Catalog
from caching.rules.memo import Linearizer
from caching.rules.usage import Usage

from ..helpers import CP, SONNET, kind_of, render_with, text_of, user

FIXTURES = Path(__file__).parents[1] / "fixtures" / "invocation-logs"
S3_TREE = FIXTURES / "s3"


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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def s3_server(monkeypatch: pytest.MonkeyPatch) -> Any:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAMOTO")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "moto")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("CACHING_S3_ENDPOINT_URL", url)
    yield boto3.client("s3", endpoint_url=url, region_name="us-east-1")
    server.stop()


def test_s3_end_to_end_through_boto3_with_gzipped_objects(s3_server: Any, tmp_path: Path) -> None:
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
    assert audit_json("s3://logs-bucket/bedrock", "--jobs", "2") == report  # fetched by the parent, then dealt
    assert any("broken.json.gz" in problem for problem in report["skipped_records"])
    assert (
        f"s3://logs-bucket/{check}: Bedrock's permission check, written when logging to this prefix was set up; not a log, skipped."
        in report["skipped_records"]
    )
    missing = render_with(lambda c: cli(["audit", "s3://no-such-bucket/x"], c), width=200, expect=2)
    assert missing.startswith("Error: Cannot list 's3://no-such-bucket/x' (NoSuchBucket)")


def test_several_processes_give_the_same_report(tmp_path: Path) -> None:
    """Calls partitioned by account and model over processes: the same numbers as one process."""
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
    one = audit_json(str(tmp_path / "logs"))
    two = audit_json(str(tmp_path / "logs"), "--jobs", "2")
    assert tokens(one)[:2] == (18, 9)  # 3 accounts x 3 prompts x 2 calls; each second call reads
    assert tokens(one)[3] == tokens(one)[4]  # every write is read once
    assert one == two


@pytest.mark.parametrize("path", ["s3", "cloudwatch-export.txt", "filter-log-events.json", "damaged.json"])
def test_two_processes_read_every_shape_as_one_does(path: str) -> None:
    """Lines are dealt out undecoded: the same totals, what-if and skipped records (in input order) as one process."""
    assert audit_json(str(FIXTURES / path), "--jobs", "2") == audit_json(str(FIXTURES / path))


def test_a_line_is_dealt_by_the_account_and_model_before_its_bodies() -> None:
    head = '{"timestamp":"2026-11-30T09:00:00Z","accountId":"111122223333","region":"us-east-1",'
    arn = '"modelId":"arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.anthropic.claude-sonnet-4-6",'
    body = '"input":{"inputBodyJson":{"messages":[{"toolUse":{"modelId":"x"}}]}}}'
    assert part_of(Line("a:2", head + arn + body)) == "111122223333|us.anthropic.claude-sonnet-4-6"
    # The model only inside a body (keys in another order), a key twice, an escaped value: decoded to be sure.
    assert part_of(Line("a:3", head + body[:-1] + ',"modelId":"m"}')) is None
    assert part_of(Line("a:4", head + '"accountId":"9",' + arn + body)) is None
    assert part_of(Line("a:5", head + '"modelId":"m\\"x",' + body)) is None


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


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_damaged_first_line_loses_only_itself(tmp_path: Path, jobs: str) -> None:
    """A first line that opens an object but breaks off is not taken for a document over many lines."""
    lines = ['{"timestamp":"2026-11-30T09:00:00Z","accountId":"1"', RECORD % ('"2026-11-30T09:01:00Z"', 10, 0),
             RECORD % ("1e400", 20, 0), RECORD % ("1e300", 30, 0), RECORD % ('"2026-11-30T09:02:00Z"', 40, -3),
             RECORD % ('"2026-11-30T09:03:00Z"', 50, 0)]  # fmt: skip
    (tmp_path / "logs.json").write_text("\n".join(lines) + "\n")
    where = tmp_path / "logs.json"
    report = audit_json(str(where), "--jobs", jobs)
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


@pytest.mark.parametrize(
    ("failure", "said"),
    [
        (lambda: (_ for _ in ()).throw(RuntimeError("boom")), "a worker process failed (RuntimeError: boom)"),
        (lambda: os._exit(3), "a worker process stopped"),
    ],
)
def test_a_worker_that_fails_or_dies_is_one_line_not_a_hang(
    monkeypatch: pytest.MonkeyPatch, failure: Any, said: str
) -> None:
    """Workers are forked, so a broken Audit.add here is theirs too; the parent must not wait for ever."""
    monkeypatch.setattr(Audit, "add", lambda self, item: failure())
    text = render_with(lambda c: cli(["audit", str(S3_TREE), "--jobs", "2"], c), width=200, expect=2)
    assert text.startswith(f"Error: {said}") and text.rstrip().endswith("run again with --jobs 1.")


def test_ctrl_c_while_dealing_stops_the_workers_and_says_so(tmp_path: Path) -> None:
    """With more queued for a worker than its pipe holds, the parent's queue must be left unsent, or its thread
    holds the exit up for ever: run in a process of its own, with a stuck worker, one 40 KB record a batch and
    Ctrl-C on the ninth record."""
    padding = ',"region":"' + "x" * 40_000 + '"}'
    lines = [RECORD[:-1] % (f'"2026-11-30T09:00:{n:02d}Z"', 10, 0) + padding for n in range(12)]
    (tmp_path / "logs.json").write_text("\n".join(lines) + "\n")
    script = f"""
import sys, time
import caching.audit.parallel as parallel
from caching.__main__ import main
dealt = []
def part_of(line):
    dealt.append(line)
    if len(dealt) == 9:
        raise KeyboardInterrupt
    return "one|part"
parallel.part_of, parallel.BATCH = part_of, 1
parallel.Audit.add = lambda self, item: time.sleep(60)
sys.exit(main(["audit", {str(tmp_path / "logs.json")!r}, "--jobs", "2"]))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout.strip(), done.stderr) == (130, "Interrupted.", "")


def test_large_records_go_to_the_workers_in_small_batches(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Batches are capped by their text as well as their count, so a worker's queue stays some megabytes however
    large the requests (500 records of 1 MB a batch once took a second process past 1 GB)."""
    import caching.audit.parallel as parallel

    padding = ',"region":"' + "x" * 400_000 + '"}'
    lines = [RECORD[:-1] % (f'"2026-11-30T09:00:{n:02d}Z"', 10, 0) + padding for n in range(12)]
    (tmp_path / "logs.json").write_text("\n".join(lines) + "\n")
    sent: list[int] = []
    put = parallel._put
    monkeypatch.setattr(
        parallel, "_put", lambda inbox, worker, batch: (sent.append(len(batch or [])), put(inbox, worker, batch))
    )
    assert tokens(audit_json(str(tmp_path / "logs.json"), "--jobs", "2"))[:2] == (12, 0)
    largest = max(len(line) for line in lines)
    assert max(sent) == -(-parallel.BATCH_CHARACTERS // largest)  # records of one batch: just past the cap
    assert sum(sent) == 12


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
