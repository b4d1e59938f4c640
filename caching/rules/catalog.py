"""The models the rules know: each one's caching minimum and whether it offers a 1h TTL."""

from __future__ import annotations

from dataclasses import dataclass, replace

# Inference-profile prefixes AWS offers for the Claude 4 family (cross-region and global); "" is the in-region id.
PROFILES_4 = ("", "global.", "us.", "eu.", "apac.", "jp.", "au.")


@dataclass(frozen=True)
class ModelInfo:
    """One Claude model as Bedrock exposes it for prompt caching, and where each figure comes from."""

    name: str
    base_id: str
    short: str
    min_tokens: int
    supports_1h: bool
    profiles: tuple[str, ...] = PROFILES_4
    source: str = "minimum and 1h TTL: AWS prompt-caching page and Anthropic's prompt-caching docs (they agree)"
    context_tokens: int = 200_000  # the context window: a longer prompt is rejected
    # Anthropic's tool-use system prompt, added when a request has tools: (auto or none, any or tool) choice, from
    # its "tool use pricing and tokens" page.
    tool_prompt_tokens: tuple[int, int] = (346, 313)

    def ids(self) -> tuple[str, ...]:
        """Every model id this model answers to: in-region and each inference profile."""
        return tuple(prefix + self.base_id for prefix in self.profiles)


MODELS: tuple[ModelInfo, ...] = (
    ModelInfo(
        "Claude Sonnet 4.6",
        "anthropic.claude-sonnet-4-6",
        "claude-sonnet-4-6",
        2048,
        True,
        source="minimum: measured live (no cache at 2,038 tokens, cached at 2,067) and Anthropic's docs say 2,048; "
        "one AWS table says 1,024, so the measured value is kept",
    ),
    ModelInfo(
        "Claude Sonnet 4.5",
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "claude-sonnet-4-5",
        1024,
        True,
        source="minimum: AWS prompt-caching page and Anthropic's docs (an older AWS page said 4,096)",
    ),
    ModelInfo("Claude Opus 4.6", "anthropic.claude-opus-4-6-v1", "claude-opus-4-6", 4096, True),
    ModelInfo("Claude Opus 4.5", "anthropic.claude-opus-4-5-20251101-v1:0", "claude-opus-4-5", 4096, True),
    ModelInfo("Claude Haiku 4.5", "anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5", 4096, True),
    ModelInfo(
        "Claude 3.7 Sonnet",
        "anthropic.claude-3-7-sonnet-20250219-v1:0",
        "claude-3-7-sonnet",
        1024,
        False,
        ("", "us.", "eu.", "apac."),
        source="minimum: AWS prompt-caching page; no 1h TTL (Anthropic's docs list 1h for newer models only)",
    ),
    ModelInfo(
        "Claude 3.5 Haiku",
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "claude-3-5-haiku",
        2048,
        False,
        ("", "us."),
        source="minimum: AWS prompt-caching page (a legacy model); no 1h TTL",
        tool_prompt_tokens=(264, 340),
    ),
)

DEFAULT_MODEL_ID = "global.anthropic.claude-sonnet-4-6"

# Older Claude models Bedrock serves without prompt caching: the supported-models table of AWS's prompt-caching page
# does not list them, so a cachePoint sent to one caches nothing.
LEGACY_IDS = (
    "anthropic.claude-instant-v1",
    "anthropic.claude-v2",
    "anthropic.claude-v2:1",
    "anthropic.claude-3-haiku-20240307-v1:0",
    "anthropic.claude-3-sonnet-20240229-v1:0",
    "anthropic.claude-3-opus-20240229-v1:0",
    "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "anthropic.claude-3-5-sonnet-20241022-v2:0",
)


def is_legacy(model_id: str) -> bool:
    """Whether `model_id` (in-region or behind an inference-profile prefix) is a Claude model that does not cache."""
    return model_id[model_id.find("anthropic.") :] in LEGACY_IDS if "anthropic." in model_id else False


class Catalog:
    """Looks models up by any of their ids; minimums and 1h support can be overridden per model."""

    def __init__(self, models: tuple[ModelInfo, ...] = MODELS) -> None:
        self.models = models
        self._by_id = {model_id: model for model in models for model_id in model.ids()}

    def find(self, model_id: str) -> ModelInfo | None:
        """The model behind `model_id`, or None when the emulator does not know it."""
        return self._by_id.get(model_id)

    def find_or_default(self, model_id: str) -> ModelInfo:
        """The model behind `model_id`, or the default model when the id hides it (an application inference
        profile ARN) or is unknown: its rules are the ones to check a request against."""
        found = self.find(model_id) or self.find(DEFAULT_MODEL_ID)
        assert found is not None  # the default model is in every catalog this project builds
        return found

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
