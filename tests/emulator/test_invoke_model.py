"""InvokeModel and InvokeModelWithResponseStream with Anthropic Messages bodies: the emulator answers them from a
plain boto3 client (in process and over loopback), the recorder records them and the doctor explains them."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from caching import CallRecorder, Doctor
from caching.emulator import Emulator, ManualClock, running_server
from caching.rules import Kind

from ..helpers import CP, SONNET, text_of, user

VERSION = "bedrock-2023-05-31"
EPHEMERAL = {"type": "ephemeral"}
GUIDE = text_of(2_100)


def body(system: Any = None, messages: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    system = [{"type": "text", "text": GUIDE, "cache_control": EPHEMERAL}] if system is None else system
    return {
        "anthropic_version": VERSION,
        "max_tokens": 300,
        "system": system,
        "messages": messages or [{"role": "user", "content": "Hi"}],
        **extra,
    }


def invoke(client: Any, request: dict[str, Any]) -> dict[str, Any]:
    return json.loads(client.invoke_model(modelId=SONNET, body=json.dumps(request))["body"].read())


def stream(client: Any, request: dict[str, Any]) -> list[dict[str, Any]]:
    answer = client.invoke_model_with_response_stream(modelId=SONNET, body=json.dumps(request))
    return [json.loads(event["chunk"]["bytes"]) for event in answer["body"]]


@pytest.fixture(params=["in process", "over loopback"])
def client(request: pytest.FixtureRequest) -> Any:
    emulator = Emulator(clock=ManualClock())
    if request.param == "in process":
        yield emulator.session().client("bedrock-runtime")
        return
    session = boto3.Session(aws_access_key_id="AKIAINVOKE", aws_secret_access_key="x", region_name="us-east-1")
    with running_server(emulator) as server:
        yield session.client("bedrock-runtime", endpoint_url=server.url)


def test_invoke_model_writes_then_reads_with_anthropic_usage(client: Any) -> None:
    first, second = invoke(client, body()), invoke(client, body())
    question = 4  # "Hi": 1 token and 3 of message framing
    assert first["usage"] == {
        "input_tokens": question,
        "cache_creation_input_tokens": 2_100,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 2_100, "ephemeral_1h_input_tokens": 0},
        "output_tokens": first["usage"]["output_tokens"],
    }
    assert (second["usage"]["cache_read_input_tokens"], second["usage"]["cache_creation_input_tokens"]) == (2_100, 0)
    assert first["type"] == "message" and first["role"] == "assistant" and first["stop_reason"] == "end_turn"
    assert first["content"][0]["type"] == "text"


def test_the_stream_reports_usage_where_bedrock_does(client: Any) -> None:
    invoke(client, body())
    events = stream(client, body())
    kinds = [event["type"] for event in events]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    start = events[0]["message"]["usage"]
    assert (start["cache_read_input_tokens"], start["cache_creation_input_tokens"], start["input_tokens"]) == (
        2_100,
        0,
        4,
    )
    output = events[-2]["usage"]["output_tokens"]
    assert events[-1]["amazon-bedrock-invocationMetrics"] | {"invocationLatency": 0, "firstByteLatency": 0} == {
        "inputTokenCount": 4,
        "outputTokenCount": output,
        "invocationLatency": 0,
        "firstByteLatency": 0,
        "cacheReadInputTokenCount": 2_100,
        "cacheWriteInputTokenCount": 0,
    }


def test_converse_and_invoke_model_never_share_an_entry(client: Any) -> None:
    invoke(client, body())
    same = client.converse(modelId=SONNET, system=[{"text": GUIDE}, CP], messages=[user("Hi")])["usage"]
    assert (same["cacheReadInputTokens"], same["cacheWriteInputTokens"]) == (0, 2_100)


def test_one_hour_ttl_and_a_checkpoint_inside_a_tool_result() -> None:
    client = Emulator(clock=ManualClock()).session().client("bedrock-runtime")
    hour = body([{"type": "text", "text": GUIDE, "cache_control": {"type": "ephemeral", "ttl": "1h"}}])
    assert invoke(client, hour)["usage"]["cache_creation"] == {
        "ephemeral_5m_input_tokens": 0,
        "ephemeral_1h_input_tokens": 2_100,
    }
    tool = {"name": "lookup", "description": "Look up.", "input_schema": {"type": "object"}}
    result = {"type": "text", "text": text_of(3_000, "rslt"), "cache_control": EPHEMERAL}
    messages = [
        {"role": "user", "content": "Find it"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "lookup", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": [result]}]},
    ]
    plain = body([{"type": "text", "text": "Short."}], messages, tools=[tool])
    first, second = invoke(client, plain), invoke(client, plain)
    assert first["usage"]["cache_creation_input_tokens"] > 3_000  # the checkpoint inside the tool_result wrote
    assert second["usage"]["cache_read_input_tokens"] == first["usage"]["cache_creation_input_tokens"]


def test_a_string_system_prompt_cannot_be_cached_and_the_doctor_says_so() -> None:
    emulator = Emulator(clock=ManualClock())
    client = emulator.session().client("bedrock-runtime")
    recorder = CallRecorder().attach(client, "app")
    for _ in range(2):
        assert invoke(client, body(GUIDE))["usage"]["cache_read_input_tokens"] == 0
    diagnosis = Doctor().observe(recorder.calls[-1])
    assert diagnosis.kind == Kind.NO_CACHE_POINT
    assert diagnosis.message == (
        "no cachePoint in the request: add one after the stable prefix; the system prompt is a plain string, which "
        "cannot carry cache_control: send it as a list of text blocks"
    )
    assert emulator.records[-1].diagnosis == diagnosis  # the same words offline and live


@pytest.mark.parametrize("streamed", [False, True])
def test_recorder_and_doctor_read_invoke_model_calls(streamed: bool, tmp_path: Any) -> None:
    from caching.__main__ import main as cli

    from ..helpers import render_with

    clock = ManualClock()
    emulator = Emulator(clock=clock)
    client = emulator.session().client("bedrock-runtime")
    path = tmp_path / "calls.jsonl"
    recorder = CallRecorder(path, clock=clock).attach(client, "sdk")
    send = stream if streamed else invoke
    send(client, body())
    clock.advance(400)
    send(client, body())
    assert [call.api for call in recorder.calls] == ["invoke", "invoke"]
    assert [call.usage.cacheWriteInputTokens for call in recorder.calls if call.error is None] == [2_100, 2_100]
    doctor = Doctor()
    for call, record in zip(recorder.calls, emulator.records, strict=True):
        assert doctor.observe(call) == record.diagnosis
    text = " ".join(render_with(lambda console: cli(["doctor", str(path)], console)).split())
    assert "EXPIRED: 6m40s since the last hit: the 5m entry expired; consider ttl 1h" in text


def test_count_tokens_of_an_invoke_model_body(client: Any) -> None:
    counted = client.count_tokens(modelId=SONNET, input={"invokeModel": {"body": json.dumps(body())}})["inputTokens"]
    assert counted == 2_100 + 4
