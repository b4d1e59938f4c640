"""A planner workload with the shape of logged traffic: `caching audit LOGS --workload FILE` (issue 24).

Calls are grouped into conversations (the same account, identity, model and first message), and each conversation
is read from its requests as they grow: a user message that is text opens a turn, an assistant message's toolUse
blocks are a tool step, the tokens of each new block count once. What the planner takes as one figure is the mean
over the logs (so the totals match); what it can draw from, the pauses between turns and the time between a
turn's calls, is kept as a sample of the measured lengths (at most SAMPLE_POINTS quantiles), not a mean.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..rules import Catalog, linearize
from ..rules.places import SYSTEM, TOOLS
from ..rules.tokens import block_tokens, canonical_json
from .logs import LoggedCall

SAMPLE_POINTS = 100  # quantiles kept of each measured length
MOST_LENGTHS = 100_000  # lengths kept to take the quantiles from; past it, every other one is dropped


@dataclass
class _Conversation:
    first_at: float
    last_at: float
    seen: int = 0  # messages already counted
    turns: int = 0
    calls: int = 0


@dataclass
class _Lengths:
    """Measured lengths of time, bounded: past MOST_LENGTHS, every other one is dropped (evenly, in order)."""

    values: list[float] = field(default_factory=list)
    step: int = 1
    offered: int = 0

    def add(self, value: float) -> None:
        self.offered += 1
        if self.offered % self.step:
            return
        self.values.append(max(0.0, value))
        if len(self.values) >= MOST_LENGTHS:
            self.values, self.step = self.values[::2], self.step * 2

    def quantiles(self) -> list[float]:
        """At most SAMPLE_POINTS evenly spaced quantiles, rounded to the second."""
        ordered = sorted(self.values)
        if len(ordered) <= SAMPLE_POINTS:
            return [round(v) for v in ordered]
        last = len(ordered) - 1
        return [round(ordered[round(i * last / (SAMPLE_POINTS - 1))]) for i in range(SAMPLE_POINTS)]


@dataclass
class Shape:
    """What the logs' conversations look like, gathered call by call (`add`), as a workload (`fields`)."""

    conversations: dict[tuple[str, str, str, str], _Conversation] = field(default_factory=dict)
    models: Counter[str] = field(default_factory=Counter)
    system: list[int] = field(default_factory=list)  # [tokens, conversations] of the system prompt
    tools: list[int] = field(default_factory=list)
    sums: Counter[str] = field(default_factory=Counter)  # tokens and counts of user messages, tool results, replies
    pauses: _Lengths = field(default_factory=_Lengths)  # between a turn's last call and the next turn's first
    steps: _Lengths = field(default_factory=_Lengths)  # between two calls of one turn

    def add(self, call: LoggedCall) -> None:
        request = call.request
        if not isinstance(request, dict) or call.error:
            return
        messages = request.get("messages")
        if not isinstance(messages, list) or not messages:
            return
        key = (call.account, call.agent, call.model_id, _opening(messages[0]))
        talk = self.conversations.get(key)
        if talk is None:
            talk = self.conversations[key] = _Conversation(call.at, call.at)
            self._sizes(request, call.model_id)
        new = messages[talk.seen :]
        opened = sum(_is_question(m) for m in new)
        if talk.calls:
            (self.pauses if opened else self.steps).add(call.at - talk.last_at)
        for message in new:
            self._count(message)
        talk.seen, talk.turns, talk.calls, talk.last_at = len(messages), talk.turns + opened, talk.calls + 1, call.at
        self.models[call.model_id] += 1
        self.sums["output"] += call.usage.outputTokens

    def _sizes(self, request: dict[str, Any], model_id: str) -> None:
        """The system prompt's and the tools' tokens, as the rules count them, from a conversation's first call."""
        model = Catalog().find_or_default(model_id)
        try:
            prompt = linearize(request, model)
        except Exception:  # a request the rules refuse: its conversation still counts, its sizes do not
            return
        for section, totals in ((SYSTEM, self.system), (TOOLS, self.tools)):
            tokens = sum(block.tokens for block in prompt.blocks if block.place.section == section)
            if not totals:
                totals.extend([0, 0])
            totals[0] += tokens
            totals[1] += 1

    def _count(self, message: Any) -> None:
        if not isinstance(message, dict) or not isinstance(message.get("content"), list):
            return
        for block in message["content"]:
            if not isinstance(block, dict):
                continue
            if message.get("role") == "user" and "text" in block:
                self.sums["user tokens"] += block_tokens(block)
                self.sums["user blocks"] += 1
            elif "toolResult" in block:
                self.sums["result tokens"] += block_tokens(block)
                self.sums["results"] += 1
            elif "toolUse" in block:
                self.sums["tool uses"] += 1
        if message.get("role") == "assistant" and any(
            isinstance(b, dict) and "toolUse" in b for b in message["content"]
        ):
            self.sums["tool steps"] += 1

    def fields(self) -> dict[str, Any]:
        """The workload's fields (as a TOML file holds them), or {} when no conversation could be read."""
        talks = list(self.conversations.values())
        if not talks:
            return {}
        turns = sum(t.turns for t in talks) or len(talks)
        calls = sum(t.calls for t in talks)
        uses, steps = self.sums["tool uses"], self.sums["tool steps"]
        # Every reply is one text (ending a turn) or a step of tool calls; the planner prices each call at one reply
        # (or one per parallel tool call), so the mean is taken over those.
        replies = turns + uses
        fields: dict[str, Any] = {
            "model": self.models.most_common(1)[0][0],
            "system_tokens": _mean(self.system),
            "tool_tokens": _mean(self.tools),
            "users": len(talks),
            "sessions_per_user": 1,
            "turns_per_session": max(1, round(turns / len(talks))),
            "calls_per_turn": max(1, round(calls / turns)),
            "parallel_tool_calls": max(1, round(uses / steps)) if steps else 1,
            "user_message_tokens": max(1, round(self.sums["user tokens"] / max(1, self.sums["user blocks"]))),
            "tool_result_tokens": max(1, round(self.sums["result tokens"] / max(1, self.sums["results"]))),
            "reply_tokens": max(1, round(self.sums["output"] / max(1, replies))),
            "arrivals_over": max(1, round(max(t.first_at for t in talks) - min(t.first_at for t in talks))),
        }
        for name, lengths in (("pause_between_turns", self.pauses), ("tool_latency", self.steps)):
            points = lengths.quantiles()
            if points:
                fields[name] = {"sample": points}
        return fields


