"""Per-call and per-turn usage, captured through Strands hooks, sub-agents included.

Attach one `UsageTracker` to the orchestrator AND to every sub-agent (`Agent(hooks=[tracker])`). An invocation that
starts while no other is running opens a turn; invocations nested inside it (a sub-agent called as a tool) belong
to that turn. Each model call's usage comes from the response itself (`message["metadata"]["usage"]`), never from
Strands' `accumulated_usage`, which is a lifetime running total of one agent only. When OpenTelemetry is configured,
each call's caching figures also go on Strands' `chat` span for it (see telemetry.py for how and why).
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from strands.hooks import (
    AfterInvocationEvent,
    AfterModelCallEvent,
    AgentInitializedEvent,
    BeforeInvocationEvent,
    BeforeModelCallEvent,
    HookRegistry,
)
from strands.middleware import InvokeModelContext, InvokeModelStage, ModelStopReason, TypedEvent

from ..call import Call
from ..check.doctor import Doctor
from ..pricing import Cost, cost_of
from ..rules import Diagnosis
from ..rules.usage import Usage
from .recorder import CallRecorder, calling_agent
from .telemetry import figures

if TYPE_CHECKING:
    from ..emulator import Emulator


Explain = Callable[[str, dict[str, Any]], Diagnosis | None]  # (agent name, usage in Bedrock's names) -> why


@dataclass(frozen=True, kw_only=True)
class CallUsage(Call):
    """One model call as Strands' hooks see it (the response, not the request: `request` is None), with its number
    in the turn, the TTL it asked for, its time to first token and the diagnosis whose words are shown beside it."""

    number: int
    turn: int = 1
    requested_ttl: str = "5m"
    first_token_ms: int | None = None
    diagnosis: Diagnosis | None = None
    estimated: bool = False  # token counts from the offline emulator's estimate, not Bedrock's tokenizer

    @property
    def reason(self) -> str:
        """The diagnosis in one line, or "" when the tracker had no `explain`."""
        return self.diagnosis.message if self.diagnosis else ""

    @property
    def cost(self) -> Cost:
        return cost_of(self.usage, self.model_id, self.requested_ttl)


@dataclass
class Turn:
    """Every model call made while answering one user message."""

    number: int
    prompt: str
    calls: list[CallUsage] = field(default_factory=list)

    @property
    def usage(self) -> Usage:
        return sum((c.usage for c in self.calls), Usage())

    @property
    def cost(self) -> Cost:
        return sum((c.cost for c in self.calls), Cost())


def requested_ttl(agent: Any) -> str:
    """The TTL this agent asks for: its CacheConfig ttl, else a ttl on its system cachePoint, else 5m."""
    config = agent.model.config.get("cache_config")
    if config is not None and config.ttl:
        return str(config.ttl)
    for block in getattr(agent, "system_prompt_content", None) or []:
        ttl = block.get("cachePoint", {}).get("ttl")
        if ttl:
            return str(ttl)
    return "5m"


class UsageTracker:
    """A Strands hook provider that records every model call into turns.

    Args:
        explain: optional function (agent name, usage dict) -> Diagnosis or None, for the reason column.
        estimated: whether the counts come from the offline emulator (an estimate), so reports can say so.
    """

    def __init__(self, explain: Explain | None = None, estimated: bool = False) -> None:
        self.turns: list[Turn] = []
        self.explain = explain
        self.estimated = estimated
        self._depth = 0
        self._lock = threading.Lock()
        self._traced: set[int] = set()  # agents (by id) whose call was recorded at its chat span and that
        # AfterModelCallEvent has not yet seen: one agent makes one model call at a time

    def register_hooks(self, registry: HookRegistry, **_: Any) -> None:
        registry.add_callback(AgentInitializedEvent, self._agent_initialized)
        registry.add_callback(BeforeInvocationEvent, self._before_invocation)
        registry.add_callback(AfterInvocationEvent, self._after_invocation)
        registry.add_callback(BeforeModelCallEvent, self._before_model_call)
        registry.add_callback(AfterModelCallEvent, self._after_model_call)

    def _agent_initialized(self, event: AgentInitializedEvent) -> None:
        event.agent.add_middleware(InvokeModelStage, self._during_model_call)

    async def _during_model_call(
        self, context: InvokeModelContext, next_fn: Callable[[InvokeModelContext], AsyncGenerator[TypedEvent, None]]
    ) -> AsyncGenerator[TypedEvent, None]:
        """Passes the model's events on. At the last, while Strands' chat span for this call is still current, and
        only if it is recording, records the call now and puts its caching figures on that span."""
        async for event in next_fn(context):
            if isinstance(event, ModelStopReason):
                span = trace.get_current_span()
                if span.is_recording():
                    call = self._record(context.agent, dict(event.usage), dict(event.metrics))
                    with self._lock:
                        self._traced.add(id(context.agent))
                    span.set_attributes(figures(call))
            yield event

    def _before_model_call(self, event: BeforeModelCallEvent) -> None:
        calling_agent.set(str(getattr(event.agent, "name", None) or "agent"))  # labels the recorded request

    def _before_invocation(self, event: BeforeInvocationEvent) -> None:
        with self._lock:
            if self._depth == 0:
                texts = [b.get("text", "") for m in event.messages or [] for b in m.get("content", [])]
                self.turns.append(Turn(len(self.turns) + 1, " ".join(t for t in texts if t)))
            self._depth += 1

    def _after_invocation(self, event: AfterInvocationEvent) -> None:
        with self._lock:
            self._depth = max(0, self._depth - 1)
            if self._depth == 0 and self.turns and not self.turns[-1].calls:
                self.turns.pop()  # the turn failed before any model call answered: it cost nothing, show nothing

    def _after_model_call(self, event: AfterModelCallEvent) -> None:
        with self._lock:
            traced = id(event.agent) in self._traced
            self._traced.discard(id(event.agent))
        if event.stop_response is None or traced:  # failed, or already recorded at its span
            return
        metadata = event.stop_response.message.get("metadata", {})
        self._record(event.agent, dict(metadata.get("usage", {})), dict(metadata.get("metrics", {})))

    def _record(self, agent: Any, raw: dict[str, Any], metrics: dict[str, Any]) -> CallUsage:
        """Add one model call to the current turn; `raw` is its usage in Bedrock's names."""
        with self._lock:
            if not self.turns:  # a model call outside any invocation still belongs somewhere
                self.turns.append(Turn(1, ""))
            turn = self.turns[-1]
            name = str(getattr(agent, "name", None) or "agent")
            call = CallUsage(
                agent=name,
                at=time.time(),
                model_id=str(getattr(agent.model, "config", {}).get("model_id", "")),
                request=None,
                usage=Usage.from_bedrock(raw),
                number=len(turn.calls) + 1,
                turn=turn.number,
                requested_ttl=requested_ttl(agent),
                first_token_ms=metrics.get("timeToFirstByteMs"),
                diagnosis=self.explain(name, raw) if self.explain else None,
                estimated=self.estimated,
            )
            turn.calls.append(call)
        return call

    @property
    def calls(self) -> list[CallUsage]:
        return [call for turn in self.turns for call in turn.calls]

    @property
    def lifetime(self) -> Usage:
        """The sum of every turn."""
        return sum((t.usage for t in self.turns), Usage())

    @property
    def lifetime_cost(self) -> Cost:
        return sum((t.cost for t in self.turns), Cost())


