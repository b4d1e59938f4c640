"""This project's caching figures on Strands' own OpenTelemetry `chat` span: cost, savings, outcome and cause.

Where they go, and why there: Strands 1.62 opens one `chat` span per model call and sets the GenAI usage attributes
on it, but ends it before AfterModelCallEvent fires, so a hook is too late, and a SpanProcessor cannot add to a span
that has ended (it is read-only by then). What runs while that span is open and the usage is known is a Wrap
middleware on `InvokeModelStage` (`Agent.add_middleware`, public API): Strands streams the model inside
`use_span(chat)` and passes each event up the middleware chain, so when the last one (ModelStopReason, which
carries the usage) passes, the chat span is still the current span. The UsageTracker installs that middleware on
each agent it is given, from AgentInitializedEvent (the hook Strands offers for set-up that needs the agent), and
sets these attributes only when the span is recording: nothing is exported unless the user configured
OpenTelemetry. Nothing of Strands is patched or subclassed; tests/strands/test_telemetry.py pins the span.
"""

from __future__ import annotations

from typing import Protocol

from opentelemetry.util.types import AttributeValue

from ..errors import PricingError
from ..pricing import Cost
from ..rules import CallOutcome, Diagnosis

COST = "caching.cost_usd"
SAVED = "caching.saved_usd"
OUTCOME = "caching.outcome"
CAUSE = "caching.cause"
ESTIMATED = "caching.estimated"

# Each attribute and what it holds: the table in docs/telemetry.md says the same.
ATTRIBUTES = {
    COST: "what the call cost in USD, input and output, at the model id's AWS price",
    SAVED: "USD the input cost less than without caching (negative: the write premium)",
    OUTCOME: "the rules' kind: hit, new prefix, expired, below minimum, ...",
    CAUSE: "for a call that wrote or read nothing: the doctor's one-line cause",
    ESTIMATED: "true when the token counts are the offline emulator's estimate",
}


class Traced(Protocol):
    """What the figures need of a call: the tracker's CallUsage."""

    @property
    def outcome(self) -> CallOutcome: ...
    @property
    def cost(self) -> Cost: ...
    @property
    def diagnosis(self) -> Diagnosis | None: ...
    @property
    def estimated(self) -> bool: ...


def figures(call: Traced) -> dict[str, AttributeValue]:
    """The attributes for one call. Cost and savings are left out for a model with no known price (a trace must
    never fail the call it describes); outcome and cause need a diagnosis (a tracker given an `explain`)."""
    found: dict[str, AttributeValue] = {}
    try:
        cost = call.cost
    except PricingError:
        pass
    else:
        found[COST] = float(cost.total)
        found[SAVED] = float(cost.uncached_input - cost.input)
    if call.diagnosis is not None:
        found[OUTCOME] = str(call.diagnosis.kind)
        if call.outcome != CallOutcome.READ:  # a plain read needs no cause; a write or a miss does
            found[CAUSE] = call.diagnosis.message
    found[ESTIMATED] = call.estimated
    return found
