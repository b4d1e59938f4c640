"""Caching checks for a Strands agent, offline and free: copy this file into your tests and replace make_agent.

Needs: pip install pytest and this lab from a checkout (it brings the `bedrock_emulator` fixture).
"""

from __future__ import annotations

from strands import Agent
from strands.models import BedrockModel, CacheConfig

from caching.check.testing import assert_hit_rate, assert_reads, assert_writes_at_most

MODEL_ID = "global.anthropic.claude-sonnet-4-6"
QUESTIONS = ["Where is my order 1042?", "Can I still change the delivery address?", "And the delivery day?"]
# Your agent's real system prompt. This stand-in is long enough to cache: Sonnet 4.6 caches from 2,048 tokens.
SYSTEM_PROMPT = "You are the support agent of ExampleCorp. Answer from the policy below, briefly and politely.\n" + (
    "Orders ship within two working days; addresses can change until the parcel leaves the warehouse. " * 90
)


def system_prompt() -> str:
    """The system prompt, as your code builds it for each request."""
    return SYSTEM_PROMPT


def make_agent(session: object) -> Agent:
    """Your agent, built on the boto3 session it is given (the emulator's in tests, the default one in production)."""
    model = BedrockModel(boto_session=session, model_id=MODEL_ID, cache_config=CacheConfig(strategy="auto"))
    return Agent(model=model, system_prompt=system_prompt(), callback_handler=None)


def test_a_conversation_reads_its_history(bedrock_emulator) -> None:  # type: ignore[no-untyped-def]
    agent = make_agent(bedrock_emulator.session())
    for question in QUESTIONS:
        agent(question)
        bedrock_emulator.clock.advance(60)  # a minute to read each answer
    assert_reads(bedrock_emulator, at_least=2_000)  # every call after the first reads the prompt and history
    assert_writes_at_most(bedrock_emulator, 3_000)  # and writes only what is new, never the whole prompt again


def test_a_new_agent_per_request_reads_the_cached_prompt(bedrock_emulator) -> None:  # type: ignore[no-untyped-def]
    for question in QUESTIONS:  # a web handler that builds its agent per request
        make_agent(bedrock_emulator.session())(question)
        bedrock_emulator.clock.advance(30)
    assert_hit_rate(bedrock_emulator, at_least=0.6)
    assert_reads(bedrock_emulator, at_least=2_000)
