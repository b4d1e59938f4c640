"""Where each approach's cache points land in what Strands 1.62 actually sends, turns 1 and 2 with a tool."""

from __future__ import annotations

import pytest
from strands import Agent, tool

from caching import APPROACHES, Emulator, ManualClock, request_layout, setup, validate_layout
from caching.errors import LayoutError

from ..helpers import SONNET, text_of


@tool
def research_assistant(query: str) -> str:
    """Research a topic and explain it."""
    return f"Notes about {query}."


def layouts(approach: str, ttl: str) -> list[list[tuple[str, str]]]:
    emu = Emulator(clock=ManualClock())
    settings = setup(approach, text_of(2_100), ttl)
    model = settings.model(SONNET, boto_session=emu.session())
    agent = Agent(model=model, system_prompt=settings.system_prompt, tools=[research_assistant], callback_handler=None)
    agent("What is prompt caching?")
    agent("Explain the TTL")
    return [[(p.where, p.ttl) for p in request_layout(r.request)] for r in emu.records]


def expected(approach: str, ttl: str) -> list[list[tuple[str, str]]]:
    tools = [("tools[1]", ttl)] if approach in ("explicit", "combined") else []
    system = [("system[1]", ttl)] if approach != "none" else []
    # Auto puts one point at the end of the LAST USER message: the question, then each tool result (turn 1: calls
    # 1 and 2; turn 2: calls 3 and 4). Explicit never places one in the messages.
    last_user = [0, 2, 4, 6]
    if approach in ("automatic", "combined"):
        return [[*tools, *system, (f"messages[{m}].content[1]", ttl)] for m in last_user]
    return [tools + system for _ in last_user]


@pytest.mark.parametrize("ttl", ["5m", "1h"])
@pytest.mark.parametrize("approach", APPROACHES)
def test_cache_points_as_sent(approach: str, ttl: str) -> None:
    assert layouts(approach, ttl) == expected(approach, ttl)


def test_tokens_before_each_point() -> None:
    emu = Emulator(clock=ManualClock())
    settings = setup("combined", text_of(2_100))
    model = settings.model(SONNET, boto_session=emu.session())
    Agent(model=model, system_prompt=settings.system_prompt, tools=[research_assistant], callback_handler=None)("Hi")
    points = request_layout(emu.records[0].request)
    tool_tokens = points[0].tokens_before
    assert [p.tokens_before for p in points] == [tool_tokens, tool_tokens + 2_100, tool_tokens + 2_100 + 3 + 1]


@pytest.mark.parametrize(
    ("approach", "ttl", "message"),
    [
        (
            "auto",
            "5m",
            "Unknown caching approach 'auto': choose one of none, explicit, automatic, combined, rolling, shape.",
        ),
        ("combined", "2h", "A cache TTL must be '5m' or '1h', got '2h': pass --ttl 5m or --ttl 1h."),
    ],
)
def test_setup_rejects_bad_input(approach: str, ttl: str, message: str) -> None:
    with pytest.raises(LayoutError) as caught:
        setup(approach, "text", ttl)
    assert str(caught.value) == message


def test_validate_layout_before_sending() -> None:
    ok = {
        "modelId": SONNET,
        "system": [{"text": "x"}, {"cachePoint": {"type": "default", "ttl": "1h"}}],
        "messages": [{"role": "user", "content": [{"text": "hi"}, {"cachePoint": {"type": "default"}}]}],
    }
    assert validate_layout(ok) == [("system[1]", "1h"), ("messages[0].content[1]", "5m")]
    increasing = {**ok, "system": [{"text": "x"}, {"cachePoint": {"type": "default", "ttl": "5m"}}]}
    increasing["messages"] = [
        {"role": "user", "content": [{"text": "hi"}, {"cachePoint": {"type": "default", "ttl": "1h"}}]}
    ]
    with pytest.raises(
        LayoutError, match=r"^A cachePoint with ttl '1h' \(messages\[0\]\.content\[1\]\) must not come after"
    ):
        validate_layout(increasing)
    legacy = {**ok, "modelId": "us.anthropic.claude-3-7-sonnet-20250219-v1:0"}
    with pytest.raises(
        LayoutError, match=r"does not support a 1h cache TTL \(cachePoint at system\[1\]\)\. Use ttl 5m\.$"
    ):
        validate_layout(legacy)
    five = {**ok, "system": [{"text": "x"}] + [{"cachePoint": {"type": "default"}}] * 5}
    with pytest.raises(LayoutError, match=r"^A maximum of 4 blocks with cachePoint may be provided\. Found 6\.$"):
        validate_layout(five)
