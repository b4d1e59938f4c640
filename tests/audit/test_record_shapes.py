"""The records Bedrock really writes, for all four operations and both shapes of a stream, with and without the
metadata counts; where the cache counts come from when the sources disagree; and the edges of a downloaded log tree
(bodies in data/, Bedrock's permission check, an empty time window, identities of the same name)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from caching.__main__ import main as cli
from caching.audit import audit, read
from caching.audit.logs import LoggedCall, identity_names, parse
from caching.audit.sources import PERMISSION_CHECK
from caching.emulator import Emulator, ManualClock
from caching.rules import Usage

from ..helpers import CP, SONNET, render_with, text_of, user

HOUR = "AWSLogs/111122223333/BedrockModelInvocationLogs/us-east-1/2026/11/30/09"
REQUEST = {"system": [{"text": "You are the support agent."}, CP], "messages": [user("Where is my order?")]}
# One call that read 2,500 tokens and wrote 300 (a 1h write), with 9 regular input tokens and 40 output tokens.
READ, WRITTEN, REGULAR, OUTPUT = 2_500, 300, 9, 40
CONVERSE_USAGE = {
    "inputTokens": REGULAR,
    "outputTokens": OUTPUT,
    "totalTokens": REGULAR + READ + WRITTEN + OUTPUT,
    "cacheReadInputTokens": READ,
    "cacheWriteInputTokens": WRITTEN,
    "cacheDetails": [{"ttl": "1h", "inputTokens": WRITTEN}],
}
ANTHROPIC_USAGE = {
    "input_tokens": REGULAR,
    "cache_creation_input_tokens": WRITTEN,
    "cache_read_input_tokens": READ,
    "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": WRITTEN},
    "output_tokens": OUTPUT,
}
METRICS = {
    "inputTokenCount": REGULAR,
    "outputTokenCount": OUTPUT,
    "invocationLatency": 800,
    "firstByteLatency": 300,
    "cacheReadInputTokenCount": READ,
    "cacheWriteInputTokenCount": WRITTEN,
}
ASSEMBLED = {  # Converse's response; ConverseStream's as Bedrock logs it
    "output": {"message": {"role": "assistant", "content": [{"text": "Today."}]}},
    "stopReason": "end_turn",
    "metrics": {"latencyMs": 400},
    "usage": CONVERSE_USAGE,
}
CONVERSE_EVENTS = [  # ConverseStream as a list of its events, which a reader accepts too
    {"messageStart": {"role": "assistant"}},
    {"contentBlockDelta": {"delta": {"text": "Today."}, "contentBlockIndex": 0}},
    {"messageStop": {"stopReason": "end_turn"}},
    {"metadata": {"usage": CONVERSE_USAGE, "metrics": {"latencyMs": 400}}},
]
MESSAGES = {  # InvokeModel's response; InvokeModelWithResponseStream's assembled, which a reader accepts too
    "id": "msg_bdrk_01",
    "type": "message",
    "role": "assistant",
    "content": [{"type": "text", "text": "Today."}],
    "stop_reason": "end_turn",
    "usage": ANTHROPIC_USAGE,
}
START_USAGE = {key: value for key, value in ANTHROPIC_USAGE.items() if key != "output_tokens"} | {"output_tokens": 1}
CHUNKS = [  # InvokeModelWithResponseStream as Bedrock logs it: the chunks, the last with the invocation metrics
    {
        "type": "message_start",
        "message": {"id": "msg_bdrk_02", "role": "assistant", "content": [], "usage": START_USAGE},
    },
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Today."}},
    {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": OUTPUT}},
    {"type": "message_stop", "amazon-bedrock-invocationMetrics": METRICS},
]
# The chunks with no usage of their own: the invocation metrics are the only cache counts.
METRICS_ONLY = [
    {"type": "message_start", "message": {"id": "msg_bdrk_03", "role": "assistant", "content": []}},
    {"type": "message_delta", "delta": {"stop_reason": "end_turn"}},
    {"type": "message_stop", "amazon-bedrock-invocationMetrics": METRICS},
]
# What every shape reads as: with the 1h split wherever the body has it.
WITH_TTL = Usage.of(regular=REGULAR, output=OUTPUT, read=READ, write_1h=WRITTEN)
NO_TTL = Usage(REGULAR, OUTPUT, READ, WRITTEN)


def record(operation: str, body: Any, metadata: bool, at: str = "2026-11-30T09:00:00Z", **input: Any) -> dict[str, Any]:
    """A record as Bedrock writes it; `metadata` False leaves out the counts beside the bodies (older records)."""
    counts = {"inputTokenCount": REGULAR, "cacheReadInputTokenCount": READ, "cacheWriteInputTokenCount": WRITTEN}
    return {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": at,
        "accountId": "111122223333",
        "identity": {"arn": "arn:aws:iam::111122223333:role/support-agent"},
        "region": "us-east-1",
        "operation": operation,
        "modelId": SONNET,
        "input": {"inputBodyJson": REQUEST, **(counts if metadata else {}), **input},
        "output": {"outputBodyJson": body, **({"outputTokenCount": OUTPUT} if metadata else {})},
    }


SHAPES = [
    ("Converse", ASSEMBLED, WITH_TTL),
    ("ConverseStream", ASSEMBLED, WITH_TTL),
    ("ConverseStream", CONVERSE_EVENTS, WITH_TTL),
    ("InvokeModel", MESSAGES, WITH_TTL),
    ("InvokeModelWithResponseStream", CHUNKS, WITH_TTL),
    ("InvokeModelWithResponseStream", MESSAGES, WITH_TTL),
    ("InvokeModelWithResponseStream", METRICS_ONLY, NO_TTL),
]


@pytest.mark.parametrize("metadata", [True, False], ids=["with metadata counts", "without"])
@pytest.mark.parametrize(("operation", "body", "expected"), SHAPES)
def test_every_operation_and_shape_reads_its_counts(operation: str, body: Any, expected: Usage, metadata: bool) -> None:
    call = parse(record(operation, body, metadata), "calls.json:1")
    assert isinstance(call, LoggedCall)
    assert (call.usage, call.disagreement) == (expected, "")


def test_a_record_with_metadata_counts_only_reads_them() -> None:
    """Content logging off: no body, the counts beside it are all there is."""
    call = parse(record("ConverseStream", None, True), "calls.json:1")
    assert isinstance(call, LoggedCall) and call.usage == NO_TTL


@pytest.mark.parametrize(("operation", "body"), [(operation, body) for operation, body, _ in SHAPES])
def test_hits_stay_hits_without_metadata_counts(tmp_path: Path, operation: str, body: Any) -> None:
    lines = [json.dumps(record(operation, body, metadata=False, at=f"2026-11-30T09:0{i}:00Z")) for i in range(3)]
    (tmp_path / "calls.json").write_text("\n".join(lines) + "\n")
    result = audit(read([str(tmp_path)]))
    assert (result.total.calls, result.total.hits, result.total.usage.cacheReadInputTokens) == (3, 3, 3 * READ)
    assert result.problems == []


def disagreeing(at: str, read_in_metadata: int) -> dict[str, Any]:
    """A record whose metadata says `read_in_metadata` tokens were read while its body says READ."""
    logged = record("ConverseStream", ASSEMBLED, True, at=at)
    logged["input"]["cacheReadInputTokenCount"] = read_in_metadata
    return logged


@pytest.mark.xdist_group("dask")
def test_the_metadata_comes_first_and_a_disagreement_is_named_once(tmp_path: Path, dask_scheduler: str) -> None:
    lines = [disagreeing(f"2026-11-30T09:0{i}:00Z", 0) for i in range(3)]
    lines.append(record("Converse", ASSEMBLED, True, at="2026-11-30T09:03:00Z"))
    (tmp_path / "calls.json").write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    call = parse(lines[0], "calls.json:1")
    assert isinstance(call, LoggedCall)
    assert call.usage == Usage.of(regular=REGULAR, output=OUTPUT, read=0, write_1h=WRITTEN)
    assert call.disagreement == "tokens read: the metadata 0, the body 2,500"
    told = (
        f"3 records whose cache counts disagree between the metadata, the body and the invocation metrics: counted "
        f"as the first of those says (the first record, {tmp_path / 'calls.json'}:1: tokens read: the metadata 0, "
        "the body 2,500)."
    )
    for mode in ([], ["--scheduler", dask_scheduler]):
        report = json.loads(
            render_with(lambda c: cli(["audit", str(tmp_path), "--json", *mode], c), width=300)  # noqa: B023
        )
        assert report["skipped_records"] == [told]
        assert (report["total"]["calls"], report["total"]["hits"]) == (4, 1)  # the metadata's zero reads are misses


def test_the_metrics_are_third_and_disagree_with_the_body_by_name() -> None:
    chunks = [
        *CHUNKS[:-1],
        {"type": "message_stop", "amazon-bedrock-invocationMetrics": {**METRICS, "cacheWriteInputTokenCount": 0}},
    ]
    call = parse(record("InvokeModelWithResponseStream", chunks, metadata=False), "calls.json:1")
    assert isinstance(call, LoggedCall)
    assert call.usage == WITH_TTL
    assert call.disagreement == "tokens written: the body 300, the invocation metrics 0"


def test_the_emulator_logs_what_bedrock_writes(tmp_path: Path) -> None:
    emulator = Emulator(clock=ManualClock(), invocation_log=str(tmp_path))
    client = emulator.session().client("bedrock-runtime")
    system = [{"text": text_of(2_500)}, CP]
    for _ in range(2):
        events = client.converse_stream(modelId=SONNET, system=system, messages=[user("Hi")])["stream"]
        usage = next(event["metadata"]["usage"] for event in events if "metadata" in event)
    body: dict[str, Any] = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 50}
    body["messages"] = [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]
    body["system"] = [{"type": "text", "text": text_of(2_500), "cache_control": {"type": "ephemeral"}}]
    for _ in range(2):
        answer = client.invoke_model_with_response_stream(modelId=SONNET, body=json.dumps(body))
        list(answer["body"])
    logged = [json.loads(line) for file in sorted(tmp_path.rglob("*.json")) for line in file.read_text().splitlines()]
    streamed, invoked = logged[1]["output"]["outputBodyJson"], logged[3]["output"]["outputBodyJson"]
    assert set(streamed) == {"output", "stopReason", "metrics", "usage"} and streamed["usage"] == usage
    was_read = emulator.records[3].usage.cacheReadInputTokens
    assert was_read > 0 and invoked[-1]["amazon-bedrock-invocationMetrics"]["cacheReadInputTokenCount"] == was_read
    for each in logged:  # the same calls, with the counts beside the bodies left out as older records have them
        del each["input"]["cacheReadInputTokenCount"], each["input"]["cacheWriteInputTokenCount"]
    (tmp_path / "older.json").write_text("\n".join(json.dumps(each) for each in logged) + "\n")
    result = audit(read([str(tmp_path / "older.json")]))
    assert (result.total.calls, result.total.hits) == (4, 2)
    assert result.total.usage == sum((r.usage for r in emulator.records[1:]), emulator.records[0].usage)


def tree_with_body_apart(root: Path, key: str) -> Path:
    """A downloaded log tree: one record whose request and response are stored apart, under data/."""
    hour = root / HOUR
    (hour / "data").mkdir(parents=True)
    (hour / "data" / "big-request.json").write_text(json.dumps(REQUEST))
    (hour / "data" / "big-response.json").write_text(json.dumps(ASSEMBLED))
    logged = record("Converse", None, metadata=False)
    logged["input"] = {"inputBodyS3Path": f"s3://logs-bucket/bedrock/{key}"}
    logged["output"] = {"outputBodyS3Path": f"s3://logs-bucket/bedrock/{HOUR}/data/big-response.json"}
    (hour / "20261130T090000000Z_large.json").write_text(json.dumps(logged) + "\n")
    return hour


def test_a_downloaded_tree_finds_its_bodies_under_data(tmp_path: Path) -> None:
    hour = tree_with_body_apart(tmp_path / "copy", f"{HOUR}/data/big-request.json")
    for path in (tmp_path / "copy", hour / "20261130T090000000Z_large.json"):  # the tree, or the record's file alone
        result = audit(read([str(path)]))
        assert (result.unparsed, result.replayed.calls, result.total.usage) == (0, 1, WITH_TTL)


def test_a_body_path_never_leaves_the_folder_audited(tmp_path: Path) -> None:
    (tmp_path / "secret.json").write_text(json.dumps(REQUEST))
    tree_with_body_apart(tmp_path / "copy", "../../../../../../../../../secret.json")
    result = audit(read([str(tmp_path / "copy")]))
    assert (result.unparsed, result.replayed.calls) == (1, 0)


def test_bedrocks_permission_check_is_named_as_what_it_is(tmp_path: Path) -> None:
    prefix = tmp_path / "AWSLogs/111122223333/BedrockModelInvocationLogs"
    prefix.mkdir(parents=True)
    (prefix / PERMISSION_CHECK).write_bytes(b"")  # empty, as Bedrock writes it
    said = f"{prefix / PERMISSION_CHECK}: Bedrock's permission check, written when logging to this prefix was set up; not a log, skipped."
    text = render_with(lambda c: cli(["audit", str(tmp_path)], c), width=300, expect=2)
    assert text.splitlines()[0] == said  # nothing logged yet: the check is all there is, and says so
    (prefix / "calls.json").write_text(json.dumps(record("Converse", ASSEMBLED, True)) + "\n")
    assert audit(read([str(tmp_path)])).problems == [said]


@pytest.mark.xdist_group("dask")
def test_an_empty_time_window_says_how_many_calls_it_left_out(tmp_path: Path, dask_scheduler: str) -> None:
    lines = [record("Converse", ASSEMBLED, True, at=f"2026-11-30T09:{minute:02d}:00Z") for minute in (0, 5, 59)]
    (tmp_path / "calls.json").write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    for mode in ([], ["--scheduler", dask_scheduler]):
        text = render_with(
            lambda c: cli(["audit", str(tmp_path), "--since", "2099-01-01", *mode], c),  # noqa: B023
            width=300,
            expect=2,
        )
        assert text == (
            "Error: No call falls in the time window --since 2099-01-01: it left out 3 calls (from 2026-11-30 09:00 "
            "to 2026-11-30 09:59 UTC); widen or drop the window.\n"
        )


def test_identities_are_unique_in_every_table(tmp_path: Path) -> None:
    arns = [
        "arn:aws:iam::111122223333:role/app-1",
        "arn:aws:iam::444455556666:role/app-1",
        "arn:aws:sts::111122223333:assumed-role/support/session-1",
    ]
    assert identity_names(arns) == {
        arns[0]: "role/app-1 (account 111122223333)",
        arns[1]: "role/app-1 (account 444455556666)",
        arns[2]: "assumed-role/support/session-1",
    }
    lines = []
    for arn in arns:
        logged = record("Converse", ASSEMBLED, True)
        logged["identity"]["arn"] = arn
        logged["accountId"] = arn.split(":")[4]
        lines.append(json.dumps(logged))
    (tmp_path / "calls.json").write_text("\n".join(lines) + "\n")
    text = render_with(lambda c: cli(["audit", str(tmp_path)], c), width=120)
    table = text[text.index("By IAM identity") : text.index("By day")].splitlines()
    rows = table[table.index(next(line for line in table if "─" in line)) + 1 :]
    assert [re.split(r"\s{2,}", row.strip())[0] for row in rows if row.strip()] == [
        "role/app-1 (account 111122223333)",
        "role/app-1 (account 444455556666)",
        "assumed-role/support/session-1",
    ]
