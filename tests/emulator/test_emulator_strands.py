"""A real Strands Agent on the emulator: in process and over loopback HTTP, with identical usage."""

from __future__ import annotations

from typing import Any

import boto3
from strands import Agent, tool
from strands.models import BedrockModel, CacheConfig

from caching.emulator import MARK, Emulator, ManualClock, running_server
from caching.rules import block_tokens

from ..helpers import CP, SONNET, TOOL_PROMPT, message_tokens, text_of

SYSTEM_TOKENS = 2_100


@tool
def research_assistant(query: str) -> str:
    """Research a topic and explain it in plain words."""
    return f"Notes on {query}: caching reuses a prompt prefix that was sent before."


def run_two_turns(model: BedrockModel) -> Agent:
    agent = Agent(
        model=model,
        system_prompt=[{"text": text_of(SYSTEM_TOKENS)}, CP],
        tools=[research_assistant],
        callback_handler=None,
    )
    agent("What is prompt caching?")
    agent("Explain how long an entry lives")
    return agent


def usages(emu: Emulator) -> list[tuple[int, int, int]]:
    return [(r.usage.cacheReadInputTokens, r.usage.cacheWriteInputTokens, r.usage.inputTokens) for r in emu.records]


def test_agent_two_turns_exact_usage_per_call() -> None:
    emu = Emulator(clock=ManualClock())
    model = BedrockModel(boto_session=emu.session(), model_id=SONNET, cache_config=CacheConfig(strategy="auto"))
    agent = run_two_turns(model)

    requests = [r.request for r in emu.records]
    assert len(requests) == 4  # per turn: the call that asks the tool, then the call that answers
    assert [r.request["messages"][-1]["content"][-1] for r in emu.records] == [{"cachePoint": {"type": "default"}}] * 4
    tools = TOOL_PROMPT + sum(block_tokens(t) for t in requests[0]["toolConfig"]["tools"])
    assert requests[0]["system"] == [{"text": text_of(SYSTEM_TOKENS)}, CP]

    # Derived from the rules: call 1 writes tools + system + the question (both checkpoints pass the minimum).
    # Each later call reads what the call before it wrote (its last checkpoint, within 21 blocks) and writes the
    # messages added since, up to the cachePoint Strands puts at the end of the last user message.
    prefix = [tools + SYSTEM_TOKENS + sum(message_tokens(m) for m in r["messages"]) for r in requests]
    expected = [(0, prefix[0], 0)] + [(prefix[i - 1], prefix[i] - prefix[i - 1], 0) for i in range(1, 4)]
    assert usages(emu) == expected
    assert [r.outcome for r in emu.records] == ["WRITE", "READ+WRITE", "READ+WRITE", "READ+WRITE"]
    assert [r.checkpoints[-1].read_distance for r in emu.records] == [-1, 3, 2, 3]

    # What Strands itself recorded for each call matches what the emulator reported.
    cycles = [c.usage for inv in agent.event_loop_metrics.agent_invocations for c in inv.cycles]
    assert [(u["cacheReadInputTokens"], u["cacheWriteInputTokens"], u["inputTokens"]) for u in cycles] == expected
    assert str(agent.messages[-1]["content"][0]["text"]).startswith(MARK)


def test_loopback_server_gives_identical_usage() -> None:
    in_process = Emulator(clock=ManualClock())
    model = BedrockModel(boto_session=in_process.session(), model_id=SONNET, cache_config=CacheConfig(strategy="auto"))
    run_two_turns(model)

    served = Emulator(clock=ManualClock())
    with running_server(served) as server:
        session = boto3.Session(
            aws_access_key_id="AKIAOFFLINEEXAMPLE01", aws_secret_access_key="x", region_name="us-east-1"
        )
        over_http = BedrockModel(
            boto_session=session, endpoint_url=server.url, model_id=SONNET, cache_config=CacheConfig(strategy="auto")
        )
        run_two_turns(over_http)

    assert [r.usage for r in served.records] == [r.usage for r in in_process.records]
    assert [r.request for r in served.records] == [r.request for r in in_process.records]
    assert served.records[0].account == in_process.records[0].account == "AKIAOFFLINEEXAMPLE01"


def test_same_request_same_reply() -> None:
    def reply_of(emu: Emulator) -> Any:
        client = emu.session().client("bedrock-runtime")
        return client.converse(modelId=SONNET, messages=[{"role": "user", "content": [{"text": "What is Python?"}]}])

    first, second = reply_of(Emulator()), reply_of(Emulator())
    assert first["output"] == second["output"]
    assert first["output"]["message"]["content"][0]["text"].startswith(MARK + " Python is a general-purpose")
