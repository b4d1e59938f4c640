"""The four ways to cache with Strands 1.62 on Bedrock, as BedrockModel settings plus a system prompt.

- none: no cache points at all.
- explicit: a cachePoint after the system prompt and one after the tools; none in the messages.
- automatic: CacheConfig(strategy="auto") only. In 1.62 that already caches the system prompt AND the last user
  message (older releases, like the blog's, put one point on the last assistant message and cached nothing on turn 1).
- combined: explicit system and tools points, plus auto on the messages.
So automatic and combined now send almost the same request: combined only adds the tools point, which sits before
the system point and is usually far below the minimum on its own.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import LayoutError
from .cachepoints import cached_system_prompt

if TYPE_CHECKING:  # Strands loads only when an approach is used, so the approach names cost nothing to import
    from strands.models import BedrockModel
    from strands.types.content import SystemContentBlock

APPROACHES = ("none", "explicit", "automatic", "combined")
STRATEGIES = ("rolling", "shape")  # this library's own (strategies.py), placed by a hook instead of by Strands
EVERY_APPROACH = APPROACHES + STRATEGIES


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


def setup(approach: str, system_text: str, ttl: str = "5m") -> ApproachSetup:
    """The settings of `approach` (none, explicit, automatic, combined, or this library's rolling and shape
    strategies) with cache entries of `ttl` (5m or 1h; shape chooses its own)."""
    if approach not in EVERY_APPROACH:
        raise LayoutError(f"Unknown caching approach {approach!r}: choose one of {', '.join(EVERY_APPROACH)}.")
    if ttl not in ("5m", "1h"):
        raise LayoutError(f"A cache TTL must be '5m' or '1h', got {ttl!r}: pass --ttl 5m or --ttl 1h.")
    from strands.models import CacheConfig, CacheToolsConfig

    point_ttl = None if ttl == "5m" else ttl  # 5m is Bedrock's default: send what most code sends
    plain: list[SystemContentBlock] = [{"text": system_text}]
    if approach == "none":
        return ApproachSetup(approach, ttl, {}, plain)
    if approach == "explicit":
        settings = {"cache_tools": CacheToolsConfig(type="default", ttl=point_ttl)}
        return ApproachSetup(approach, ttl, settings, cached_system_prompt(system_text, point_ttl))
    if approach in STRATEGIES:
        from .strategies import RollingCheckpoints

        shape = approach == "shape"
        hooks = [RollingCheckpoints(ttl, by_shape=shape)]
        return ApproachSetup(approach, ttl, {}, cached_system_prompt(system_text, "1h" if shape else point_ttl), hooks)
    if approach == "automatic":
        return ApproachSetup(approach, ttl, {"cache_config": CacheConfig(strategy="auto", ttl=point_ttl)}, plain)
    combined = CacheConfig(strategy="auto", ttl=point_ttl, tools_ttl=True)
    return ApproachSetup(approach, ttl, {"cache_config": combined}, cached_system_prompt(system_text, point_ttl))
