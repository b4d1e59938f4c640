"""Property: on random conversations and edits, through Converse and through InvokeModel, the doctor's inference never
contradicts the emulator's record and reads in the same words. PROPERTY_EXAMPLES=1500 runs a longer search."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caching.call import Call
from caching.check.doctor import Doctor
from caching.emulator import Emulator, ManualClock, RequestRejected
from caching.rules import Kind

from ..helpers import SONNET, kind_of, property_examples, text_of

EDITS = st.sampled_from(["same", "turn", "fan_out", "edit_system", "pause", "ttl", "tools", "shorten", "move_point"])


def cp(ttl: str) -> dict[str, Any]:
    return {"cachePoint": {"type": "default", "ttl": ttl}}


class Conversation:
    """One agent's evolving request, changed by one edit at a time."""

    def __init__(self, system_tokens: int) -> None:
        self.system = text_of(system_tokens)
        self.system_ttl, self.message_ttl = "5m", "5m"
        self.tool = "Look up an order."
        self.messages: list[dict[str, Any]] = [{"role": "user", "content": [{"text": "Where is my order?"}]}]
        self.turn = 0

    def request(self) -> dict[str, Any]:
        messages = copy.deepcopy(self.messages)
        messages[-1]["content"].append(cp(self.message_ttl))
        spec = {"name": "lookup", "description": self.tool, "inputSchema": {"json": {"type": "object"}}}
        return {
            "toolConfig": {"tools": [{"toolSpec": spec}]},
            "system": [{"text": self.system}, cp(self.system_ttl)],
            "messages": messages,
        }

    def apply(self, edit: str, size: int, clock: ManualClock) -> None:
        self.turn += 1
        if edit == "turn":
            self.messages += [
                {"role": "assistant", "content": [{"text": f"Answer {self.turn}."}]},
                {"role": "user", "content": [{"text": f"Question {self.turn} " + "x" * size}]},
            ]
        elif edit == "fan_out":
            uses = [{"toolUse": {"toolUseId": f"t{self.turn}-{i}", "name": "lookup", "input": {}}} for i in range(size)]
            results = [
                {"toolResult": {"toolUseId": f"t{self.turn}-{i}", "content": [{"text": "ok"}]}} for i in range(size)
            ]
            self.messages += [{"role": "assistant", "content": uses}, {"role": "user", "content": results}]
        elif edit == "edit_system":
            at = size * 37 % len(self.system)
            self.system = self.system[:at] + "#" + self.system[at + 1 :]
        elif edit == "pause":
            clock.advance(size * 41)
        elif edit == "ttl":
            self.system_ttl, self.message_ttl = [("5m", "5m"), ("1h", "5m"), ("1h", "1h"), ("5m", "1h")][size % 4]
        elif edit == "tools":
            self.tool += " Quickly."
        elif edit == "shorten":
            self.system = self.system[: max(40, len(self.system) - size * 40)]
        elif edit == "move_point":
            self.messages[-1]["content"].append({"text": f"More context {size}."})


@settings(
    max_examples=property_examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    system_tokens=st.integers(min_value=1_900, max_value=2_300),
    edits=st.lists(st.tuples(EDITS, st.integers(min_value=1, max_value=24)), min_size=1, max_size=12),
    api=st.sampled_from(["converse", "invoke"]),
)
def test_inference_never_contradicts_the_emulator(system_tokens: int, edits: list[tuple[str, int]], api: str) -> None:
    clock = ManualClock(1_000.0)
    emulator, doctor = Emulator(clock=clock), Doctor()
    conversation = Conversation(system_tokens)
    for step, (edit, size) in enumerate([("same", 0), *edits]):
        if step:
            conversation.apply(edit, size, clock)
        request = conversation.request() if api == "converse" else messages_body(conversation.request())
        try:
            if api == "converse":
                emulator.converse(SONNET, request, "AKIAPROPERTY")
            else:
                emulator.invoke(SONNET, request, "AKIAPROPERTY")
        except RequestRejected as exc:
            call = Call("agent", clock(), SONNET, request, error=str(exc), api=api)
            assert doctor.observe(call).kind == Kind.REJECTED
            continue
        record = emulator.records[-1]
        call = Call("agent", clock(), SONNET, request, usage=record.usage, api=api)
        diagnosis = doctor.observe(call)
        assert diagnosis.kind == kind_of(record), (step, edit, diagnosis, record.checkpoints)
        assert diagnosis == record.diagnosis  # and in the same words


def messages_body(request: dict[str, Any]) -> dict[str, Any]:
    """The same conversation as an InvokeModel (Anthropic Messages) body: each cachePoint becomes cache_control on
    the block before it."""

    def blocks(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for block in content:
            if "cachePoint" in block:
                out[-1]["cache_control"] = {"type": "ephemeral", "ttl": block["cachePoint"].get("ttl", "5m")}
            elif "text" in block:
                out.append({"type": "text", "text": block["text"]})
            elif "toolUse" in block:
                use = block["toolUse"]
                out.append({"type": "tool_use", "id": use["toolUseId"], "name": use["name"], "input": use["input"]})
            else:
                result = block["toolResult"]
                inner = [{"type": "text", "text": part["text"]} for part in result["content"]]
                out.append({"type": "tool_result", "tool_use_id": result["toolUseId"], "content": inner})
        return out

    spec = request["toolConfig"]["tools"][0]["toolSpec"]
    tool = {"name": spec["name"], "description": spec["description"], "input_schema": spec["inputSchema"]["json"]}
    return {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 500,
        "tools": [tool],
        "system": blocks(request["system"]),
        "messages": [{"role": m["role"], "content": blocks(m["content"])} for m in request["messages"]],
    }
