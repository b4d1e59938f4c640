"""Property: lint, diff and the doctor never contradict the emulator, on generated pairs of requests (A sent, then B).

Each example builds a request A and an edit of it B (system, tools or messages changed, a timestamp, below the
minimum, a lookback overflow, TTL order, thinking or tool choice), as Converse requests or InvokeModel bodies, and
checks both orders (A then B, B then A). The emulator's real outcome is the judge:
- diff claims a read of N tokens exactly when the second call reads N;
- lint reports an error only for a request the emulator rejects or that can never read;
- the doctor's cause for a missed call is the cause diff names;
- every place lint names exists in the request as written, and holds what the finding is about.
100 examples (200 pairs) in `make test`; PROPERTY_EXAMPLES=2000 runs a longer search.

Every rule is held to the emulator by example too: each rule's request on docs/lint-rules.md, sent through a real
boto3 client the emulator answers, is refused or never reads when the rule is an error, and each fixed request reads
on its second send.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caching.call import Call
from caching.check.doctor import Doctor
from caching.check.lint import diff, lint
from caching.emulator import Emulator, ManualClock, RequestRejected
from caching.rules import API, DEFAULT_MODEL_ID, Catalog, Kind
from caching.rules.diagnosis import REQUEST_ID, TIMESTAMP
from caching.rules.lint_rules import DYNAMIC_TEXT, NESTED_CHECKPOINT, RULES
from caching.rules.messages import converse_usage
from caching.rules.severity import Severity
from caching.rules.usage import Usage

from ..helpers import SONNET, property_examples, text_of
from .test_lint_rules import EXAMPLES, Example

MODEL = Catalog().find(SONNET)
ACCOUNT = "AKIAVERDICTPROPERTY1"
STAMP = "2026-11-30 09:15"
EDITS = [
    "same", "system", "timestamp", "tools", "turn", "message", "fan_out", "ttl", "ttl_order", "thinking",
    "tool_choice", "shorten", "point_later",
]  # fmt: skip


@dataclass(frozen=True)
class Shape:
    """Everything a generated request is made of; an edit changes one field."""

    tools: int
    tools_point: bool
    tool_text: str
    system_tokens: int
    system_edit: int  # characters of the system prompt replaced by "#", counted from its end
    stamp: str  # where a timestamp sits: none, start (character 0 of the system prompt), middle, message
    minute: int
    turns: int
    question: str
    wide: int  # extra blocks in the last user message, before its checkpoint
    ttls: tuple[str, str]
    thinking: bool
    forced: bool
    trailing: int  # blocks after the last user message's checkpoint (the point moved earlier)


SHAPES = st.builds(
    Shape,
    tools=st.integers(0, 2),
    tools_point=st.booleans(),
    tool_text=st.just("Look up an order."),
    system_tokens=st.sampled_from([300, 1_700, 2_000, 2_300, 3_200]),
    system_edit=st.just(0),
    stamp=st.sampled_from(["none", "none", "start", "middle", "message"]),
    minute=st.integers(0, 58),
    turns=st.integers(0, 3),
    question=st.sampled_from(["Where is my order?", "Is it shipped?"]),
    wide=st.sampled_from([0, 0, 3]),
    ttls=st.sampled_from([("5m", "5m"), ("1h", "5m"), ("1h", "1h")]),
    thinking=st.booleans(),
    forced=st.booleans(),
    trailing=st.just(0),
)


def edited(shape: Shape, edit: str, size: int) -> Shape:
    """B: A with one edit (`size` picks how much)."""
    changes: dict[str, Any] = {
        "same": {},
        "system": {"system_edit": size},
        "timestamp": {"minute": shape.minute + 1},
        "tools": {"tool_text": shape.tool_text + " Quickly."},
        "turn": {"turns": shape.turns + 1},
        "message": {"question": shape.question + " Please."},
        "fan_out": {"wide": shape.wide + 18 + size % 12},  # 18 to 29 more blocks: often past the 21-block lookback
        "ttl": {"ttls": [("5m", "5m"), ("1h", "5m"), ("1h", "1h")][size % 3]},
        "ttl_order": {"ttls": ("5m", "1h")},  # a 1h point after a 5m one: Bedrock rejects it
        "thinking": {"thinking": not shape.thinking},
        "tool_choice": {"forced": not shape.forced},
        "shorten": {"turns": max(0, shape.turns - 1)},
        "point_later": {"trailing": 1 + size % 2},
    }
    return replace(shape, **changes[edit])


def cp(ttl: str) -> dict[str, Any]:
    return {"cachePoint": {"type": "default", "ttl": ttl}}


def converse(shape: Shape) -> dict[str, Any]:
    """The Converse request of a shape."""
    stamp = STAMP[:-2] + f"{shape.minute:02d}"
    system = text_of(shape.system_tokens)
    if shape.system_edit:
        system = system[: -shape.system_edit] + "#" * shape.system_edit
    if shape.stamp == "start":
        system = f"{stamp} {system}"
    elif shape.stamp == "middle":
        system = f"{system[:400]} Now: {stamp}. {system[400:]}"
    messages: list[dict[str, Any]] = []
    for turn in range(shape.turns):
        messages += [
            {"role": "user", "content": [{"text": f"Question {turn}."}]},
            {"role": "assistant", "content": [{"text": f"Answer {turn}."}]},
        ]
    last: list[dict[str, Any]] = [{"text": shape.question}]
    if shape.stamp == "message":
        last.append({"text": f"Sent at {stamp}."})
    last += [{"text": f"Detail {i}."} for i in range(shape.wide)]
    last.append(cp(shape.ttls[1]))
    last += [{"text": f"Also {i}."} for i in range(shape.trailing)]
    request: dict[str, Any] = {
        "system": [{"text": system}, cp(shape.ttls[0])],
        "messages": [*messages, {"role": "user", "content": last}],
    }
    if shape.tools:
        specs: list[dict[str, Any]] = [
            {"toolSpec": {"name": f"tool{i}", "description": shape.tool_text, "inputSchema": {"json": {}}}}
            for i in range(shape.tools)
        ]
        choice = {"any": {}} if shape.forced else {"auto": {}}
        request["toolConfig"] = {
            "tools": [*specs, *([cp(shape.ttls[0])] if shape.tools_point else [])],
            "toolChoice": choice,
        }
    if shape.thinking:
        request["additionalModelRequestFields"] = {"thinking": {"type": "enabled", "budget_tokens": 1024}}
    return request


def messages_body(request: dict[str, Any]) -> dict[str, Any]:
    """The same request as an InvokeModel (Anthropic Messages) body: a cachePoint becomes cache_control on the block
    before it."""

    def marked(items: list[dict[str, Any]], convert: Any) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for item in items:
            if "cachePoint" in item:
                out[-1]["cache_control"] = {"type": "ephemeral", "ttl": item["cachePoint"]["ttl"]}
            else:
                out.append(convert(item))
        return out

    body: dict[str, Any] = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 2000,
        "system": marked(request["system"], lambda b: {"type": "text", "text": b["text"]}),
        "messages": [
            {"role": m["role"], "content": marked(m["content"], lambda b: {"type": "text", "text": b["text"]})}
            for m in request["messages"]
        ],
    }
    if "toolConfig" in request:
        spec = lambda t: {  # noqa: E731
            "name": t["toolSpec"]["name"],
            "description": t["toolSpec"]["description"],
            "input_schema": t["toolSpec"]["inputSchema"]["json"],
        }
        body["tools"] = marked(request["toolConfig"]["tools"], spec)
        body["tool_choice"] = {"type": "any" if "any" in request["toolConfig"]["toolChoice"] else "auto"}
    if "additionalModelRequestFields" in request:
        body["thinking"] = request["additionalModelRequestFields"]["thinking"]
    return body


def as_sent(shape: Shape, api: API) -> dict[str, Any]:
    request = converse(shape)
    return request if api == API.CONVERSE else messages_body(request)


def saved(body: dict[str, Any], api: API) -> Call:
    """The request as `caching lint` reads it from a file: a call not yet sent."""
    return Call("saved", 0.0, SONNET, body, api=api)


def emulator() -> Emulator:
    """An emulator whose model answers "ok" at once: the cache is what is under test."""
    return Emulator(clock=ManualClock(1_000.0), replies=lambda request: ([{"text": "ok"}], "end_turn"))


def send(emulator: Emulator, body: dict[str, Any], api: API) -> Usage | None:
    """The usage of one call, or None when the emulator rejects it."""
    try:
        if api == API.CONVERSE:
            return Usage.from_bedrock(emulator.converse(SONNET, body, ACCOUNT)["usage"])
        return emulator.invoke(SONNET, body, ACCOUNT)[1]
    except RequestRejected:
        return None


def changed_values(body: dict[str, Any]) -> dict[str, Any]:
    """The same request a moment later: every timestamp and request id has another value of the same shape."""
    shift = lambda match: "".join(str((int(c) + 1) % 10) if c.isdigit() else c for c in match.group())  # noqa: E731
    text = REQUEST_ID.sub(lambda m: m.group()[::-1], TIMESTAMP.sub(shift, json.dumps(body)))
    return dict(json.loads(text))


PLACE = re.compile(r"(tools|system)\[(\d+)\]|messages\[(\d+)\]\.content\[(\d+)\](?:\.toolResult\.content\[(\d+)\])?")


def block_at(body: dict[str, Any], place: str) -> Any:
    """The block a place names in the request as written (None when there is no such block)."""
    found = PLACE.fullmatch(place)
    assert found, place
    try:
        if found[1] == "tools":
            items = body["tools"] if "anthropic_version" in body else body["toolConfig"]["tools"]
            return items[int(found[2])]
        if found[1] == "system":
            return body["system"][int(found[2])]
        block = body["messages"][int(found[3])]["content"][int(found[4])]
        return block if found[5] is None else block["toolResult"]["content"][int(found[5])]
    except (KeyError, IndexError):
        return None


def check_places(body: dict[str, Any], api: API, findings: list[Any]) -> None:
    """Each place lint names exists in the request as written and holds what the finding is about."""
    for finding in findings:
        if not PLACE.fullmatch(finding.place):
            assert finding.place in ("request", "modelId", "system"), finding
            continue
        block = block_at(body, finding.place)
        if finding.rule == DYNAMIC_TEXT:
            value = finding.message.split("'")[1]
            assert value in block["text"], (finding, block)
        else:  # a checkpoint: the cachePoint block, or the block that carries cache_control
            assert ("cachePoint" if api == API.CONVERSE else "cache_control") in block, (finding, block)


def check_pair(first: dict[str, Any], second: dict[str, Any], api: API) -> None:
    judge = emulator()
    used = [send(judge, first, api), send(judge, second, api)]
    records = {id(body): record for body, record in zip((first, second), judge.records[-2:], strict=False)}
    comparison = diff(saved(first, api), saved(second, api))

    if used[0] is None or used[1] is None:
        assert comparison.diagnosis.kind == Kind.REJECTED, comparison
    else:
        # diff's read is the emulator's, and a sentence that claims a read names its size.
        read = used[1].cacheReadInputTokens
        assert comparison.read_tokens == read, (comparison, used)
        assert ("reads" in comparison.sentence and "misses everything" not in comparison.sentence) == bool(read)
        if read:
            assert f"~{read:,} tokens" in comparison.sentence
        # The doctor, reading only the requests and the usage, names the cause diff names.
        doctor = Doctor()
        said = [
            doctor.observe(Call("agent", 0.0, SONNET, body, usage=usage, api=api))
            for body, usage in zip((first, second), used, strict=True)
        ]
        assert said == [records[id(first)].diagnosis, records[id(second)].diagnosis]
        if not used[0].cacheWriteInputTokens:
            assert comparison.diagnosis == said[0]
        elif not read:
            assert comparison.diagnosis == said[1]

    # lint: an error only for a request the emulator rejects or that can never read, and places as written.
    for body, usage in ((first, used[0]), (second, used[1])):
        findings = lint(saved(body, api))
        check_places(body, api, findings)
        if usage is None:
            assert any(f.level == Severity.ERROR for f in findings), findings
        elif any(f.level == Severity.ERROR for f in findings):
            again = emulator()
            send(again, body, api)
            later = send(again, changed_values(body), api)
            assert later is not None and later.cacheReadInputTokens == 0, (findings, later)


@settings(
    max_examples=property_examples(100),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    shape=SHAPES,
    edit=st.sampled_from(EDITS),
    size=st.integers(min_value=1, max_value=60),
    api=st.sampled_from(list(API)),
)
def test_lint_diff_and_the_doctor_agree_with_the_emulator(shape: Shape, edit: str, size: int, api: API) -> None:
    first, second = as_sent(shape, api), as_sent(edited(shape, edit, size), api)
    check_pair(first, second, api)
    check_pair(second, first, api)


def sent(client: Any, example: Example, body: dict[str, Any]) -> Usage | None:
    """The usage of `body` sent as `example` is, through the real client; None when the client or the emulator
    refuses it."""
    model_id = example.model_id or DEFAULT_MODEL_ID
    try:
        if example.api == API.CONVERSE:
            answer = client.converse(**{**body, "modelId": model_id})
            return Usage.from_bedrock(answer["usage"])
        answer = client.invoke_model(modelId=model_id, body=json.dumps(body))
        return Usage.from_bedrock(converse_usage(json.loads(answer["body"].read())["usage"]))
    except (ClientError, ParamValidationError):
        return None


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: f"{e.code}-{e.kind}")
def test_every_rule_agrees_with_the_emulator(example: Example) -> None:
    client = emulator().session(ACCOUNT).client("bedrock-runtime")
    findings = lint(example.call())
    check_places(example.body, example.api, findings)
    first = sent(client, example, example.body)
    if example.kind == "fixed":
        again = sent(client, example, example.body)
        assert first is not None and again is not None and again.cacheReadInputTokens > 0, (first, again)
    elif RULES[example.code].level == Severity.ERROR:
        later = None if first is None else sent(client, example, changed_values(example.body))
        assert first is None or (later is not None and later.cacheReadInputTokens == 0), (findings, first, later)
        if example.code == NESTED_CHECKPOINT.code:  # the emulator alone takes it: it is boto3 that refuses
            assert first is None and send(emulator(), {**example.body, "modelId": SONNET}, API.CONVERSE) is not None


def test_every_rule_has_an_example_on_the_page() -> None:
    assert sorted({example.code for example in EXAMPLES}) == sorted(RULES)
