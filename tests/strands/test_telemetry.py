"""The caching figures on Strands' own `chat` spans, read back through the OpenTelemetry SDK's in-memory exporter."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from strands import Agent

from caching import Emulator, ManualClock, Settings, UsageTracker, connect, prices_for, setup
from caching.rules import Diagnosis, Kind, Usage, block_tokens
from caching.strands.telemetry import ATTRIBUTES, figures
from caching.strands.tracking import CallUsage

from ..helpers import ROOT, SONNET, message_tokens, text_of, user

PAGE, SAMPLE = ROOT / "docs" / "telemetry.md", ROOT / "docs" / "traces.py"
SYSTEM = 2_100  # tokens of the system prompt, all before its cachePoint
MILLION = Decimal(1_000_000)


class Switch(Sampler):
    """Records spans only while `on`: the global tracer provider can be set once per process, and the other tests
    this worker runs must see OpenTelemetry unconfigured, as they always have."""

    on = False

    def should_sample(self, *args: Any, **kwargs: Any) -> SamplingResult:
        return SamplingResult(Decision.RECORD_AND_SAMPLE if self.on else Decision.DROP)

    def get_description(self) -> str:
        return "Switch"


SWITCH, EXPORTER = Switch(), InMemorySpanExporter()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """OpenTelemetry configured as a user would, its spans kept in memory for the test."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider(sampler=SWITCH)
        provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
        trace.set_tracer_provider(provider)
    SWITCH.on = True
    try:
        yield EXPORTER
    finally:
        SWITCH.on = False
        EXPORTER.clear()


def run(questions: list[str], pause: float = 0) -> tuple[Agent, UsageTracker]:
    """One agent with the explicit approach (a cachePoint after the system prompt) on the emulator, asked each
    question in turn, `pause` seconds apart."""
    emulator = Emulator(clock=ManualClock())
    backend = connect(Settings(model_id=SONNET), emulator=emulator)
    tracker = backend.tracker()
    approach = setup("explicit", text_of(SYSTEM))
    agent = Agent(
        model=backend.model(approach), system_prompt=approach.system_prompt, hooks=[tracker], callback_handler=None
    )
    for number, question in enumerate(questions):
        if number:
            emulator.clock.advance(pause)  # type: ignore[attr-defined]
        agent(question)
    return agent, tracker


def chat_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [span for span in exporter.get_finished_spans() if span.name == "chat"]


def caching_attributes(span: ReadableSpan) -> dict[str, Any]:
    return {key: value for key, value in (span.attributes or {}).items() if key.startswith("caching.")}


def output_tokens(agent: Agent, reply: int) -> int:
    """The emulator counts a reply's blocks like any other (the rules' block_tokens)."""
    return sum(block_tokens(block) for block in agent.messages[2 * reply + 1]["content"])


def test_a_write_then_a_read_carry_their_cost_savings_outcome_and_cause(spans: InMemorySpanExporter) -> None:
    agent, tracker = run(["Hi", "Hi again"])
    p = prices_for(SONNET)
    first_input = message_tokens(user("Hi"))  # after the cachePoint: charged as regular input
    second_input = first_input + message_tokens(agent.messages[1]) + message_tokens(user("Hi again"))
    out1, out2 = output_tokens(agent, 0), output_tokens(agent, 1)

    first, second = chat_spans(spans)
    # Call 1 writes the system prompt at 1.25x the input price: that costs more than no caching would.
    assert caching_attributes(first) == {
        "caching.cost_usd": float((first_input * p.input + SYSTEM * p.write_5m + out1 * p.output) / MILLION),
        "caching.saved_usd": float(SYSTEM * (p.input - p.write_5m) / MILLION),
        "caching.outcome": "new prefix",
        "caching.cause": f"first request like this: {SYSTEM:,} tokens written for the next one to read",
        "caching.estimated": True,
    }
    # Call 2 reads it at a tenth: a plain read needs no cause.
    assert caching_attributes(second) == {
        "caching.cost_usd": float((second_input * p.input + SYSTEM * p.read + out2 * p.output) / MILLION),
        "caching.saved_usd": float(SYSTEM * (p.input - p.read) / MILLION),
        "caching.outcome": str(Kind.HIT),
        "caching.estimated": True,
    }
    # The same spans hold Strands' own GenAI usage attributes: the figures join them, on the span of that call.
    assert [
        (span.attributes or {}).get(key)
        for span in (first, second)
        for key in ("gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.cache_read.input_tokens")
    ] == [SYSTEM, 0, 0, SYSTEM]
    # Only the chat spans carry them, and the tracker recorded each call once.
    assert [span.name for span in spans.get_finished_spans() if caching_attributes(span)] == ["chat", "chat"]
    assert [(c.usage.cacheWriteInputTokens, c.usage.cacheReadInputTokens, c.reason) for c in tracker.calls] == [
        (SYSTEM, 0, first.attributes["caching.cause"]),  # type: ignore[index]
        (0, SYSTEM, f"read {SYSTEM:,} cached tokens"),
    ]