def _opening(message: Any) -> str:
    """A conversation's first message without its cache points: they move on as the conversation grows."""
    if isinstance(message, dict) and isinstance(message.get("content"), list):
        kept = [
            b for b in message["content"] if not (isinstance(b, dict) and ("cachePoint" in b or "cache_control" in b))
        ]
        message = {**message, "content": kept}
    return canonical_json(message)


def _is_question(message: Any) -> bool:
    """A user message that asks (text), not one that carries tool results."""
    content = message.get("content") if isinstance(message, dict) else None
    return (
        isinstance(message, dict)
        and message.get("role") == "user"
        and isinstance(content, list)
        and any(isinstance(block, dict) and "text" in block for block in content)
    )


def _mean(totals: list[int]) -> int:
    return round(totals[0] / totals[1]) if totals and totals[1] else 0


def shape_of(calls: Iterable[LoggedCall]) -> Shape:
    """The shape of these calls, in the order given."""
    shape = Shape()
    for call in calls:
        shape.add(call)
    return shape


def as_toml(fields: dict[str, Any], source: str) -> str:
    """A workload file: a comment saying where it came from, then field = value lines."""
    lines = [f"# The shape of the traffic in {source}, measured by `caching audit --workload`.", ""]
    for name, value in fields.items():
        if isinstance(value, dict):
            ((kind, points),) = value.items()
            value_text = f"{{ {kind} = [{', '.join(str(p) for p in points)}] }}"
        elif isinstance(value, str):
            value_text = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        else:
            value_text = str(value)
        lines.append(f"{name} = {value_text}")
    return "\n".join(lines) + "\n"
