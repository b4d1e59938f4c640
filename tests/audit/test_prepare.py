"""Where a logged call's parts end (the shape each approach places its points on), counted in blocks by hand."""

from __future__ import annotations

from typing import Any

from caching.audit.logs import LoggedCall
from caching.audit.prepare import prepare
from caching.rules import Catalog
from caching.rules.approaches import Shape
from caching.rules.usage import Usage

from ..helpers import CP, SONNET, assistant, text_of, user

TOOL = {"toolSpec": {"name": "look", "description": "Looks it up.", "inputSchema": {"json": {"type": "object"}}}}


def shape_of(request: dict[str, Any]) -> Shape:
    call = LoggedCall(
        agent="a",
        at=0.0,
        model_id=SONNET,
        request=request,
        usage=Usage(),
        account="1",
        region="r",
        operation="Converse",
    )
    prepared = prepare(call, call.usage, Catalog())
    assert prepared is not None
    return prepared.shape


def test_the_last_two_user_messages_end_where_their_blocks_end() -> None:
    use = {"toolUse": {"toolUseId": "t1", "name": "look", "input": {}}}
    result = {"toolResult": {"toolUseId": "t1", "content": [{"text": "found"}]}}
    request = {
        "toolConfig": {"tools": [TOOL, CP]},
        "system": [{"text": text_of(1_200)}, CP],
        "messages": [user("Hi"), assistant("Hello"), user("Two", "blocks"), assistant(use), user(result, CP)],
    }
    # blocks: the tool, the system text (2); Hi, Hello (4); Two, blocks (6); the tool use (7); the result (8)
    assert shape_of(request) == Shape(tools_end=1, system_end=2, previous_end=6, user_end=8, after_tool=True)


def test_one_user_message_has_no_previous_one() -> None:
    request = {"system": [{"text": text_of(1_200)}, CP], "messages": [user("Hi", CP)]}
    assert shape_of(request) == Shape(tools_end=0, system_end=1, previous_end=0, user_end=2, after_tool=False)
