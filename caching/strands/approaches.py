"""Each approach of the registry (caching/rules/approaches.py) as Strands 1.62 sets it up: BedrockModel settings,
system prompt blocks and hooks, derived from the entry's rules (who places each point), and the same as one line of
code (what the planner recommends).

- A point placed by Strands' automatic strategy: CacheConfig(strategy="auto") on the model (tools_ttl=True when
  it also places the tools point). In 1.62 it caches the system prompt AND the last user message (older releases,
  like the blog's, put one point on the last assistant message and cached nothing on turn 1).
- A point placed by hand: cache_tools on the model (the tools), or a cachePoint ending the system prompt.
- A point placed by the hook: this library's RollingCheckpoints (strategies.py), on the messages.
So automatic and combined send almost the same request: combined only adds the tools point, which sits before the
system point and is usually far below the minimum on its own.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from ..rules.approaches import HOOK_DEFAULT, NAMES, REGISTRY, Anchor, Approach, By, TTLRule, approach
from ..rules.ttl import TTL
from .cachepoints import cached_system_prompt

if TYPE_CHECKING:  # Strands loads only when an approach is used, so the approach names cost nothing to import
    from strands.models import BedrockModel
    from strands.types.content import SystemContentBlock

# Strands' own approaches (no hook of this library's) and every approach: names, in the registry's order.
APPROACHES = tuple(entry.name for entry in REGISTRY if not entry.by(By.HOOK))
EVERY_APPROACH = NAMES


@dataclass(frozen=True)
class ApproachSetup:
    """What one approach hands to Strands: BedrockModel keyword settings and the system prompt blocks."""

    name: str
    ttl: str
    model_settings: dict[str, Any] = field(default_factory=dict)
    system_prompt: list[SystemContentBlock] = field(default_factory=list)
    hooks: list[Any] = field(default_factory=list)  # give them to the Agent: Agent(hooks=[*setup.hooks, ...])

    def model(self, model_id: str, **client: Any) -> BedrockModel:
        """A BedrockModel for this approach; `client` takes boto_session, endpoint_url or region_name."""
        from strands.models import BedrockModel

        with warnings.catch_warnings():
            # Strands 1.62 deprecates cache_tools, yet it is the only way to cache the tools WITHOUT also letting
            # CacheConfig place message cache points. The explicit approach needs exactly that, so it keeps it.
            warnings.filterwarnings("ignore", message="cache_tools is deprecated", category=DeprecationWarning)
            return BedrockModel(model_id=model_id, **client, **self.model_settings)


class Constructor(NamedTuple):
    """A constructor call: a name from Strands (or this library) and its keyword arguments."""

    name: str
    kwargs: tuple[tuple[str, str | bool], ...]

    def code(self) -> str:
        args = ", ".join(
            f'{key}="{value}"' if isinstance(value, str) else f"{key}={value}" for key, value in self.kwargs
        )
        return f"{self.name}({args})"


class Recipe(NamedTuple):
    """An approach with Strands, as data: the model keyword and its config, the hand-placed system point's TTL
    (None: a plain system prompt), and the hook."""

    model: tuple[str, Constructor] | None
    system_ttl: TTL | None
    hook: Constructor | None


def _ttl_kwarg(ttl: TTL) -> tuple[tuple[str, str | bool], ...]:
    return (("ttl", str(ttl)),) if ttl is TTL.ONE_HOUR else ()  # 5m is Bedrock's default: send what most code sends


def recipe_of(entry: Approach, ttl: TTL) -> Recipe:
    """How Strands 1.62 places the points of `entry` with the asked `ttl`: derived from who places each one."""
    auto, hand, hooked = entry.by(By.STRANDS), entry.by(By.HAND), entry.by(By.HOOK)
    model = None
    if auto:
        tools = any(rule.anchor is Anchor.TOOLS for rule in auto)
        config = (
            ("strategy", "auto"),
            *_ttl_kwarg(auto[-1].ttl.pick(ttl, False)),
            *((("tools_ttl", True),) if tools else ()),
        )
        model = ("cache_config", Constructor("CacheConfig", config))
    for rule in hand:
        if rule.anchor is Anchor.TOOLS:
            model = (
                "cache_tools",
                Constructor("CacheToolsConfig", (("type", "default"), *_ttl_kwarg(rule.ttl.pick(ttl, False)))),
            )
    system = next((rule.ttl.pick(ttl, False) for rule in hand if rule.anchor is Anchor.SYSTEM), None)
    hook = None
    if hooked:
        from_default = () if entry.name == HOOK_DEFAULT else (("approach", entry.name),)
        asked = any(rule.ttl is TTLRule.ASKED for rule in hooked)
        hook = Constructor("RollingCheckpoints", (*from_default, *(_ttl_kwarg(ttl) if asked else ())))
    return Recipe(model, system, hook)


def setup(name: str, system_text: str, ttl: str = "5m") -> ApproachSetup:
    """The settings of approach `name` (none, explicit, automatic, combined, or this library's rolling and shape
    strategies) with cache entries of `ttl` (5m or 1h; an approach that picks its own TTLs ignores it)."""
    entry = approach(name, "choose one")
    asked = TTL.parse(ttl, "pass --ttl 5m or --ttl 1h")
    import strands.models

    from .strategies import RollingCheckpoints

    made = recipe_of(entry, asked)
    settings = {}
    if made.model is not None:
        keyword, call = made.model
        settings[keyword] = getattr(strands.models, call.name)(**dict(call.kwargs))
    if made.system_ttl is None:
        system: list[SystemContentBlock] = [{"text": system_text}]
    else:
        system = cached_system_prompt(system_text, None if made.system_ttl is TTL.FIVE_MINUTES else "1h")
    hooks = [] if made.hook is None else [RollingCheckpoints(asked, approach=entry.name)]
    return ApproachSetup(entry.name, asked, settings, system, hooks)


def recipe(name: str, ttl: str) -> str:
    """The code that sets up approach `name` with Strands 1.62 (`text` is the system prompt)."""
    made = recipe_of(approach(name), TTL(ttl))
    if made.system_ttl is None:
        system = ""
    else:
        system = 'cached_system_prompt(text, "1h")' if made.system_ttl is TTL.ONE_HOUR else "cached_system_prompt(text)"
    if made.hook is not None:
        config = "" if made.model is None else f", model=BedrockModel(..., {made.model[0]}={made.model[1].code()})"
        place = f"system_prompt={system}, " if system else ""
        return f"Agent(...{config}, {place}hooks=[{made.hook.code()}])" + (
            " and no CacheConfig." if made.model is None else "."
        )
    if made.model is None:
        return "no cache points (no CacheConfig, a plain system prompt)." if not system else f"system_prompt={system}."
    keyword, call = made.model
    prompt = f"system_prompt={system}" if system else "a plain system prompt"
    return f"BedrockModel(..., {keyword}={call.code()}) with {prompt}."
