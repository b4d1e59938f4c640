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

Where the points go and with which TTL is the registry's (caching/rules/approaches.py): this hook places the points
an approach's entry gives to the hook. Use them without a CacheConfig on the model (Strands would strip points
outside the last user message).
"""

from __future__ import annotations

from typing import Any

from strands.hooks import BeforeModelCallEvent, HookRegistry

from ..rules.approaches import HOOK_DEFAULT, Anchor, By, TTLRule
from ..rules.approaches import approach as find_approach
from ..rules.ttl import TTL


def _point(ttl: TTL) -> dict[str, Any]:
    return {"cachePoint": {"type": "default", **({"ttl": str(ttl)} if ttl is TTL.ONE_HOUR else {})}}


class RollingCheckpoints:
    """A Strands hook provider: before each model call, cachePoints where the previous call's request ended and at
    the end of the last user message (the points it placed before are taken out first). `approach` names the
    registry's entry whose points it places (rolling; `by_shape=True` is short for approach="shape")."""

    def __init__(self, ttl: str = "5m", by_shape: bool = False, approach: str | None = None) -> None:
        self.ttl = TTL.parse(ttl, "pass ttl='5m' or ttl='1h'")
        self.approach = find_approach(approach or ("shape" if by_shape else HOOK_DEFAULT), "pass approach= one")
        self.rules = {rule.anchor: rule.ttl for rule in self.approach.by(By.HOOK)}

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
        after_tool = any("toolResult" in block for block in last)
        ends = {Anchor.LAST: users[-1], Anchor.PREVIOUS: users[-2] if len(users) > 1 else None}
        for anchor in (Anchor.PREVIOUS, Anchor.LAST):  # prompt order
            rule: TTLRule | None = self.rules.get(anchor)
            index = ends[anchor]
            if rule is not None and index is not None and messages[index]["content"]:
                messages[index]["content"].append(_point(rule.pick(self.ttl, after_tool)))  # type: ignore[arg-type]
