"""The models the rules know: each one's caching minimum and whether it offers a 1h TTL."""

from __future__ import annotations

from dataclasses import dataclass, replace

GEO_PREFIXES = ("global.", "us.", "eu.")


@dataclass(frozen=True)
class ModelInfo:
    """One Claude model as Bedrock exposes it for prompt caching."""

    name: str
    base_id: str
    short: str
    min_tokens: int
    supports_1h: bool
    profiles: tuple[str, ...] = ("", *GEO_PREFIXES)
    context_tokens: int = 200_000  # the context window: a longer prompt is rejected

    def ids(self) -> tuple[str, ...]:
        """Every model id this model answers to: in-region and each inference profile."""
        return tuple(prefix + self.base_id for prefix in self.profiles)


# Defaults from shared/reference/bedrock-prompt-caching.md. Sonnet 4.6's minimum is 2,048: the value measured on
# Bedrock (no cache at 2,038 tokens, cached at 2,067), although one AWS page says 1,024.
MODELS: tuple[ModelInfo, ...] = (
    ModelInfo("Claude Sonnet 4.6", "anthropic.claude-sonnet-4-6", "claude-sonnet-4-6", 2048, True),
    ModelInfo("Claude Sonnet 4.5", "anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5", 1024, True),
    ModelInfo("Claude Opus 4.6", "anthropic.claude-opus-4-6-v1", "claude-opus-4-6", 4096, True),
    ModelInfo("Claude Opus 4.5", "anthropic.claude-opus-4-5-20251101-v1:0", "claude-opus-4-5", 4096, True),
    ModelInfo("Claude Haiku 4.5", "anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5", 4096, True),
    ModelInfo(
        "Claude 3.7 Sonnet",
        "anthropic.claude-3-7-sonnet-20250219-v1:0",
        "claude-3-7-sonnet",
        1024,
        False,
        ("", "us.", "eu."),
    ),
    ModelInfo(
        "Claude 3.5 Haiku", "anthropic.claude-3-5-haiku-20241022-v1:0", "claude-3-5-haiku", 2048, False, ("", "us.")
    ),
)

DEFAULT_MODEL_ID = "global.anthropic.claude-sonnet-4-6"


class Catalog:
    """Looks models up by any of their ids; minimums and 1h support can be overridden per model."""

    def __init__(self, models: tuple[ModelInfo, ...] = MODELS) -> None:
        self.models = models
        self._by_id = {model_id: model for model in models for model_id in model.ids()}

    def find(self, model_id: str) -> ModelInfo | None:
        """The model behind `model_id`, or None when the emulator does not know it."""
        return self._by_id.get(model_id)

    def override(self, base_id: str, *, min_tokens: int | None = None, supports_1h: bool | None = None) -> Catalog:
        """A copy of this catalog with one model's minimum or 1h support changed."""
        if not any(model.base_id == base_id for model in self.models):
            known = ", ".join(model.base_id for model in self.models)
            raise ValueError(f"Unknown model {base_id!r}: choose one of {known}.")
        changed = []
        for model in self.models:
            if model.base_id == base_id:
                model = replace(
                    model,
                    min_tokens=model.min_tokens if min_tokens is None else min_tokens,
                    supports_1h=model.supports_1h if supports_1h is None else supports_1h,
                )
            changed.append(model)
        return Catalog(tuple(changed))