def test_a_miss_after_the_ttl_names_its_cause(spans: InMemorySpanExporter) -> None:
    run(["Hi", "Hi again"], pause=360)
    late = chat_spans(spans)[1]
    assert caching_attributes(late)["caching.outcome"] == str(Kind.EXPIRED)
    assert caching_attributes(late)["caching.cause"] == (
        "6m00s since the last hit: the 5m entry expired; consider ttl 1h"
    )


def test_spans_that_do_not_record_get_nothing_and_the_tracker_works_as_before(spans: InMemorySpanExporter) -> None:
    SWITCH.on = False  # a provider that samples nothing: every span is a non-recording one, as with no set-up
    _, tracker = run(["Hi", "Hi again"])
    assert spans.get_finished_spans() == ()
    assert [(c.number, c.usage.cacheReadInputTokens, c.reason) for c in tracker.calls] == [
        (1, 0, f"first request like this: {SYSTEM:,} tokens written for the next one to read"),
        (1, SYSTEM, f"read {SYSTEM:,} cached tokens"),
    ]


def test_a_model_with_no_known_price_gets_no_cost_and_a_tracker_without_explain_no_cause() -> None:
    call = CallUsage(
        agent="agent",
        at=0.0,
        model_id="my-own-model",
        request=None,
        usage=Usage(cacheWriteInputTokens=SYSTEM),
        number=1,
        diagnosis=Diagnosis(Kind.NEW_PREFIX, "first request like this"),
    )
    assert figures(call) == {
        "caching.outcome": "new prefix",
        "caching.cause": "first request like this",
        "caching.estimated": False,
    }
    assert figures(CallUsage(agent="a", at=0.0, model_id=SONNET, request=None, number=1)).keys() == {
        "caching.cost_usd",
        "caching.saved_usd",
        "caching.estimated",
    }


def test_every_attribute_is_in_one_namespace_and_documented() -> None:
    page = PAGE.read_text()
    assert all(name.startswith("caching.") and f"| `{name}` |" in page for name in ATTRIBUTES)


def test_the_console_example_prints_what_its_page_shows(tmp_path: Path) -> None:
    """docs/traces.py as the page shows it, run as a user would: in a process of its own, since it sets the global
    tracer provider, which a process can set only once."""
    page = PAGE.read_text()
    sample = re.search(r"<!-- sample: docs/traces.py -->\n```python\n(.*?)```\n<!-- /sample -->", page, re.S)
    shown = re.search(r"<!-- printed: docs/traces.py -->\n```text\n(.*?)```\n<!-- /printed -->", page, re.S)
    assert sample is not None and shown is not None
    assert sample[1] == SAMPLE.read_text()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CACHING_", "OTEL_"))}  # the defaults, as shown
    result = subprocess.run(
        [sys.executable, str(SAMPLE)], cwd=tmp_path, env=clean, capture_output=True, text=True, timeout=60, check=False
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.rstrip("\n") + "\n" == shown[1]
