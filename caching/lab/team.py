"""The orchestrator and its two specialists, each a Strands Agent with its own cached system prompt.

The specialists are exposed to the orchestrator as tools. All three are created once and reused across turns, so
each keeps its own conversation and its own cache entries. One UsageTracker watches all three, so a turn's usage
includes the specialists' calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from strands import Agent, tool
from strands.models import BedrockModel
from strands.tools.executors import SequentialToolExecutor

from ..rules import DEFAULT_MODEL_ID, Catalog, text_tokens
from ..rules.approaches import DEFAULT as DEFAULT_APPROACH
from ..strands.approaches import ApproachSetup, setup
from ..strands.tracking import UsageTracker

PROMPTS = ("orchestrator", "research_assistant", "code_assistant")


def prompt(name: str) -> str:
    """The system prompt text of `name` (orchestrator, research_assistant, code_assistant)."""
    return files(__package__).joinpath("prompts").joinpath(f"{name}.md").read_text(encoding="utf-8")


def below_minimum(model_id: str) -> str | None:
    """One line when the model caches none of this lab's prompts (its minimum is above their size), else None."""
    model = Catalog().find(model_id)
    smallest = min(text_tokens(prompt(name)) for name in PROMPTS)
    if model is None or smallest >= model.min_tokens:
        return None
    return (
        f"Note: {model.name} caches only prefixes of at least {model.min_tokens:,} tokens, and this lab's system "
        f"prompts are about {smallest:,} tokens (estimated): a prompt alone is not cached, a conversation only once "
        f"it grows past the minimum; try --model {DEFAULT_MODEL_ID}."
    )


@dataclass
class Team:
    orchestrator: Agent
    research: Agent
    code: Agent
    tracker: UsageTracker

    def ask(self, question: str) -> str:
        """One user turn: the orchestrator's answer as text."""
        return str(self.orchestrator(question)).strip()

    def ask_all(self, questions: list[str]) -> list[str]:
        """Several turns in order."""
        return [self.ask(question) for question in questions]


def build_team(
    models: Callable[[ApproachSetup], BedrockModel],
    tracker: UsageTracker,
    approach: str = DEFAULT_APPROACH,
    ttl: str = "5m",
    tag: str = "",
) -> Team:
    """The orchestrator with research_assistant and code_assistant as tools; `models` makes each agent's
    BedrockModel (pass `backend.model`).

    A `tag` starts every system prompt, so runs with different tags never share cache entries (useful on live
    Bedrock, where every run of the same prompt shares your account's cache).
    """

    def agent(name: str, tools: list[Any] | None = None) -> Agent:
        settings = setup(approach, (f"[{tag} run]\n" if tag else "") + prompt(name), ttl)
        return Agent(
            name=name,
            model=models(settings),
            system_prompt=settings.system_prompt,
            tools=tools or [],
            hooks=[tracker, *settings.hooks],
            callback_handler=None,
            # One tool after another: the per-call tables read in the order the work happened.
            tool_executor=SequentialToolExecutor(),
        )

    research, code = agent("research_assistant"), agent("code_assistant")

    @tool
    def research_assistant(query: str) -> str:
        """Research specialist: explains concepts, compares technologies and summarises topics.

        Args:
            query: a self-contained research request.
        """
        return str(research(query)).strip()

    @tool
    def code_assistant(request: str) -> str:
        """Code specialist: writes, fixes, reviews and tests code.

        Args:
            request: a self-contained coding request, with any code and errors included.
        """
        return str(code(request)).strip()

    orchestrator = agent("orchestrator", [research_assistant, code_assistant])
    return Team(orchestrator, research, code, tracker)
