"""What Bedrock does that the emulator once did not (issue 11): each rule from AWS's or Anthropic's documentation or
from a live measurement, pinned by a test that fails if it breaks."""

from __future__ import annotations

import io
import json
import re
import threading
from typing import Any

import boto3
import pytest

from caching.emulator import MODELS as CATALOG_MODELS
from caching.emulator import Catalog, Emulator, ManualClock, RequestRejected, running_server
from caching.settings import DEFAULT_MODEL_ID

from ..helpers import CP, SONNET, text_of, usage_of, user

SYSTEM = [{"text": text_of(2_100)}, CP]


def converse(emulator: Emulator, request: dict[str, Any], account: str = "AKIAFIDELITY") -> dict[str, Any]:
    return emulator.converse(SONNET, {"system": SYSTEM, "messages": [user("Hi")], **request}, account)


@pytest.mark.parametrize(
    ("request_fields", "message"),
    [
        (  # a cachePoint first in its own list, even with content before it in the prompt
            {"messages": [user("Hi"), {"role": "assistant", "content": [CP, {"text": "Hello"}]}, user("Again")]},
            "The cachePoint at messages[1].content[0] has no content block before it in its list: There is nothing "
            "available to cache.",
        ),
        (
            {"messages": [user({"document": {"format": "txt", "name": "notes", "source": {"bytes": "aGk="}}}, CP)]},
            "A cachePoint cannot follow a document that is not a PDF (messages[0].content[1]).",
        ),
        (
            {
                "messages": [
                    user("Hi"),
                    {"role": "assistant", "content": [{"reasoningContent": {"reasoningText": {"text": "hm"}}}, CP]},
                    user("Go on"),
                ]
            },
            "Cache point cannot be inserted after reasoning block (messages[1].content[1]).",
        ),
        (
            {"messages": [{"role": "user", "content": [{"text": "Hi", "cachePoint": {"type": "default"}}]}]},
            "The content block at messages[0].content[0] sets cachePoint and text: a content block must set exactly "
            "one member.",
        ),
        (
            {"inferenceConfig": {"maxTokens": 0}},
            "inferenceConfig.maxTokens must be a whole number of at least 1, got 0.",
        ),
        ({"inferenceConfig": {"temperature": 1.5}}, "inferenceConfig.temperature must be between 0 and 1, got 1.5."),
        ({"inferenceConfig": {"topP": -0.1}}, "inferenceConfig.topP must be between 0 and 1, got -0.1."),
    ],
)
def test_requests_bedrock_rejects(request_fields: dict[str, Any], message: str) -> None:
    emulator = Emulator(clock=ManualClock())
    converse(emulator, {})
    with pytest.raises(RequestRejected) as caught:
        converse(emulator, request_fields)
    assert str(caught.value) == message
    assert len(emulator.records) == 1 and len(emulator.cache) == 1  # a rejected request changes nothing


def test_a_point_right_after_a_point_is_accepted_and_counts_toward_four() -> None:
    emulator = Emulator(clock=ManualClock())
    converse(emulator, {"system": [{"text": text_of(2_100)}, CP, CP, CP, CP]})
    with pytest.raises(RequestRejected, match=r"^A maximum of 4 blocks with cachePoint may be provided\. Found 5\.$"):
        converse(emulator, {"system": [{"text": text_of(2_100)}, CP, CP, CP, CP], "messages": [user("Hi", CP)]})


def test_a_prompt_longer_than_the_context_window_is_rejected() -> None:
    # 200,000 tokens of system prompt and a 4-token question: one over the window.
    with pytest.raises(RequestRejected, match=r"^Input is too long for requested model: about 200,004 tokens"):
        converse(Emulator(), {"system": [{"text": text_of(200_000)}]})
    converse(Emulator(), {"system": [{"text": text_of(199_990)}]})  # within it: accepted


@pytest.mark.parametrize(
    "changed",
    [
        {"additionalModelRequestFields": {"thinking": {"type": "enabled", "budget_tokens": 1024}}},
        {"additionalModelRequestFields": {"output_config": {"effort": "low"}}},
        {"toolConfig": {"tools": [], "toolChoice": {"any": {}}}},
    ],
)
def test_settings_that_key_the_cache(changed: dict[str, Any]) -> None:
    emulator = Emulator(clock=ManualClock())
    base = {
        "toolConfig": {"tools": [{"toolSpec": {"name": "t", "inputSchema": {"json": {}}}}], "toolChoice": {"auto": {}}}
    }
    if "toolConfig" in changed:
        changed = {"toolConfig": {**base["toolConfig"], "toolChoice": changed["toolConfig"]["toolChoice"]}}
    first = converse(emulator, base)
    assert usage_of(converse(emulator, base))[0] == first["usage"]["cacheWriteInputTokens"]  # same settings: a read
    assert usage_of(converse(emulator, {**base, **changed}))[0] == 0  # another setting: no entry to read


