"""Differential property: the audit's `Linearizer` (which walks only what a request adds to an earlier one) gives the
same prompt, the same prefix digests and the same rejections as `linearize` on every request, whatever edits,
rewinds and mistakes two interleaved conversations make. PROPERTY_EXAMPLES=2000 runs a longer search."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caching.rules import Catalog, RequestRejected, linearize, prefix_digests
from caching.rules.memo import Linearizer

from ..helpers import property_examples

MODEL = Catalog().find("global.anthropic.claude-sonnet-4-6")
EDITS = st.sampled_from(
    ["turn", "turn", "fan_out", "edit_old", "rewind", "points", "system", "tools", "bad_role", "orphan", "reasoning"]
)


def conversation(opening: str) -> dict[str, Any]:
    return {"system": "You help with orders.", "tool": "Look up an order.", "points": [0], "ttls": ["5m"],
            "messages": [{"role": "user", "content": [{"text": opening}]}]}  # fmt: skip


def edit(state: dict[str, Any], what: str, n: int) -> None:
    messages = state["messages"]  # mistakes (bad_role, orphan, reasoning) are made by `request`
    if what == "turn":
        messages += [{"role": "assistant", "content": [{"text": f"Answer {n}."}]},
                     {"role": "user", "content": [{"text": f"Question {n}"}]}]  # fmt: skip
    elif what == "fan_out":
        uses = [{"toolUse": {"toolUseId": f"t{n}-{i}", "name": "lookup", "input": {"n": i}}} for i in range(n % 4 + 1)]
        results = [{"toolResult": {"toolUseId": f"t{n}-{i}", "content": [{"text": "ok"}]}} for i in range(n % 4 + 1)]
        messages += [{"role": "assistant", "content": uses}, {"role": "user", "content": results}]
    elif what == "edit_old":
        messages[n % len(messages)]["content"].append({"text": f"Edited {n}."})
    elif what == "rewind" and len(messages) > 2:
        del messages[-2:]
    elif what == "points":  # cache points on some messages, sometimes too many or 5m before 1h
        state["points"] = sorted({(n * k) % len(messages) for k in range(1, n % 6 + 1)} | {len(messages) - 1})
        state["ttls"] = [("1h", "5m")[(n >> k) & 1] for k in range(len(state["points"]))]
    elif what == "system":
        state["system"] += f" Rule {n}."
    elif what == "tools":
        state["tool"] = f"Look up an order, version {n % 3}."


def request(state: dict[str, Any], mistake: str = "") -> dict[str, Any]:
    """The request the state sends, with one mistake in it when asked (the next request is right again)."""
    messages = copy.deepcopy(state["messages"])
    other = "assistant" if messages[-1]["role"] == "user" else "user"
    if mistake == "bad_role":
        messages.append({"role": messages[-1]["role"], "content": [{"text": "Again."}]})
    elif mistake == "orphan":
        messages.append({"role": other, "content": [{"toolResult": {"toolUseId": "x", "content": [{"text": "?"}]}}]})
    elif mistake == "reasoning":
        messages.append({"role": other, "content": [{"reasoningContent": {"reasoningText": {"text": "Hmm."}}}]})
    for at, ttl in zip(state["points"], state["ttls"], strict=False):
        if at < len(messages):
            messages[at]["content"].append({"cachePoint": {"type": "default", "ttl": ttl}})
    spec = {"name": "lookup", "description": state["tool"], "inputSchema": {"json": {"type": "object"}}}
    return {"toolConfig": {"tools": [{"toolSpec": spec}]}, "system": [{"text": state["system"]}], "messages": messages}


def outcome(make: Any) -> Any:
    try:
        return make()
    except RequestRejected as exc:
        return "rejected", str(exc)


@settings(max_examples=property_examples(120), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(
    steps=st.lists(st.tuples(st.booleans(), EDITS, st.integers(0, 40)), min_size=1, max_size=30),
    budget=st.sampled_from([0, 2_000, 10_000_000]),
)
def test_the_linearizer_equals_linearize_on_every_request(steps: list[tuple[bool, str, int]], budget: int) -> None:
    assert MODEL is not None
    linearizer = Linearizer(budget)
    talks = [conversation("Where is my order?"), conversation("Where is my order?")]  # they open alike
    for second, what, n in steps:
        edit(talks[second], what, n)
        sent = request(talks[second], what)
        expected = outcome(lambda: (p := linearize(sent, MODEL), prefix_digests(p)))  # noqa: B023
        assert outcome(lambda: linearizer(sent, MODEL)) == expected  # noqa: B023


def test_a_next_turn_walks_only_the_new_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not a speed claim: the blocks of the shared messages are the earlier prompt's own objects."""
    assert MODEL is not None
    linearizer = Linearizer()
    state = conversation("Hello")
    first, _ = linearizer(request(state), MODEL)
    edit(state, "turn", 1)
    second, digests = linearizer(request(state), MODEL)
    assert second.blocks[0] is first.blocks[0]  # the tool
    assert second.blocks[2] is first.blocks[2]  # the first message's text
    assert len(second.blocks) == len(first.blocks) + 2
    assert digests == prefix_digests(second)


def test_what_is_remembered_is_counted_by_its_blocks_not_only_its_bytes() -> None:
    """Short messages hold far more memory than their bytes (a block, its digest and its part of the request are
    about BLOCK_BYTES): 150,000 calls of one agent once kept 750 MB here under a 64 MB budget of prompt bytes. Ten
    requests of 20 short text blocks, each opening with a word of its own: a budget of three such requests keeps
    three."""
    assert MODEL is not None
    from caching.rules import prompt as prompts

    def asked(talk: int) -> dict[str, Any]:
        texts = [f"T{talk}", *(f"Q{n:02d}" for n in range(1, 20))]  # the same size whatever the talk
        return {"messages": [{"role": "user", "content": [{"text": text} for text in texts]}]}

    prompt = linearize(asked(0), MODEL)
    assert len(prompt.blocks) == 20 and prompt.size < 1_000 and prompts.BLOCK_BYTES == 3_000
    linearizer = Linearizer(budget=3 * (prompt.size + 20 * 3_000))  # counted by bytes alone, all ten would fit
    for talk in range(10):
        linearizer(asked(talk), MODEL)
    assert len(linearizer._seen) == 3
