"""Cache strategies a Strands user switches on in one line, placing cachePoints before each model call.

Strands 1.62's automatic strategy puts one point at the end of the last user message. When one step adds more
blocks than the lookback reaches (a wide parallel tool fan-out, Strands issue 3348), the next call cannot find the
previous entry and writes the whole history again. These strategies keep a second point where the previous call's
request ended, so the next call always finds it, within Bedrock's four points (with the system prompt's):

- rolling: points at the end of the previous and of the last user message, with one TTL.
- shape: the same points, with the TTL chosen by the request's shape (the rule measured best on the planner's
  traffic): 1h when the request ends with a tool result (the last call of a turn is one, and a user's pause
  follows), 5m when it ends with the user's text (tool calls follow within seconds). The system prompt's point
  takes 1h, so TTLs never increase along the prompt.

    agent = Agent(model=..., system_prompt=cached_system_prompt(text), hooks=[RollingCheckpoints()])

Use them without a CacheConfig on the model (Strands would strip points outside the last user message).
"""

from __future__ import annotations

from typing import Any

from strands.hooks import BeforeModelCallEvent, HookRegistry

STRATEGIES = ("rolling", "shape")


def _point(ttl: str) -> dict[str, Any]:
    return {"cachePoint": {"type": "default", **({"ttl": ttl} if ttl == "1h" else {})}}


class RollingCheckpoints:
    """A Strands hook provider: before each model call, cachePoints where the previous call's request ended and at
    the end of the last user message (the points it placed before are taken out first)."""

    def __init__(self, ttl: str = "5m", by_shape: bool = False) -> None:
        self.ttl, self.by_shape = ttl, by_shape

    def register_hooks(self, registry: HookRegistry, **_: Any) -> None:
        registry.add_callback(BeforeModelCallEvent, self._place)

    def _place(self, event: BeforeModelCallEvent) -> None:
        messages = event.agent.messages
        for message in messages:
            message["content"] = [block for block in message["content"] if "cachePoint" not in block]
        users = [i for i, message in enumerate(messages) if message["role"] == "user"]
        if not users:
            return
        last = messages[users[-1]]["content"]
        if self.by_shape:
            ttl = "1h" if any("toolResult" in block for block in last) else "5m"
            earlier = "1h"
        else:
            ttl = earlier = self.ttl
        if len(users) > 1 and messages[users[-2]]["content"]:
            messages[users[-2]]["content"].append(_point(earlier))  # type: ignore[arg-type]
        if last:
            last.append(_point(ttl))  # type: ignore[arg-type]
