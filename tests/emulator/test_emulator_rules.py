"""Each of Bedrock's caching rules, pinned on the emulator through a real boto3 client."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from caching.emulator import Catalog, Emulator, ManualClock
from caching.rules import Kind, text_tokens

from ..helpers import CP, FRAMING, SONNET, assistant, cp, text_of, usage_of, user

SYSTEM = 2_100  # above Sonnet 4.6's 2,048 minimum
QUESTION = "What is prompt caching?"
Q = text_tokens(QUESTION) + FRAMING


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emu(clock: ManualClock) -> Emulator:
    return Emulator(clock=clock)


@pytest.fixture
def client(emu: Emulator) -> Any:
    return emu.session().client("bedrock-runtime")


def ask(client: Any, system: list[dict[str, Any]], messages: list[dict[str, Any]] | None = None, **kw: Any) -> Any:
    return client.converse(modelId=kw.pop("model", SONNET), system=system, messages=messages or [user(QUESTION)], **kw)


def test_write_then_read_exact_tokens(client: Any, emu: Emulator) -> None:
    system = [{"text": text_of(SYSTEM)}, CP]
    first, second = ask(client, system), ask(client, system)
    assert usage_of(first) == (0, SYSTEM, Q)
    assert usage_of(second) == (SYSTEM, 0, Q)
    assert first["usage"]["cacheDetails"] == [{"ttl": "5m", "inputTokens": SYSTEM}]
    assert second["usage"]["cacheDetails"] == []
    out = second["usage"]["outputTokens"]
    assert second["usage"]["totalTokens"] == SYSTEM + Q + out
    assert [r.outcome for r in emu.records] == ["WRITE", "READ"]
    assert emu.records[0].checkpoints[0].miss == Kind.NEW_PREFIX


def test_stream_reports_the_same_usage_as_converse(client: Any) -> None:
    system = [{"text": text_of(SYSTEM)}, CP]
    ask(client, system)
    events = list(client.converse_stream(modelId=SONNET, system=system, messages=[user(QUESTION)])["stream"])
    metadata = next(e["metadata"] for e in events if "metadata" in e)
    again = ask(client, system)
    assert metadata["usage"] == again["usage"]
    assert usage_of({"usage": metadata["usage"]}) == (SYSTEM, 0, Q)
    text = "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e)
    assert text == again["output"]["message"]["content"][0]["text"]
    assert [next(iter(e)) for e in events][:1] + [next(iter(e)) for e in events][-2:] == [
        "messageStart",
        "messageStop",
        "metadata",
    ]


def test_below_minimum_caches_nothing_and_does_not_fail(client: Any, emu: Emulator) -> None:
    system = [{"text": text_of(2_048 - 1)}, CP]
    assert usage_of(ask(client, system)) == (0, 0, 2_047 + Q)
    assert usage_of(ask(client, system)) == (0, 0, 2_047 + Q)
    point = emu.records[0].checkpoints[0]
    assert (point.action, point.reason, point.detail) == (
        "skip",
        Kind.BELOW_MINIMUM,
        "2,047 < 2,048 tokens for claude-sonnet-4-6",
    )


def test_minimum_is_measured_on_the_cumulative_prefix(client: Any) -> None:
    # 1,500 system tokens alone are below 2,048; with a 700-token user message before the second checkpoint they
    # are not, so the second checkpoint writes the whole prefix.
    system = [{"text": text_of(1_500)}, CP]
    messages = [user(text_of(700 - FRAMING), cp())]
    assert usage_of(ask(client, system, messages)) == (0, 2_200, 0)


def test_one_changed_character_is_a_new_prefix(client: Any, emu: Emulator) -> None:
    ask(client, [{"text": text_of(SYSTEM)}, CP])
    changed = text_of(SYSTEM)[:-1] + "!"
    assert usage_of(ask(client, [{"text": changed}, CP])) == (0, SYSTEM, Q)
    assert emu.records[1].checkpoints[0].miss == Kind.NEW_PREFIX


def test_order_is_tools_then_system_then_messages(client: Any) -> None:
    tool = {"toolSpec": {"name": "lookup", "description": text_of(30), "inputSchema": {"json": {"type": "object"}}}}
    system = [{"text": text_of(SYSTEM)}, CP]
    first = ask(client, system, toolConfig={"tools": [tool]})
    tool_tokens = first["usage"]["cacheWriteInputTokens"] - SYSTEM
    assert tool_tokens > 30
    changed = {"toolSpec": {**tool["toolSpec"], "description": text_of(30, "tool")}}
    # A changed tool definition comes first, so the system prompt's checkpoint no longer matches.
    assert usage_of(ask(client, system, toolConfig={"tools": [changed]})) == (0, SYSTEM + tool_tokens, Q)


def test_accounts_never_share_an_entry(emu: Emulator) -> None:
    system = [{"text": text_of(SYSTEM)}, CP]
    alice = emu.session("AKIAALICE00000000001").client("bedrock-runtime")
    bob = emu.session("AKIABOB0000000000001").client("bedrock-runtime")
    assert usage_of(ask(alice, system)) == (0, SYSTEM, Q)
    assert usage_of(ask(bob, system)) == (0, SYSTEM, Q)
    assert usage_of(ask(alice, system)) == (SYSTEM, 0, Q)
    assert (emu.records[1].account, emu.records[1].checkpoints[0].miss) == ("AKIABOB0000000000001", Kind.OTHER_ACCOUNT)


def conversation(blocks_after: int) -> list[dict[str, Any]]:
    """A user message holding a cachePoint after block 1, then `blocks_after` more blocks before a second one."""
    head = user(text_of(10, "head"), cp())
    extra = [{"text": text_of(5, f"b{i:03d}")} for i in range(blocks_after)]
    return [{"role": "user", "content": [*head["content"][:1], *extra, cp()]}]


# Measured live: 21 blocks added after the cached checkpoint (20 in between plus its own) still hit; 22 miss.
@pytest.mark.parametrize(("blocks_after", "hits"), [(20, True), (21, True), (22, False)])
def test_lookback_reaches_21_blocks_back(client: Any, emu: Emulator, blocks_after: int, hits: bool) -> None:
    system = [{"text": text_of(SYSTEM)}]
    first = ask(client, system, [user(text_of(10, "head"), cp())])
    written = first["usage"]["cacheWriteInputTokens"]
    assert written == SYSTEM + 10 + FRAMING
    second = ask(client, system, conversation(blocks_after))
    if hits:
        assert usage_of(second) == (written, 5 * blocks_after, 0)
        assert emu.records[1].checkpoints[0].read_distance == blocks_after
    else:
        assert usage_of(second) == (0, written + 5 * blocks_after, 0)
        point = emu.records[1].checkpoints[0]
        assert (point.miss, point.detail) == (Kind.BEYOND_LOOKBACK, "cached prefix 22 blocks before this checkpoint")


def test_five_minute_entry_expires_and_a_hit_refreshes_it(client: Any, emu: Emulator, clock: ManualClock) -> None:
    system = [{"text": text_of(SYSTEM)}, CP]
    ask(client, system)
    clock.advance(240)
    assert usage_of(ask(client, system)) == (SYSTEM, 0, Q)  # the hit resets the 5-minute timer...
    clock.advance(240)
    assert usage_of(ask(client, system)) == (SYSTEM, 0, Q)  # ...so 8 minutes after the write it still hits
    clock.advance(372)
    assert usage_of(ask(client, system)) == (0, SYSTEM, Q)
    point = emu.records[-1].checkpoints[0]
    assert (point.miss, point.detail) == (Kind.EXPIRED, "5m entry last used 6m12s ago")


def test_one_hour_entry_survives_a_six_minute_pause(client: Any, clock: ManualClock) -> None:
    five, hour = [{"text": text_of(SYSTEM)}, cp("5m")], [{"text": text_of(SYSTEM, "long")}, cp("1h")]
    first = ask(client, hour)
    assert first["usage"]["cacheDetails"] == [{"ttl": "1h", "inputTokens": SYSTEM}]
    ask(client, five)
    clock.advance(360)
    assert usage_of(ask(client, hour)) == (SYSTEM, 0, Q)
    assert usage_of(ask(client, five)) == (0, SYSTEM, Q)


def test_mixed_ttls_are_reported_per_ttl_1h_first(client: Any) -> None:
    system = [{"text": text_of(SYSTEM)}, cp("1h")]
    messages = [user(text_of(100 - FRAMING), cp("5m"))]
    response = ask(client, system, messages)
    assert usage_of(response) == (0, SYSTEM + 100, 0)
    assert response["usage"]["cacheDetails"] == [
        {"ttl": "1h", "inputTokens": SYSTEM},
        {"ttl": "5m", "inputTokens": 100},
    ]


def test_a_later_checkpoint_reads_and_extends_the_prefix(client: Any, emu: Emulator) -> None:
    system = [{"text": text_of(SYSTEM)}, CP]
    ask(client, system)
    longer = [user(QUESTION), assistant("Caching reuses a prefix."), user("And the TTL?", cp())]
    response = ask(client, system, longer)
    history = sum(text_tokens(t) + FRAMING for t in (QUESTION, "Caching reuses a prefix.", "And the TTL?"))
    assert usage_of(response) == (SYSTEM, history, 0)
    assert [(p.action, p.reason) for p in emu.records[1].checkpoints] == [("read", None), ("write", None)]
    again = ask(client, system, longer)
    assert usage_of(again) == (SYSTEM + history, 0, 0)
    assert [(p.action, p.reason) for p in emu.records[2].checkpoints] == [("skip", Kind.COVERED), ("read", None)]


REJECTIONS = [
    (
        {
            "system": [
                {"text": text_of(10)},
                CP,
                {"text": "a"},
                CP,
                {"text": "b"},
                CP,
                {"text": "c"},
                CP,
                {"text": "d"},
                CP,
            ]
        },
        "A maximum of 4 blocks with cachePoint may be provided. Found 5.",
    ),
    (
        {"system": [{"text": "x"}, cp("10m")]},
        "1 validation error detected: Value '10m' at 'system[1].cachePoint.ttl' failed to satisfy constraint: "
        "Member must satisfy enum value set: [5m, 1h]",
    ),
    (
        {"system": [{"text": "x"}, cp("1h")], "model": "us.anthropic.claude-3-7-sonnet-20250219-v1:0"},
        "The model anthropic.claude-3-7-sonnet-20250219-v1:0 does not support a 1h cache TTL (cachePoint at "
        "system[1]). Use ttl 5m.",
    ),
    (
        {"system": [{"text": "x"}, cp("5m")], "messages": [user("hi", cp("1h"))]},
        "A cachePoint with ttl '1h' (messages[0].content[1]) must not come after one with ttl '5m' (system[1]): "
        "blocks are processed in the order tools, system, messages, and TTLs must not increase along it.",
    ),
    ({"system": [{"text": "x"}], "model": "anthropic.claude-sonnet-9"}, "The provided model identifier is invalid."),
    ({"system": [{"text": "x"}], "messages": [assistant("hi")]}, "A conversation must start with a user message."),
    (
        {"system": [{"text": "x"}], "messages": [user("a"), user("b")]},
        "A conversation must alternate between user and assistant roles: messages[1] repeats role 'user'.",
    ),
    (
        {
            "system": [{"text": "x"}],
            "messages": [user({"toolResult": {"toolUseId": "t1", "content": [{"text": "r"}]}})],
        },
        "The toolResult 't1' at messages[0] does not answer a toolUse in the previous assistant message.",
    ),
    (
        {"system": [CP, {"text": "x"}]},
        "The cachePoint at system[0] has no content block before it in its list: There is nothing available to cache.",
    ),
]


@pytest.mark.parametrize(("request_fields", "message"), REJECTIONS)
def test_rejections_are_validation_errors_that_change_nothing(
    client: Any, emu: Emulator, request_fields: dict[str, Any], message: str
) -> None:
    system = [{"text": text_of(SYSTEM)}, CP]
    ask(client, system)
    fields = dict(request_fields)
    with pytest.raises(ClientError) as caught:
        ask(client, fields.pop("system"), fields.pop("messages", None), model=fields.pop("model", SONNET))
    assert caught.value.response["Error"] == {"Code": "ValidationException", "Message": message}
    assert len(emu.records) == 1 and len(emu.cache) == 1
    assert usage_of(ask(client, system)) == (SYSTEM, 0, Q)


def test_count_tokens_matches_converse(client: Any) -> None:
    system = [{"text": text_of(SYSTEM)}, CP]
    counted = client.count_tokens(modelId=SONNET, input={"converse": {"system": system, "messages": [user(QUESTION)]}})
    assert counted["inputTokens"] == SYSTEM + Q
    u = ask(client, system)["usage"]
    assert u["inputTokens"] + u["cacheReadInputTokens"] + u["cacheWriteInputTokens"] == counted["inputTokens"]


def test_every_catalog_id_answers_and_minimums_can_be_overridden(clock: ManualClock) -> None:
    catalog = Catalog().override("anthropic.claude-sonnet-4-6", min_tokens=1_024)
    client = Emulator(clock=clock, catalog=catalog).session().client("bedrock-runtime")
    assert usage_of(ask(client, [{"text": text_of(1_100)}, CP])) == (0, 1_100, Q)
    default = Emulator(clock=clock).session().client("bedrock-runtime")
    for model in Catalog().models:
        for model_id in model.ids():
            response = ask(default, [{"text": text_of(model.min_tokens)}, CP], model=model_id)
            assert response["usage"]["cacheWriteInputTokens"] == model.min_tokens, model_id


def test_override_of_an_unknown_model_says_which_are_known() -> None:
    with pytest.raises(ValueError, match=r"^Unknown model 'claude-9': choose one of anthropic\.claude-sonnet-4-6, "):
        Catalog().override("claude-9", min_tokens=1)