def test_settings_that_do_not_key_the_cache() -> None:
    emulator = Emulator(clock=ManualClock())
    auto = {
        "toolConfig": {"tools": [{"toolSpec": {"name": "t", "inputSchema": {"json": {}}}}], "toolChoice": {"auto": {}}}
    }
    absent = {"toolConfig": {"tools": auto["toolConfig"]["tools"]}}
    high = {"additionalModelRequestFields": {"output_config": {"effort": "high"}}}
    disabled = {"additionalModelRequestFields": {"thinking": {"type": "disabled"}}}
    written = converse(emulator, auto)["usage"]["cacheWriteInputTokens"]
    assert usage_of(converse(emulator, absent))[0] == written  # auto and absent: one group
    converse(emulator, {})
    assert usage_of(converse(emulator, high))[0] > 0  # absent effort means high
    assert usage_of(converse(emulator, disabled))[0] > 0  # disabled thinking is no thinking


def test_credentials_map_to_accounts() -> None:
    emulator = Emulator(clock=ManualClock(), accounts={"AKIAROTATED02": "AKIAROTATED01"})
    converse(emulator, {}, account=emulator.account_for("AKIAROTATED01"))
    assert usage_of(converse(emulator, {}, account=emulator.account_for("AKIAROTATED02")))[0] > 0  # mapped: shared
    assert usage_of(converse(emulator, {}, account=emulator.account_for("AKIAOTHER0003")))[0] == 0  # unmapped: its own


def test_bearer_tokens_are_accounts_too() -> None:
    from caching.emulator.service import credential_of
    from caching.emulator.state import Account, AccountKind

    one, two = credential_of({"Authorization": "Bearer key-one"}), credential_of({"authorization": "Bearer key-two"})
    # the first 16 hex digits of sha256(b"key-one") and of sha256(b"key-two"); the key itself is not kept
    assert one == (Account("9b346041bc9a4957", AccountKind.API_KEY), "us-east-1")
    assert two == (Account("c8df51469c308a59", AccountKind.API_KEY), "us-east-1")


def fan_out(send: Any, count: int) -> list[dict[str, Any]]:
    """`count` identical requests sent at the same moment."""
    results: list[dict[str, Any]] = []
    start = threading.Barrier(count)

    def one() -> None:
        start.wait()
        results.append(send())

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.parametrize("over_loopback", [False, True])
def test_identical_requests_at_the_same_moment_each_write(over_loopback: bool) -> None:
    emulator = Emulator(clock=ManualClock(), prefill_seconds=0.2)
    session = boto3.Session(aws_access_key_id="AKIAFAN", aws_secret_access_key="x", region_name="us-east-1")
    body = {"system": SYSTEM, "messages": [user("Hi")]}
    with running_server(emulator) as server:
        client = (
            session.client("bedrock-runtime", endpoint_url=server.url)
            if over_loopback
            else emulator.session("AKIAFAN").client("bedrock-runtime")
        )
        results = fan_out(lambda: client.converse(modelId=SONNET, **body), 4)
        assert [usage_of(r)[1] for r in results] == [2_100] * 4  # every one wrote: none could read another's entry
        later = client.converse(modelId=SONNET, **body)  # once their responses began, the entry is readable
        assert usage_of(later)[:2] == (2_100, 0)


# --- the token estimate -------------------------------------------------------------------------------------------


