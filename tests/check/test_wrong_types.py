"""Requests of the wrong types (issue 19 found ten places where lint and diff crashed on one): each is a sentence
Bedrock would refuse with, never a traceback, in lint, diff and the doctor alike."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caching.call import Call
from caching.check.doctor import Doctor
from caching.check.lint import diff, lint
from caching.rules import API, Kind
from caching.rules.compare import Comparison
from caching.rules.severity import Severity

from ..helpers import SONNET, property_examples, user

EXAMPLES = property_examples(60)


def saved(request: dict[str, Any]) -> Call:
    return Call(agent="saved", at=0.0, model_id=SONNET, request=request, api=API.of_body(request))


HI = [user("hi")]


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (
            {"toolConfig": {"tools": None}, "messages": HI},
            "The request is malformed: toolConfig is not an object with a tools list.",
        ),
        (
            {"toolConfig": [None], "messages": HI},
            "The request is malformed: toolConfig is not an object with a tools list.",
        ),
        ({"system": {"text": "x"}, "messages": HI}, "The request is malformed: system is not a list."),
        ({"system": True, "messages": HI}, "The request is malformed: system is not a list."),
        (
            {"messages": [{"role": "user", "content": "hi"}]},
            "The message at messages[0] is malformed: content must be a list of content blocks.",
        ),
        (
            {"messages": [{"role": "user", "content": [{"text": 5}]}]},
            "The request is malformed: messages[0].content[0].text is not text.",
        ),
        ({"system": [{"text": {}}], "messages": HI}, "The request is malformed: system[0].text is not text."),
        (
            {"toolConfig": {"tools": [{"toolSpec": False}]}, "messages": HI},
            "The request is malformed: tools[0].toolSpec is not an object.",
        ),
        (
            {"toolConfig": {"tools": [{"toolSpec": {"name": "f", "inputSchema": 3}}]}, "messages": HI},
            "The request is malformed: tools[0].toolSpec.inputSchema is not an object.",
        ),
        (
            {"messages": [user("hi"), {"role": "assistant", "content": [{"toolUse": 5}]}]},
            "The request is malformed: messages[1].content[0].toolUse is not an object.",
        ),
        (
            {"messages": [{"role": "user", "content": [{"toolResult": {"toolUseId": "t", "content": "x"}}]}]},
            "The request is malformed: messages[0].content[0].toolResult.content is not a list.",
        ),
        (
            {"messages": [{"role": "user", "content": [{"reasoningContent": {"reasoningText": 1}}]}]},
            "The request is malformed: messages[0].content[0].reasoningContent.reasoningText is not an object with text.",
        ),
    ],
)
def test_a_wrong_type_is_the_sentence_bedrock_would_refuse_with(request_: dict[str, Any], message: str) -> None:
    found = lint(saved(request_))
    assert [(f.level, f.message) for f in found] == [(Severity.ERROR, f"Bedrock would reject this request: {message}")]
    assert diff(saved({"messages": HI}), saved(request_)).diagnosis.kind == Kind.REJECTED


ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.text(max_size=3),
    st.just([]),
    st.just({}),
    st.lists(st.none() | st.text(max_size=2) | st.integers(), max_size=2),
    st.dictionaries(
        st.sampled_from(["text", "type", "cachePoint", "name"]), st.none() | st.text(max_size=2), max_size=2
    ),
)


def maybe(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The right value, or one of the wrong type."""
    return st.one_of(good, ODD)


def shaped(**members: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return maybe(st.fixed_dictionaries(members))


TEXT = shaped(text=maybe(st.just("hello")))
POINT = shaped(cachePoint=shaped(type=maybe(st.just("default"))))
BLOCK = st.one_of(
    TEXT,
    POINT,
    shaped(toolUse=shaped(toolUseId=maybe(st.just("t1")), name=maybe(st.just("f")), input=ODD)),
    shaped(toolResult=shaped(toolUseId=maybe(st.just("t1")), content=maybe(st.lists(TEXT, max_size=2)))),
    shaped(document=shaped(format=maybe(st.just("pdf")), name=maybe(st.just("d")), source=ODD)),
    shaped(reasoningContent=shaped(reasoningText=shaped(text=maybe(st.just("x"))))),
)
MESSAGE = shaped(role=maybe(st.sampled_from(["user", "assistant"])), content=maybe(st.lists(BLOCK, max_size=3)))
SPEC = shaped(toolSpec=shaped(name=maybe(st.just("f")), inputSchema=shaped(json=ODD)))
CONVERSE = st.fixed_dictionaries(
    {"messages": maybe(st.lists(MESSAGE, max_size=3))},
    optional={
        "system": maybe(st.lists(st.one_of(TEXT, POINT), max_size=2)),
        "toolConfig": maybe(st.fixed_dictionaries({"tools": maybe(st.lists(st.one_of(SPEC, POINT), max_size=2))})),
        "inferenceConfig": ODD,
    },
)
INVOKE_BLOCK = maybe(
    st.fixed_dictionaries(
        {"type": maybe(st.sampled_from(["text", "image", "document", "tool_use", "tool_result", "thinking"]))},
        optional={"text": ODD, "cache_control": maybe(st.just({"type": "ephemeral"})), "source": ODD, "content": ODD},
    )
)
INVOKE = st.fixed_dictionaries(
    {
        "anthropic_version": maybe(st.just("bedrock-2023-05-31")),
        "messages": maybe(
            st.lists(shaped(role=maybe(st.just("user")), content=maybe(st.lists(INVOKE_BLOCK, max_size=3))), max_size=2)
        ),
    },
    optional={"max_tokens": ODD, "system": maybe(st.lists(INVOKE_BLOCK, max_size=2)), "tools": ODD},
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=st.one_of(CONVERSE, INVOKE), second=st.one_of(CONVERSE, INVOKE))
def test_lint_diff_and_the_doctor_answer_any_shape(first: dict[str, Any], second: dict[str, Any]) -> None:
    """No exception escapes: lint finds, diff compares and the doctor diagnoses whatever the types."""
    found = lint(saved(first))
    rejected = [f for f in found if f.code == "rejected"]
    assert all(f.message.startswith("Bedrock would reject this request: ") for f in rejected)
    assert isinstance(diff(saved(first), saved(second)), Comparison)
    Doctor().observe(saved(first))
