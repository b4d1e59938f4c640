"""A logged call made ready for the replays, once: its request linearized (only what it adds to its conversation is
walked again, see rules/memo.py), its prefixes scaled to its logged total, and its shape (where the tools, the
system prompt and the last two user messages end), on which each approach places its points.
"""

from __future__ import annotations

import itertools
from typing import Any, NamedTuple

from ..rules import API, Catalog, ModelInfo, Prompt, RequestRejected
from ..rules.approaches import Shape
from ..rules.memo import Linearizer
from ..rules.messages import converse_form
from ..rules.places import TOOLS
from ..rules.prompt import blocks_before
from ..rules.usage import Usage
from .logs import LoggedCall


class Prepared(NamedTuple):
    """A logged call's prompt as sent, scaled to its logged total, and its shape (where the tools, the system prompt,
    the previous and the last user message end), on which each approach places its points."""

    prompt: Prompt
    digests: list[str]
    model: ModelInfo
    request: dict[str, Any]  # in Converse's shape
    estimate: Prompt  # unscaled, as the doctor reads it
    output: int  # output tokens, as logged
    shape: Shape


def prepare(call: LoggedCall, usage: Usage, catalog: Catalog, linearizer: Linearizer | None = None) -> Prepared | None:
    """Linearize a logged call once (None: no body, an unknown model, or a request Bedrock would reject).
    A `Linearizer` walks only what a call adds to an earlier one of its conversation."""
    model = catalog.find(call.model_id)
    if model is None or call.request is None or call.error:
        return None
    try:
        request = converse_form(call.request) if call.api == API.INVOKE else call.request
        estimate, digests = (linearizer or Linearizer(0))(request, model, call.api)
    except (RequestRejected, TypeError, KeyError, AttributeError, ValueError):
        return None
    scale = usage.prompt_tokens / estimate.total_tokens if usage.prompt_tokens and estimate.total_tokens else 1.0
    scaled = tuple(map(round, map(scale.__mul__, estimate.cumulative)))
    prompt = Prompt(estimate.blocks, estimate.checkpoints, scaled, estimate.variant)
    places = [block.place for block in itertools.takewhile(lambda b: b.place.message is None, prompt.blocks)]
    system_end = len(places)  # the tools, then the system prompt, come first
    tools_end = sum(1 for place in places if place.section == TOOLS)
    messages = request.get("messages", [])
    users = _last_users(messages)
    user_end = blocks_before(prompt, users[-1] + 1) if users else 0
    previous_end = blocks_before(prompt, users[-2] + 1) if len(users) > 1 else 0
    content = messages[users[-1]].get("content") if users else None
    after_tool = isinstance(content, list) and any(isinstance(b, dict) and "toolResult" in b for b in content)
    shape = Shape(tools_end, system_end, previous_end, user_end, after_tool)
    return Prepared(prompt, digests, model, request, estimate, usage.outputTokens, shape)


def _last_users(messages: list[Any]) -> list[int]:
    """The indexes of the last two user messages, the earlier first. Looked for from the end: only the end of a
    conversation counts, and scanning a long one from its start was a tenth of preparing a call."""
    found: list[int] = []
    for i in range(len(messages) - 1, -1, -1):
        if isinstance(messages[i], dict) and messages[i].get("role") == "user":
            found.insert(0, i)
            if len(found) == 2:
                break
    return found