def test_prose_counts_11_percent_above_chars_over_4_and_code_more() -> None:
    from caching.rules import text_tokens

    prose = "The cache keeps a prefix for five minutes after its last use. " * 10  # 620 characters
    assert text_tokens(prose) == -(-620 * 111 // 400) == 173  # 620 / 4 = 155, plus about 11%
    code = "def f(x):\n    return {'a': [x, x * 2]}  # ok\n" * 10  # 450 characters, dense in brackets
    assert text_tokens(code) == -(-450 * 125 // 400) == 141  # 450 / 4 = 113, plus 25%


def png(width: int, height: int) -> bytes:
    import struct
    import zlib

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", 13)
        + b"IHDR"
        + header
        + struct.pack(">I", zlib.crc32(b"IHDR" + header))
    )


@pytest.mark.parametrize(("size", "tokens"), [((750, 400), 400), ((1000, 1000), 1334), ((3136, 1568), 1640)])
def test_an_image_counts_width_times_height_over_750(size: tuple[int, int], tokens: int) -> None:
    from caching.rules import block_tokens

    # 750 x 400 / 750 = 400; 1000 x 1000 / 750 = 1,333.3; 3136 x 1568 is resized to 1568 x 784 first.
    assert block_tokens({"image": {"format": "png", "source": {"bytes": png(*size)}}}) == tokens


@pytest.mark.parametrize(
    ("model", "choice", "extra"),
    [
        (SONNET, {"auto": {}}, 346),
        (SONNET, {"any": {}}, 313),
        (SONNET, {"tool": {"name": "t"}}, 313),
        ("us.anthropic.claude-3-5-haiku-20241022-v1:0", {"auto": {}}, 264),
        ("us.anthropic.claude-3-5-haiku-20241022-v1:0", {"any": {}}, 340),
    ],
)
def test_tools_add_anthropics_tool_use_system_prompt(model: str, choice: dict[str, Any], extra: int) -> None:
    from caching.rules import Catalog, block_tokens, linearize

    spec = {"toolSpec": {"name": "t", "inputSchema": {"json": {}}}}
    request = {"toolConfig": {"tools": [spec], "toolChoice": choice}, "messages": [user("Hi")]}
    without = {"messages": [user("Hi")]}
    found = Catalog().find(model)
    assert found is not None
    assert linearize(request, found).total_tokens - linearize(without, found).total_tokens == extra + block_tokens(spec)


def test_count_tokens_answers_the_same_estimate_with_tools() -> None:
    emulator = Emulator()
    client = emulator.session().client("bedrock-runtime")
    tools = {"tools": [{"toolSpec": {"name": "t", "inputSchema": {"json": {}}}}]}
    body = {"system": SYSTEM, "messages": [user("Hi")], "toolConfig": tools}
    counted = client.count_tokens(modelId=SONNET, input={"converse": body})["inputTokens"]
    usage = client.converse(modelId=SONNET, **body)["usage"]
    assert counted == usage["inputTokens"] + usage["cacheReadInputTokens"] + usage["cacheWriteInputTokens"]


def test_the_lab_prompts_cache_even_if_the_real_count_is_a_quarter_lower() -> None:
    from caching import prompt
    from caching.rules import Catalog, text_tokens

    sonnet = Catalog().find(SONNET)
    assert sonnet is not None
    for name in ("orchestrator", "research_assistant", "code_assistant"):
        assert text_tokens(prompt(name)) * 0.75 >= sonnet.min_tokens, name


def test_offline_counts_are_marked_and_live_counts_are_not(monkeypatch: pytest.MonkeyPatch) -> None:
    from ..helpers import render_with
    from ..lab.test_main import chat, live_env

    offline = render_with(lambda console: chat.main([], console, io.StringIO("What is Python?\nquit\n")))
    assert "~2," in offline and "~ an estimate made offline" in offline
    with running_server(Emulator(clock=ManualClock())) as server:
        live_env(monkeypatch, server.url)
        live = render_with(lambda console: chat.main(["--live"], console, io.StringIO("What is Python?\nquit\n")))
    assert "~" not in live and "an estimate made offline" not in live


# One model for each way the rules treat a model (its minimum and whether it offers 1h): the others behave the same
# in every example, so running them too would only repeat these runs.
MODELS = list(
    {
        (model.min_tokens, model.supports_1h): model.ids()[1] if len(model.ids()) > 1 else model.ids()[0]
        for model in reversed(CATALOG_MODELS)
    }.values()
)


@pytest.mark.parametrize(
    ("name", "model"),
    [
        # The default model's run is the one the example tests read (group "printed"), not a second one.
        pytest.param(name, model, marks=[pytest.mark.xdist_group("printed")] if model == DEFAULT_MODEL_ID else [])
        for model in MODELS
        for name in ["02", "03", "04", "05", "06", "07", "08", "09"]
    ],
)
def test_every_example_caches_or_says_why_not_with_every_model(name: str, model: str, tmp_path: Any) -> None:
    from ..helpers import example, example_calls, example_output, render_with

    if model == DEFAULT_MODEL_ID:  # what the example does with no --model
        text = " ".join(example_output(name).split())
        reads = [call.usage.cacheReadInputTokens for call in example_calls(name)]
    else:
        recording = tmp_path / "calls.jsonl"
        argv = ["--model", model, "--record", str(recording)]
        text = " ".join(render_with(lambda console: example(name).main(argv, console)).split())
        reads = [json.loads(line)["usage"]["cacheReadInputTokens"] for line in recording.read_text().splitlines()]
    caches = any(reads)
    says_why = re.search(r"Note: .* (a prompt alone is not cached|has no 1h cache TTL)", text) is not None
    assert caches or says_why, (name, model, text[:300])
    found = Catalog().find(model)
    if found is not None and found.min_tokens <= 2_048 and (found.supports_1h or name != "07"):
        assert caches and not says_why, (name, model)  # the lab's prompts are sized for these models