class EmulatorReasons:
    """The `explain` function of a UsageTracker, offline: the diagnosis in the emulator's record of each call."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self._claimed: set[int] = set()
        self._lock = threading.Lock()

    def __call__(self, agent: str, usage: dict[str, Any]) -> Diagnosis | None:
        with self._lock:
            counted = Usage.from_bedrock(usage)
            for record in reversed(self.emulator.records):
                if record.number not in self._claimed and record.usage == counted:
                    self._claimed.add(record.number)
                    return record.diagnosis
        return None


class DoctorReasons:
    """The `explain` function of a UsageTracker, live: the cache doctor's diagnosis of each recorded call."""

    def __init__(self, recorder: CallRecorder, doctor: Doctor | None = None) -> None:
        self.recorder = recorder
        self.doctor = doctor or Doctor()
        self._seen = 0
        self._diagnosed: list[tuple[Call, Diagnosis]] = []
        self._lock = threading.Lock()

    def __call__(self, agent: str, usage: dict[str, Any]) -> Diagnosis | None:
        with self._lock:
            for call in self.recorder.calls[self._seen :]:  # the doctor reads calls once each, in order
                self._diagnosed.append((call, self.doctor.observe(call)))
            self._seen = len(self.recorder.calls)
            counted = Usage.from_bedrock(usage)
            for index in range(len(self._diagnosed) - 1, -1, -1):
                call, diagnosis = self._diagnosed[index]
                if call.agent == agent and call.usage == counted:
                    del self._diagnosed[index]
                    return diagnosis
        return None
