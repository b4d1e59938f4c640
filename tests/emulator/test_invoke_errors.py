"""InvokeModel's rejections speak the Anthropic Messages body's terms (issue 22): cache_control, tool_use,
max_tokens, and places as the body has them (system[1], not the system[3] of its Converse form with two cachePoints
inserted). Converse's keep Converse's words."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from caching.emulator import Emulator, ManualClock, RequestRejected

from ..helpers import SONNET, cp, user

EPH = {"type": "ephemeral"}
HOUR = {"type": "ephemeral", "ttl": "1h"}


def text(value: Any, control: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "text", "text": value, **({"cache_control": control} if control else {})}


def body(**fields: Any) -> dict[str, Any]:
    return {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "Hi"}],
        **fields,
    }


def rejection(request: dict[str, Any]) -> str:
    with pytest.raises(RequestRejected) as caught:
        Emulator(clock=ManualClock()).invoke(SONNET, request, "AKIAERRORS")
    return str(caught.value)


TOOL_CALL = {"type": "tool_use", "id": "t1", "name": "look", "input": {}}
ORDER = (
    "must not come after one with ttl '5m' ({}): blocks are processed in the order tools, system, messages, and TTLs "
    "must not increase along it."
)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"system": [text(f"part {i}", EPH) for i in range(5)]},
            "A maximum of 4 blocks with cache_control may be provided. Found 5.",
        ),
        (  # body places: the two checkpoints are system[0] and system[1] (system[1] and [3] in the Converse form)
            {"system": [text("a", EPH), text("b", HOUR)]},
            "A cache_control with ttl '1h' (system[1]) " + ORDER.format("system[0]"),
        ),
        (
            {"system": [text("a", {"type": "ephemeral", "ttl": "2h"})]},
            "1 validation error detected: Value '2h' at 'system[0].cache_control.ttl' failed to satisfy constraint: "
            "Member must satisfy enum value set: [5m, 1h]",
        ),
        (
            {"system": [text("a", EPH), text(5)]},  # the second body block, after a checkpoint
            "The request is malformed: system[1].text is not text.",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "document",
                                "source": {"media_type": "text/plain", "data": "hi"},
                                "cache_control": EPH,
                            }
                        ],
                    }
                ]
            },
            "A cache_control cannot be set on a document that is not a PDF (messages[0].content[0]).",
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": [{"type": "thinking", "thinking": "hm", "cache_control": EPH}]},
                    {"role": "user", "content": "Go on"},
                ]
            },
            "A cache_control cannot be set on a thinking block (messages[1].content[0]).",
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": [TOOL_CALL]},
                    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t9", "content": "x"}]},
                ]
            },
            "The tool_result 't9' at messages[2] does not answer a tool_use in the previous assistant message.",
        ),
        ({"max_tokens": 0}, "max_tokens must be a whole number of at least 1, got 0."),
        ({"temperature": 1.5}, "temperature must be between 0 and 1, got 1.5."),
        ({"top_p": -0.1}, "top_p must be between 0 and 1, got -0.1."),
    ],
)
def test_invoke_model_rejections_name_the_bodys_terms(fields: dict[str, Any], message: str) -> None:
    assert rejection(body(**fields)) == message


def test_the_same_fault_through_converse_keeps_converse_words() -> None:
    request = {"system": [{"text": "a"}, cp(), {"text": "b"}, cp("1h")], "messages": [user("Hi")]}
    with pytest.raises(RequestRejected) as caught:
        Emulator(clock=ManualClock()).converse(SONNET, request, "AKIAERRORS")
    assert str(caught.value) == "A cachePoint with ttl '1h' (system[3]) " + ORDER.format("system[1]")


def test_a_client_reads_the_bodys_terms_in_its_validation_exception() -> None:
    client = Emulator(clock=ManualClock()).session().client("bedrock-runtime")
    request = body(system=[text(f"part {i}", EPH) for i in range(5)])
    with pytest.raises(ClientError) as caught:
        client.invoke_model(modelId=SONNET, body=json.dumps(request))
    assert caught.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "A maximum of 4 blocks with cache_control may be provided. Found 5.",
    }
