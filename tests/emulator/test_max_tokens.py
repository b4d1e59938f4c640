"""maxTokens (Converse) and max_tokens (InvokeModel) bound the reply as Bedrock does (issue 22): past the limit the
reply stops where it falls, the stop reason is max_tokens and the output tokens are exactly the limit, streams too."""

from __future__ import annotations

import json
from typing import Any

import pytest

from caching.emulator import Emulator, ManualClock
from caching.emulator.replies import MARK, bounded, reply

from ..helpers import SONNET, user

# "[offline emulator]" is 18 characters of prose: ceil(18 x 1.11 / 4) = 5 tokens, and 19 characters would be 6.
LIMIT = 5


def client() -> Any:
    return Emulator(clock=ManualClock()).session().client("bedrock-runtime")


def invoke_body(limit: int) -> str:
    messages = [{"role": "user", "content": "Hi"}]
    return json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": limit, "messages": messages})


def test_converse_stops_at_max_tokens() -> None:
    answer = client().converse(modelId=SONNET, messages=[user("Hi")], inferenceConfig={"maxTokens": LIMIT})
    assert answer["stopReason"] == "max_tokens"
    assert answer["output"]["message"]["content"] == [{"text": MARK}]
    assert answer["usage"]["outputTokens"] == LIMIT


def test_converse_stream_stops_at_max_tokens() -> None:
    answer = client().converse_stream(modelId=SONNET, messages=[user("Hi")], inferenceConfig={"maxTokens": LIMIT})
    events = list(answer["stream"])
    text = "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e)
    stop = next(e["messageStop"]["stopReason"] for e in events if "messageStop" in e)
    usage = next(e["metadata"]["usage"] for e in events if "metadata" in e)
    assert (text, stop, usage["outputTokens"]) == (MARK, "max_tokens", LIMIT)


def test_invoke_model_stops_at_max_tokens() -> None:
    answer = client().invoke_model(modelId=SONNET, body=invoke_body(LIMIT))
    body = json.loads(answer["body"].read())
    assert body["stop_reason"] == "max_tokens"
    assert body["content"] == [{"type": "text", "text": MARK}]
    assert body["usage"]["output_tokens"] == LIMIT
    assert answer["ResponseMetadata"]["HTTPHeaders"]["x-amzn-bedrock-output-token-count"] == str(LIMIT)


def test_invoke_model_stream_stops_at_max_tokens() -> None:
    answer = client().invoke_model_with_response_stream(modelId=SONNET, body=invoke_body(LIMIT))
    chunks = [json.loads(e["chunk"]["bytes"]) for e in answer["body"]]
    text = "".join(c["delta"]["text"] for c in chunks if c["type"] == "content_block_delta")
    delta = next(c for c in chunks if c["type"] == "message_delta")
    metrics = chunks[-1]["amazon-bedrock-invocationMetrics"]
    assert (text, delta["delta"]["stop_reason"], delta["usage"]["output_tokens"]) == (MARK, "max_tokens", LIMIT)
    assert metrics["outputTokenCount"] == LIMIT


@pytest.mark.parametrize("api", ["converse", "invoke"])
def test_a_reply_within_the_limit_is_whole(api: str) -> None:
    whole, _ = reply({"messages": [user("Hi")]})
    tokens = -(-len(whole[0]["text"]) * 111 // 400)  # prose: ceil(characters x 1.11 / 4)
    if api == "converse":
        answer = client().converse(modelId=SONNET, messages=[user("Hi")], inferenceConfig={"maxTokens": tokens})
        assert (answer["stopReason"], answer["output"]["message"]["content"]) == ("end_turn", whole)
        assert answer["usage"]["outputTokens"] == tokens
    else:
        body = json.loads(client().invoke_model(modelId=SONNET, body=invoke_body(tokens))["body"].read())
        assert (body["stop_reason"], body["content"][0]["text"]) == ("end_turn", whole[0]["text"])
        assert body["usage"]["output_tokens"] == tokens


def test_one_token_fewer_cuts_the_last_characters() -> None:
    text = "x" * 400  # prose: 111 tokens; 110 tokens hold 396 characters (ceil(396 x 1.11 / 4) = 110)
    assert bounded([{"text": text}], "end_turn", 111) == ([{"text": text}], "end_turn", 111)
    assert bounded([{"text": text}], "end_turn", 110) == ([{"text": "x" * 396}], "max_tokens", 110)


def test_a_tool_call_that_does_not_fit_whole_is_left_out() -> None:
    use = {"toolUse": {"toolUseId": "t1", "name": "code", "input": {"q": "hello"}}}
    # The call costs 4 (framing) + 2 ("code": ceil(4 x 1.25 / 4)) + 5 ('{"q":"hello"}': ceil(13 x 1.25 / 4)) = 11.
    content = [{"text": "x" * 400}, use]
    assert bounded(content, "tool_use", 111 + 11) == (content, "tool_use", 122)
    assert bounded(content, "tool_use", 111 + 10) == ([{"text": "x" * 400}], "max_tokens", 121)
